// Hook settings: defaults, config file, environment; bad values are one-line errors.
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { VnetError } from '../../src/errors.js';
import { DEFAULT_CONFIG, envName, loadSettings, parseConfig } from '../../src/hook/settings.js';
import { failureLine, HookTimeout, loggingRunner, settleWithin } from '../../src/hook/action.js';
import { now, run, startRun } from '../../src/host/run.js';

const noFile = (): string => {
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
};

test('defaults: 10 s, the libvirt log directory, current namespace, no bridge creation', () => {
  const s = loadSettings({}, noFile);
  assert.equal(s.timeoutMs, 10_000);
  assert.equal(s.logFile, '/var/log/libvirt/vnet-virt-hook.log');
  assert.equal(s.netns, undefined);
  assert.equal(s.createBridge, false);
  assert.equal(s.configFile, DEFAULT_CONFIG);
  assert.equal(s.sources.timeout, 'default');
});

test('the config file overrides defaults and the environment overrides the file', () => {
  const conf = '# comment\ntimeout = 2.5\nlog = none   # no log\ncreate-bridge = yes\nlock = "/tmp/x.lock"\n';
  const files: string[] = [];
  const s = loadSettings({ VNET_VIRT_HOOK_CONFIG: '/etc/x.conf', [envName('timeout')]: '4' }, (p) => (files.push(p), conf));
  assert.deepEqual(files, ['/etc/x.conf']);
  assert.equal(s.timeoutMs, 4000);
  assert.equal(s.sources.timeout, 'env');
  assert.equal(s.logFile, undefined);
  assert.equal(s.createBridge, true);
  assert.equal(s.lockName, '/tmp/x.lock');
  assert.equal(s.sources['create-bridge'], 'config');
  assert.equal(envName('create-bridge'), 'VNET_VIRT_HOOK_CREATE_BRIDGE');
});

test('unknown keys and bad values are errors naming the file and line or variable', () => {
  assert.throws(
    () => parseConfig('timeout = 3\ntimout = 4\n', '/etc/x.conf'),
    (e: unknown) => e instanceof VnetError && e.code === 'E_HOOK_CONFIG' && e.exitCode === 3 && e.oneLine().startsWith('/etc/x.conf: line 2: unknown key "timout"'),
  );
  assert.throws(() => parseConfig('just words\n', 'f'), /expected "key = value"/);
  assert.throws(
    () => loadSettings({ VNET_VIRT_HOOK_TIMEOUT: 'soon' }, noFile),
    (e: unknown) => e instanceof VnetError && e.oneLine().startsWith('VNET_VIRT_HOOK_TIMEOUT: timeout "soon" is not a number'),
  );
  assert.throws(() => loadSettings({ VNET_VIRT_HOOK_TIMEOUT: '0' }, noFile), /not a number of seconds/);
  assert.throws(() => loadSettings({ VNET_VIRT_HOOK_CREATE_BRIDGE: 'maybe' }, noFile), /not yes or no/);
  assert.throws(() => loadSettings({}, () => 'timeout = -1\n'), (e: unknown) => e instanceof VnetError && e.file === DEFAULT_CONFIG);
});

test('the failure line names the domain once, on one line', () => {
  const e = new VnetError('web1: bridge virbr0 does not exist (interface t-web1-0)', { code: 'E_X', exitCode: 1 });
  assert.equal(failureLine('web1', e), 'vnet-virt: web1: bridge virbr0 does not exist (interface t-web1-0)\n');
  assert.equal(failureLine('web1', new Error('boom\nsecond line')), 'vnet-virt: web1: boom second line\n');
  const planned = new VnetError('web1: bridge br9 does not exist (interface t-web1-0)', { code: 'E_BRIDGE_MISSING', exitCode: 3, file: 'web1', hint: 'give --create-bridge' });
  assert.equal(failureLine('web1', planned), 'vnet-virt: web1: bridge br9 does not exist (interface t-web1-0)\n');
  const conf = new VnetError('unknown key "x"', { code: 'E_HOOK_CONFIG', exitCode: 3, file: '/etc/vnet-virt/hook.conf', where: 'line 2' });
  assert.equal(failureLine('web1', conf), 'vnet-virt: web1: /etc/vnet-virt/hook.conf: line 2: unknown key "x"\n');
  const t = new HookTimeout(2000);
  assert.equal(failureLine('web1', t, t), 'vnet-virt: web1: timed out after 2 s\n');
  assert.equal(failureLine('web1', e, t), 'vnet-virt: web1: timed out after 2 s: bridge virbr0 does not exist (interface t-web1-0)\n');
});

test('settleWithin: an aborted call that never settles becomes a leftovers error after the grace', async () => {
  const c = new AbortController();
  const never = new Promise<never>(() => {});
  const p = settleWithin(never, c.signal, 50);
  c.abort();
  await assert.rejects(p, (e: unknown) => e instanceof VnetError && e.code === 'E_HOOK_STUCK' && e.exitCode === 4);
  const ok = settleWithin(Promise.resolve(7), new AbortController().signal, 50);
  assert.equal(await ok, 7);
});

