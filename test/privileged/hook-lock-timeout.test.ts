// The hook's lock time-out is one line: no stack trace after it (run in a throwaway namespace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot, requireRoot, withNetns } from '../helpers.js';
import { RECORD_NS } from '../../src/domain/record.js';

test('hook: a lock held past the time limit gives one line on stderr and no stack trace', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await withNetns(async (ns) => {
    const lock = `io-test-${randomBytes(4).toString('hex')}`;
    const env = { ...process.env, VNET_VIRT_HOOK_LOCK: lock, VNET_VIRT_HOOK_TIMEOUT: '1', VNET_VIRT_HOOK_LOG: '/dev/null' };
    // A holder in the same namespace: the lock is an abstract socket, scoped by it.
    const holder = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e',
      `const { acquireLock } = await import(${JSON.stringify(join(repoRoot, 'dist/src/hook/lock.js'))});
       await acquireLock(${JSON.stringify(lock + '@')}, { waitMs: 5000, holder: 'test' }); process.stdout.write('held\\n'); setTimeout(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const xml = `<domain type="qemu"><name>lk</name><metadata><vnet:record xmlns:vnet="${RECORD_NS}"><vnet:tap dev="t-lk-0" mac="52:54:00:00:00:01"/></vnet:record></metadata><devices/></domain>\n`;
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'dist/src/hook/entry.js'), 'lk', 'prepare', 'begin', '-'], { input: xml, env, encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^vnet-virt: /);
    } finally {
      holder.kill();
    }
  });
});
