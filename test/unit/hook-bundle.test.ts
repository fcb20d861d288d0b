// The hook's CommonJS bundle (what `hook install` points libvirt at) behaves as
// the unbundled entry, and starts without node's ES module loader or perf_hooks.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEntry } from '../../src/hook/install.js';
import { fixturesDir, repoRoot, requireOrSkip, tempDir } from '../helpers.js';

const entry = join(repoRoot, 'dist/src/hook/entry.js');
const bundle = join(repoRoot, 'dist/src/hook/hook.bundle.cjs');
const tap1 = readFileSync(join(fixturesDir, 'hook/tap1.xml'), 'utf8');

/** Calls whose result needs no root: usage, an ignored operation, no record, a record with a bad setting (it fails before the lock). */
const CALLS: { args: string[]; input: string; env?: Record<string, string> }[] = [
  { args: [], input: '' },
  { args: ['bench1', 'start', 'begin', '-'], input: tap1 },
  { args: ['plain', 'prepare', 'begin', '-'], input: readFileSync(join(fixturesDir, 'hook/plain.xml'), 'utf8') },
  { args: ['bench1', 'prepare', 'begin', '-'], input: tap1, env: { VNET_VIRT_HOOK_TIMEOUT: 'soon' } },
];

/** The bundle is there (npm test builds it; in CI its absence fails). */
const haveBundle = (t: TestContext): boolean => requireOrSkip(t, existsSync(bundle), 'no hook bundle: npm test builds it (scripts/bundle-hook.mjs)');

function call(file: string, c: (typeof CALLS)[number], dir: string, preload: string[] = []) {
  const env = { ...process.env, VNET_VIRT_HOOK_CONFIG: join(dir, 'none.conf'), VNET_VIRT_HOOK_LOG: join(dir, 'hook.log'), ...c.env };
  const r = spawnSync(process.execPath, [...preload, file, ...c.args], { input: c.input, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('hook install points at the CommonJS bundle when it is fresh, and the bundle answers every call as the entry does', (t) => {
  if (!haveBundle(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    assert.ok([bundle, entry].includes(defaultEntry()));
    for (const c of CALLS) assert.deepEqual(call(bundle, c, dir), call(entry, c, dir), c.args.join(' '));
    assert.equal(call(bundle, CALLS[3]!, dir).status, 3, 'the bad setting fails the call');
  } finally {
    cleanup();
  }
});

test('the bundle loads no ES module loader and no perf_hooks on a call with a record', (t) => {
  if (!haveBundle(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    const list = join(dir, 'modules');
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const r = call(bundle, CALLS[3]!, dir, ['--require', probe]);
    assert.equal(r.status, 3, r.stderr);
    const loaded = readFileSync(list, 'utf8').split('\n');
    assert.ok(loaded.includes('NativeModule fs'), 'the list is read');
    assert.deepEqual(loaded.filter((m) => /esm\/loader|perf_hooks|rimraf/.test(m)), []);
  } finally {
    cleanup();
  }
});
