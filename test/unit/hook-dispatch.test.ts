// The hook's front door: argument handling and the fast exits (no parse, no command, no heavy import).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionFor, hookMain, RECORD_MARK } from '../../src/hook/dispatch.js';
import { RECORD_NS } from '../../src/domain/record.js';
import { repoRoot, runCli, tempDir } from '../helpers.js';

const entry = join(repoRoot, 'dist/src/hook/entry.js');
const PLAIN = '<domain type="qemu"><name>plain</name><devices/></domain>\n';
const RECORDED = (name: string, body = '<vnet:tap dev="t-x-0" mac="52:54:00:00:00:01"/>') =>
  `<domain type="qemu"><name>${name}</name><metadata><vnet:record xmlns:vnet="${RECORD_NS}">${body}</vnet:record></metadata><devices/></domain>\n`;

test('the fast-path marker is the record namespace', () => {
  assert.equal(RECORD_MARK, RECORD_NS);
});

test('only prepare/begin and release/end have work', () => {
  assert.equal(actionFor('prepare', 'begin'), 'up');
  assert.equal(actionFor('release', 'end'), 'down');
  for (const [op, sub] of [['start', 'begin'], ['started', 'begin'], ['stopped', 'end'], ['prepare', 'end'], ['migrate', 'begin'], ['restore', 'begin'], ['reconnect', 'begin'], ['attach', 'begin']])
    assert.equal(actionFor(op, sub), undefined, `${op} ${sub}`);
});

test('other operations exit 0 without reading stdin', async () => {
  let read = false;
  const err: string[] = [];
  const io = { stdin: () => ((read = true), RECORDED('web1')), stderr: (s: string) => void err.push(s), env: {} };
  // migrate begin has work (src/hook/migrate.ts, test/unit/hook-migrate.test.ts).
  for (const op of ['start', 'started', 'stopped', 'reconnect', 'restore']) {
    const r = await hookMain(['web1', op, op === 'stopped' ? 'end' : 'begin', '-'], io);
    assert.deepEqual([r.code, r.outcome], [0, 'ignored-operation'], op);
  }
  assert.equal(read, false);
  assert.deepEqual(err, []);
});

test('a domain without the record exits 0 after the substring test', async () => {
  const err: string[] = [];
  const r = await hookMain(['plain', 'prepare', 'begin', '-'], { stdin: () => PLAIN, stderr: (s) => void err.push(s), env: {} });
  assert.deepEqual([r.code, r.outcome], [0, 'no-record']);
  assert.deepEqual(err, []);
});

test('too few arguments: exit 2 and a usage line', async () => {
  const err: string[] = [];
  const r = await hookMain(['web1', 'prepare'], { stdin: () => '', stderr: (s) => void err.push(s), env: {} });
  assert.equal(r.code, 2);
  assert.match(err.join(''), /^vnet-virt: hook: usage: <domain> <operation> <sub-operation>/);
  const cli = spawnSync(process.execPath, [entry], { input: '', encoding: 'utf8' });
  assert.equal(cli.status, 2);
  assert.equal(cli.stdout, '');
  assert.match(cli.stderr, /usage/);
});

test('hook run: commander rejects missing arguments with exit 2', () => {
  const r = runCli(['hook', 'run', 'web1', 'prepare']);
  assert.equal(r.code, 2);
});

test('a record that does not parse fails prepare with one line naming the domain, exit 3, nothing on stdout', () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = { ...process.env, VNET_VIRT_HOOK_LOG: join(dir, 'hook.log'), VNET_VIRT_HOOK_CONFIG: join(dir, 'none.conf') };
    const bad = RECORDED('web1').replace('<devices/>', '<devices>');
    const r = spawnSync(process.execPath, [entry, 'web1', 'prepare', 'begin', '-'], { input: bad, encoding: 'utf8', env });
    assert.equal(r.status, 3);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr, /^vnet-virt: web1: .*not well-formed XML/);
    const log = readFileSync(join(dir, 'hook.log'), 'utf8');
    assert.match(log, / web1 prepare\/begin \[\d+\] up begins /);
    assert.match(log, / web1 prepare\/begin \[\d+\] up failed, exit 3 \(\d+ ms\): /);
    const viaCli = runCli(['hook', 'run', 'web1', 'prepare', 'begin', '-'], { input: bad, env });
    assert.deepEqual([viaCli.code, viaCli.stdout, viaCli.stderr], [3, '', r.stderr]);
  } finally {
    cleanup();
  }
});

test('fast exits load only entry.js and dispatch.js and start no process', () => {
  const { dir, cleanup } = tempDir();
  try {
    // Record every module Node resolves, and trap any command run through PATH.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.startsWith('file:')) appendFileSync(${JSON.stringify(join(dir, 'loaded'))}, r.url + '\\n');
  return r;
}\n`,
    );
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + join(dir, 'hooks.mjs'))});\n`);
    for (const cmd of ['ip', 'flock', 'virsh', 'sh'])
      writeFileSync(join(dir, cmd), `#!/bin/sh\necho "$0 $*" >> ${join(dir, 'ran')}\n`), chmodSync(join(dir, cmd), 0o755);
    const env = { PATH: dir, VNET_VIRT_HOOK_LOG: join(dir, 'hook.log') };
    const call = (args: string[], input: string): { status: number | null; modules: string[] } => {
      writeFileSync(join(dir, 'loaded'), '');
      const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), entry, ...args], { input, env, encoding: 'utf8' });
      assert.equal(r.stdout, '');
      const modules = readFileSync(join(dir, 'loaded'), 'utf8')
        .split('\n')
        .filter((u) => u.includes('/dist/'))
        .map((u) => u.replace(/^.*\/dist\//, ''));
      return { status: r.status, modules };
    };
    const fast = ['src/hook/entry.js', 'src/hook/dispatch.js'];
    assert.deepEqual(call(['web1', 'start', 'begin', '-'], RECORDED('web1')), { status: 0, modules: fast });
    // Reading stdin loads only the bounded reader (domain/read.js, and errors.js it throws with).
    const reads = [...fast, 'src/domain/read.js', 'src/errors.js'];
    assert.deepEqual(call(['plain', 'prepare', 'begin', '-'], PLAIN), { status: 0, modules: reads });
    assert.deepEqual(call(['plain', 'release', 'end', '-'], PLAIN), { status: 0, modules: reads });
    assert.equal(existsSync(join(dir, 'ran')), false, 'no command ran');
    assert.equal(existsSync(join(dir, 'hook.log')), false, 'nothing logged');
    // Positive control: with a record the parser and the provisioner are loaded.
    const work = call(['web1', 'prepare', 'begin', '-'], RECORDED('web1', ''));
    assert.equal(work.status, 0);
    assert.ok(work.modules.includes('src/hook/action.js') && work.modules.includes('src/domain/doc.js'), work.modules.join(' '));
  } finally {
    cleanup();
  }
});
