// hook install / uninstall / status, always into a temporary hooks directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORD_NS } from '../../src/domain/record.js';
import { hookScript, isOurs, MARKER, readScript } from '../../src/hook/script.js';
import { defaultEntry, hasQemuD, install, parseVersion, temporaryLocation } from '../../src/hook/install.js';
import { VnetError } from '../../src/errors.js';
import { repoRoot, runCli, tempDir } from '../helpers.js';

// The checkout may itself sit in a temporary folder (a CI clone); only the test of that refusal lifts this.
process.env.VNET_VIRT_ALLOW_TEMPORARY_HOOK = '1';
const entry = defaultEntry();
const FOREIGN = '#!/bin/sh\n# the admin\'s own hook\nexit 0\n';

function withHooksDir(fn: (dir: string) => void): void {
  const { dir, cleanup } = tempDir('vnet-hooks-');
  try {
    fn(dir);
  } finally {
    cleanup();
  }
}

test('libvirt 6.5 and later run qemu.d/; older only qemu', () => {
  assert.deepEqual(parseVersion('libvirtd (libvirt) 9.0.0'), [9, 0, 0]);
  assert.equal(hasQemuD('9.0.0'), true);
  assert.equal(hasQemuD('6.5'), true);
  assert.equal(hasQemuD('6.4.0'), false);
  assert.equal(hasQemuD('5.10.0'), false);
  assert.equal(hasQemuD(undefined), true);
});

test('the script execs node on entry.js with the baked settings, quoted for sh', () => {
  const text = hookScript({ node: '/opt/node 20/bin/node', entry: "/srv/it's/entry.js", settings: { timeout: '3', log: '/var/log/x y.log' }, configFile: '/etc/h.conf' });
  assert.ok(isOurs(text));
  assert.ok(text.startsWith('#!/bin/sh\n'));
  assert.deepEqual(readScript(text), {
    node: '/opt/node 20/bin/node',
    entry: "/srv/it's/entry.js",
    env: { VNET_VIRT_HOOK_CONFIG: '/etc/h.conf', VNET_VIRT_HOOK_LOG: '/var/log/x y.log', VNET_VIRT_HOOK_TIMEOUT: '3' },
  });
  const r = spawnSync('sh', ['-n'], { input: text });
  assert.equal(r.status, 0, 'valid sh');
  assert.equal(isOurs(FOREIGN), false);
  assert.equal(isOurs(`#!/bin/sh\necho "${MARKER}"\n`), false, 'the marker must be a line of its own');
});

test('install writes an executable qemu.d/vnet-virt that runs the hook; status shows it; uninstall removes it', () =>
  withHooksDir((dir) => {
    const log = join(dir, 'hook.log');
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0', '--timeout', '3', '--log', log]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, 'qemu.d', 'vnet-virt');
    assert.match(r.stdout, new RegExp(`^installed ${file} \\(libvirt 9\\.0\\.0`));
    assert.match(r.stdout, /SIGHUP|libvirt finds the hook when it starts/);
    assert.equal(statSync(file).mode & 0o777, 0o755);
    const script = readScript(readFileSync(file, 'utf8'));
    assert.deepEqual(script, { node: process.execPath, entry, env: { VNET_VIRT_HOOK_LOG: log, VNET_VIRT_HOOK_TIMEOUT: '3' } });
    assert.equal(existsSync(join(dir, 'qemu')), false, 'no DIR/qemu for libvirt >= 6.5 (it would run twice)');
    // The installed file is a working hook: fast exit for a plain domain, nothing on stdout.
    const run = spawnSync(file, ['plain', 'prepare', 'begin', '-'], { input: '<domain><name>plain</name></domain>', encoding: 'utf8' });
    assert.deepEqual([run.status, run.stdout, run.stderr], [0, '', '']);

    const again = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0']);
    assert.equal(again.code, 0, 'reinstalling over our own file is fine');

    const st = runCli(['hook', 'status', '--hooks-dir', dir]);
    assert.equal(st.code, 0);
    assert.match(st.stdout, new RegExp(`${file}: installed by vnet-virt; runs ${process.execPath} ${entry}`));
    assert.match(st.stdout, /^hook: installed$/m);

    const un = runCli(['hook', 'uninstall', '--hooks-dir', dir]);
    assert.equal(un.code, 0);
    assert.match(un.stdout, new RegExp(`removed ${file}`));
    assert.equal(existsSync(file), false);
    assert.match(runCli(['hook', 'status', '--hooks-dir', dir]).stdout, /^hook: not installed$/m);
  }));

test('a foreign qemu.d/vnet-virt is refused (exit 3, unchanged) unless --force', () =>
  withHooksDir((dir) => {
    const file = join(dir, 'qemu.d', 'vnet-virt');
    mkdirSync(join(dir, 'qemu.d'));
    writeFileSync(file, FOREIGN, { mode: 0o755 });
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `vnet-virt: ${file}: exists and was not written by vnet-virt; move it away, or pass --force to overwrite it\n`);
    assert.equal(readFileSync(file, 'utf8'), FOREIGN);
    // uninstall never removes it either
    const un = runCli(['hook', 'uninstall', '--hooks-dir', dir]);
    assert.equal(un.code, 0);
    assert.equal(readFileSync(file, 'utf8'), FOREIGN);
    assert.match(un.stdout, /nothing of vnet-virt's installed/);
    const forced = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(isOurs(readFileSync(file, 'utf8')));
  }));

