// hook install / uninstall / status, always into a temporary hooks directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookScript, isOurs, MARKER, readScript } from '../../src/hook/script.js';
import { hasQemuD, parseVersion } from '../../src/hook/install.js';
import { repoRoot, runCli, tempDir } from '../helpers.js';

const entry = join(repoRoot, 'dist/src/hook/entry.js');
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
