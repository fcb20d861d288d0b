// The shared-work lock: exclusive, bounded wait, and never stale after a crashed holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { VnetError } from '../../src/errors.js';
import { acquireLock, lockHolder } from '../../src/hook/lock.js';
import { repoRoot, tempDir } from '../helpers.js';

const lockModule = join(repoRoot, 'dist/src/hook/lock.js');

/** A separate process that takes the lock, says "held" and then waits to be killed. */
async function holder(file: string): Promise<import('node:child_process').ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `const { acquireLock } = await import(${JSON.stringify(lockModule)}); await acquireLock(${JSON.stringify(file)}, { waitMs: 5000, holder: 'test' }); console.log('held'); setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(data.toString().trim(), 'held');
  return child;
}

test('a second taker waits, and gets the lock once the first releases it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'sub', 'hook.lock');
    const a = await acquireLock(file, { waitMs: 1000, holder: 'a' });
    assert.equal(await lockHolder(file), `${process.pid} a`);
    await assert.rejects(acquireLock(file, { waitMs: 200 }), (e: unknown) => e instanceof VnetError && e.code === 'E_HOOK_LOCK');
    const t0 = Date.now();
    const bPromise = acquireLock(file, { waitMs: 3000, holder: 'b' });
    setTimeout(() => a.release(), 300);
    const b = await bPromise;
    assert.ok(Date.now() - t0 >= 250, 'b waited for a');
    b.release();
  } finally {
    cleanup();
  }
});

test('a killed holder leaves no lock that blocks the next taker', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'hook.lock');
    const child = await holder(file);
    try {
      assert.equal(await lockHolder(file), `${child.pid} test`);
      await assert.rejects(acquireLock(file, { waitMs: 200 }), /could not take the lock/);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    // The kernel freed the name with the holder: nobody answers.
    assert.equal(await lockHolder(file), undefined);
    const t0 = Date.now();
    const lock = await acquireLock(file, { waitMs: 2000 });
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    lock.release();
  } finally {
    cleanup();
  }
});

test('an abort while waiting rejects with the abort reason and releases nothing it did not take', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'hook.lock');
    const a = await acquireLock(file, { waitMs: 1000 });
    const c = new AbortController();
    const p = acquireLock(file, { waitMs: 5000, signal: c.signal });
    setTimeout(() => c.abort(new Error('time limit')), 100);
    await assert.rejects(p, /time limit/);
    a.release();
    (await acquireLock(file, { waitMs: 500 })).release();
  } finally {
    cleanup();
  }
});