test('older libvirt: installs DIR/qemu when there is none', () =>
  withHooksDir((dir) => {
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '6.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(isOurs(readFileSync(join(dir, 'qemu'), 'utf8')));
    assert.equal(existsSync(join(dir, 'qemu.d', 'vnet-virt')), false);
    // Upgrading libvirt and reinstalling moves the hook to qemu.d and removes our DIR/qemu.
    const up = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0']);
    assert.equal(up.code, 0);
    assert.equal(existsSync(join(dir, 'qemu')), false);
    assert.ok(isOurs(readFileSync(join(dir, 'qemu.d', 'vnet-virt'), 'utf8')));
  }));

test('older libvirt with a foreign DIR/qemu: it is left alone and the line to add is printed', () =>
  withHooksDir((dir) => {
    writeFileSync(join(dir, 'qemu'), FOREIGN, { mode: 0o755 });
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '6.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'qemu'), 'utf8'), FOREIGN);
    const chained = join(dir, 'vnet-virt-qemu');
    assert.ok(isOurs(readFileSync(chained, 'utf8')));
    assert.ok(r.stdout.includes(`add this line to ${join(dir, 'qemu')}`));
    assert.ok(r.stdout.includes(`    '${chained}' "$@" || exit $?\n`));
    // With the line added, status counts the hook as installed.
    writeFileSync(join(dir, 'qemu'), FOREIGN.replace('exit 0', `'${chained}' "$@" || exit $?\nexit 0`));
    assert.match(runCli(['hook', 'status', '--hooks-dir', dir]).stdout, /calls the vnet-virt hook[\s\S]*^hook: installed$/m);
    const un = runCli(['hook', 'uninstall', '--hooks-dir', dir]);
    assert.equal(existsSync(chained), false);
    assert.ok(existsSync(join(dir, 'qemu')));
    assert.match(un.stdout, /remove the line that calls/);
    // --force replaces the foreign DIR/qemu.
    writeFileSync(join(dir, 'qemu'), FOREIGN);
    assert.equal(runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '6.0.0', '--force']).code, 0);
    assert.ok(isOurs(readFileSync(join(dir, 'qemu'), 'utf8')));
  }));

test('an install that fails half-way leaves no temporary file (libvirt would run an executable one in qemu.d/)', () =>
  withHooksDir((dir) => {
    writeFileSync(join(dir, 'qemu'), FOREIGN, { mode: 0o755 });
    // The chained script's path is taken by a directory: the final rename fails.
    mkdirSync(join(dir, 'vnet-virt-qemu', 'x'), { recursive: true });
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '6.0.0']);
    assert.notEqual(r.code, 0);
    assert.deepEqual(readdirSync(dir).sort(), ['qemu', 'vnet-virt-qemu']);
    assert.equal(readFileSync(join(dir, 'qemu'), 'utf8'), FOREIGN);
    // And a successful one leaves nothing beside the hook either.
    rmSync(join(dir, 'vnet-virt-qemu'), { recursive: true });
    assert.equal(runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0']).code, 0);
    assert.deepEqual(readdirSync(join(dir, 'qemu.d')), ['vnet-virt']);
    assert.deepEqual(readdirSync(dir).sort(), ['qemu', 'qemu.d']);
  }));

test('install refuses bad settings before writing anything', () =>
  withHooksDir((dir) => {
    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--timeout', 'soon']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^vnet-virt: --timeout: timeout "soon" is not a number/);
    assert.equal(existsSync(join(dir, 'qemu.d')), false);
  }));

const RECORDED = (name: string, body: string): string =>
  `<domain type="qemu"><name>${name}</name><metadata><vnet:record xmlns:vnet="${RECORD_NS}">${body}</vnet:record></metadata><devices/></domain>\n`;