test('the logging runner hands the early probe to the first matching call only, and logs every command', async () => {
  const lines: string[] = [];
  const argv = ['ip', '-j', '-d', 'link', 'show'];
  const early = { argv, startedAt: now(), result: Promise.resolve({ argv, code: 0, stdout: '[]', stderr: '' }) };
  const runner = loggingRunner((l) => lines.push(l), early);
  const first = await runner(argv);
  assert.deepEqual([first.code, first.stdout], [0, '[]']);
  // The second call really runs: a missing command gives 127.
  const missing = ['vnet-virt-no-such-command-x'];
  const other = await runner(missing);
  assert.equal(other.code, 127);
  assert.match(lines[0]!, /^run ip -j -d link show -> exit 0 \(\d+ ms, started early\)$/);
  assert.match(lines[1]!, /^run vnet-virt-no-such-command-x -> exit 127 \(\d+ ms\): /);
  const batch = await loggingRunner((l) => lines.push(l))(['true', '-batch', '-'], { input: 'link add a\nlink set a up\n' });
  assert.equal(batch.code, 0);
  assert.match(lines[2]!, /^run true -batch - <<< link add a ; link set a up -> exit 0 \(\d+ ms\)$/);
});

test('the logging runner gives the first batch call to the batch started early: the same process gets the input', async () => {
  const lines: string[] = [];
  const argv = ['ip', '-j', '-d', 'link', 'show'];
  // A stand-in for `ip -batch -` that counts its starts in a file and prints its input.
  const dir = mkdtempSync(join(tmpdir(), 'vnet-early-'));
  const starts = join(dir, 'starts');
  const batchArgv = ['sh', '-c', `echo started >> '${starts}'; cat`, '-batch'];
  try {
    const started = startRun(batchArgv);
    const early = { argv, startedAt: now(), result: Promise.resolve({ argv, code: 0, stdout: '[]', stderr: '' }), batch: Promise.resolve(started) };
    const runner = loggingRunner((l) => lines.push(l), early);
    const r = await runner(batchArgv, { input: 'link add a\n' });
    assert.deepEqual([r.code, r.stdout, readFileSync(starts, 'utf8')], [0, 'link add a\n', 'started\n']);
    assert.match(lines[0]!, /^run sh -c .* -batch <<< link add a -> exit 0 \(\d+ ms, started early\)$/);
    // Once used, it is not used again: the next call starts its own process.
    const again = await runner(batchArgv, { input: 'x\n' });
    assert.deepEqual([again.code, again.stdout, readFileSync(starts, 'utf8')], [0, 'x\n', 'started\nstarted\n']);
    assert.doesNotMatch(lines[1]!, /started early/);
    // finish() a second time only waits for the same result.
    assert.equal(await started.finish('more\n'), r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run started early and finished with nothing reads no input; aborting it gives what run gives on abort', async () => {
  const empty = await startRun(['cat']).finish('');
  assert.deepEqual([empty.code, empty.stdout], [0, '']);
  const c = new AbortController();
  const slow = startRun(['sleep', '5']);
  const p = slow.finish('', c.signal);
  c.abort();
  const [a, b] = await Promise.all([p, run(['sleep', '5'], { signal: AbortSignal.abort() })]);
  assert.equal(a.code, 127);
  assert.deepEqual([a.code, a.stderr], [b.code, b.stderr]);
});

test('the logging runner gives a lone command of the early batch\'s program to that batch as its one line; not one with an option first', async () => {
  const lines: string[] = [];
  const argv = ['vnet-fake-ip', '-j', '-d', 'link', 'show'];
  const inputs: string[] = [];
  const started = { argv: ['vnet-fake-ip', '-batch', '-'], finish: (input = '') => (inputs.push(input), Promise.resolve({ argv: ['vnet-fake-ip', '-batch', '-'], code: 0, stdout: '', stderr: '' })) };
  const early = { argv, startedAt: now(), result: Promise.resolve({ argv, code: 0, stdout: '[]', stderr: '' }), batch: Promise.resolve(started), by: 'the hook script' };
  const runner = loggingRunner((l) => lines.push(l), early);
  // An option first (another probe): not a batch line; the stand-in program does not exist, so it fails as a process.
  assert.equal((await runner(['vnet-fake-ip', '-j', 'link', 'show', 'dev', 'x'])).code, 127);
  const r = await runner(['vnet-fake-ip', 'link', 'del', 'dev', 'x y']);
  assert.deepEqual([r.code, r.argv, inputs], [0, ['vnet-fake-ip', 'link', 'del', 'dev', 'x y'], ['link del dev "x y"\n']]);
  assert.match(lines[1]!, /^run vnet-fake-ip link del dev 'x y' -> exit 0 \(\d+ ms, started early by the hook script, as its one line\)$/);
  // Used once: the next lone command is a process of its own.
  assert.equal((await runner(['vnet-fake-ip', 'link', 'del', 'dev', 'z'])).code, 127);
});