test('the installed hook with node or vnet-virt gone: calls with no work exit 0; a call with work fails with one line; status exits 3', () =>
  withHooksDir((dir) => {
    // A private copy of the package and a link to node, so that both can be taken away.
    const pkg = join(dir, 'pkg');
    cpSync(join(repoRoot, 'dist/src'), join(pkg, 'dist/src'), { recursive: true });
    mkdirSync(join(dir, 'bin'));
    symlinkSync(process.execPath, join(dir, 'bin/node'));
    const node = join(dir, 'bin/node');
    const copy = join(pkg, 'dist/src/hook/entry.js');
    const log = join(dir, 'hook.log');
    install({ hooksDir: dir, libvirtVersion: '9.0.0', node, entry: copy, settings: { log }, configFile: join(dir, 'none.conf'), allowTemporary: true });
    const hook = join(dir, 'qemu.d', 'vnet-virt');
    const call = (args: string[], input: string) => {
      const r = spawnSync(hook, args, { input, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const noWork: [string[], string][] = [
      [['web1', 'start', 'begin', '-'], RECORDED('web1', '')],
      [['web1', 'stopped', 'end', '-'], RECORDED('web1', '')],
      [['plain', 'prepare', 'begin', '-'], '<domain><name>plain</name><devices/></domain>'],
      [['plain', 'release', 'end', '-'], '<domain><name>plain</name><devices/></domain>'],
    ];
    const ok = { status: 0, stdout: '', stderr: '' };
    // Intact: a recorded domain reaches node (an empty record: nothing to do, logged).
    assert.deepEqual(call(['web1', 'prepare', 'begin', '-'], RECORDED('web1', '')), ok);
    assert.match(readFileSync(log, 'utf8'), / web1 prepare\/begin .* the record lists no interface/);
    assert.equal(runCli(['hook', 'status', '--hooks-dir', dir]).code, 0);

    for (const [gone, what] of [[copy, `vnet-virt's hook (${copy})`], [node, `node (${node})`]] as const) {
      renameSync(gone, `${gone}.away`);
      for (const [args, input] of noWork) assert.deepEqual(call(args, input), ok, `${args.join(' ')} with ${what} missing`);
      for (const op of [['prepare', 'begin'], ['release', 'end']]) {
        const r = call(['web1', ...op, '-'], RECORDED('web1', '<vnet:tap dev="t-web1-0" mac="52:54:00:00:00:01"/>'));
        assert.equal(r.status, 1);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `vnet-virt: web1: cannot run the hook: ${what} is missing; run \`vnet-virt hook install\` again\n`);
      }
      const st = runCli(['hook', 'status', '--hooks-dir', dir]);
      assert.equal(st.code, 3, st.stdout);
      assert.match(st.stdout, /^    broken: .* is missing: VMs with vnet-virt's record cannot start; run `vnet-virt hook install` again$/m);
      assert.match(st.stdout, /^hook: installed, broken$/m);
      assert.match(st.stderr, /^vnet-virt: hook status: the installed hook cannot run/);
      renameSync(`${gone}.away`, gone);
    }
    assert.equal(runCli(['hook', 'status', '--hooks-dir', dir]).code, 0, 'whole again');
  }));

test('a hook entry or node in a temporary folder or an npx cache is refused (exit 3, nothing written) unless --force', () =>
  withHooksDir((dir) => {
    assert.match(temporaryLocation('/tmp/x/entry.js') ?? '', /under \/tmp/);
    assert.match(temporaryLocation('/var/tmp/x/entry.js') ?? '', /under \/var\/tmp/);
    assert.match(temporaryLocation('/srv/x/entry.js', '/srv') ?? '', /under \/srv/, 'os.tmpdir() counts');
    assert.match(temporaryLocation('/root/.npm/_npx/1f2e/node_modules/vnet-virt/dist/src/hook/entry.js') ?? '', /npx/);
    assert.equal(temporaryLocation('/usr/lib/node_modules/vnet-virt/dist/src/hook/entry.js', '/tmp'), undefined);
    assert.equal(temporaryLocation('/usr/bin/node', '/tmp'), undefined);
    const npxEntry = '/root/.npm/_npx/1f2e/node_modules/vnet-virt/dist/src/hook/entry.js';
    assert.throws(
      () => install({ hooksDir: dir, libvirtVersion: '9.0.0', node: '/usr/bin/node', entry: npxEntry }),
      (e: unknown) => e instanceof VnetError && e.code === 'E_HOOK_TEMPORARY' && e.exitCode === 3 && e.file === npxEntry,
    );
    assert.equal(existsSync(join(dir, 'qemu.d')), false);
    install({ hooksDir: dir, libvirtVersion: '9.0.0', node: '/usr/bin/node', entry: npxEntry, force: true });
    assert.equal(readScript(readFileSync(join(dir, 'qemu.d', 'vnet-virt'), 'utf8')).entry, npxEntry);

    // The CLI run from a copy of the package in a temporary folder, as `npx vnet-virt hook install` would.
    const pkg = join(tmpdir(), `vnet-npx-${process.pid}`);
    try {
      cpSync(join(repoRoot, 'dist/src'), join(pkg, 'dist/src'), { recursive: true });
      cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
      symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
      const hooks = join(dir, 'h2');
      const env = { ...process.env };
      delete env.VNET_VIRT_ALLOW_TEMPORARY_HOOK;
      const cli = (...extra: string[]) =>
        spawnSync(process.execPath, [join(pkg, 'dist/src/cli/main.js'), 'hook', 'install', '--hooks-dir', hooks, '--libvirt-version', '9.0.0', ...extra], { encoding: 'utf8', env });
      const r = cli();
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /^vnet-virt: \/.*: the hook entry is under .*, a temporary folder; .*pass --force\n$/);
      assert.equal(existsSync(hooks), false, 'nothing written');
      const forced = cli('--force');
      assert.equal(forced.status, 0, forced.stderr);
      assert.ok(existsSync(join(hooks, 'qemu.d', 'vnet-virt')));
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  }));
