// hook install --reload finds the daemon by what it sees as /etc/libvirt/hooks
// from inside its own mount namespace, and signals only that one. The daemons
// are stand-ins: node processes named libvirtd that report SIGHUP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { daemonsUsing } from '../../src/hook/install.js';
import { requireOrSkip, requireRoot, runCli, tempDir } from '../helpers.js';

const FAKE = `process.title = 'libvirtd';
process.on('SIGHUP', () => console.log('HUP'));
console.log('ready');
setInterval(() => {}, 1000);`;

/**
 * A stand-in daemon; with `hooks`, in a private mount namespace where that
 * folder is /etc/libvirt/hooks (over a private /etc/libvirt, as the system tier does).
 */
async function fakeDaemon(hooks?: { etc: string; dir: string }): Promise<{ child: ChildProcess; pid: number; lines: string[] }> {
  const child = hooks
    ? spawn(
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/libvirt && mount --bind "$1" /etc/libvirt/hooks && exec "$2" -e "$3"', hooks.etc, hooks.dir, process.execPath, FAKE],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
    : spawn(process.execPath, ['-e', FAKE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')));
  await once(child.stdout!, 'data');
  assert.deepEqual(lines, ['ready']);
  return { child, pid: child.pid!, lines };
}

test('--reload signals the daemon that sees the hooks folder as /etc/libvirt/hooks in its mount namespace, and no other', async (t) => {
  if (!requireRoot(t)) return;
  if (!requireOrSkip(t, existsSync('/etc/libvirt'), 'needs /etc/libvirt as a mount point (libvirt-daemon installs it)')) return;
  const { dir, cleanup } = tempDir('vnet-hooks-');
  const etc = tempDir('vnet-etc-');
  mkdirSync(join(etc.dir, 'hooks'));
  const daemons: ChildProcess[] = [];
  try {
    const inside = await fakeDaemon({ etc: etc.dir, dir });
    const outside = await fakeDaemon();
    daemons.push(inside.child, outside.child);
    const found = daemonsUsing(dir);
    assert.ok(found.using.some((d) => d.pid === inside.pid && d.name === 'libvirtd'), JSON.stringify(found));
    assert.ok(!found.using.some((d) => d.pid === outside.pid), 'a daemon that sees the machine\'s /etc/libvirt/hooks does not use the folder');
    assert.ok(found.other.some((d) => d.pid === outside.pid));

    const r = runCli(['hook', 'install', '--hooks-dir', dir, '--libvirt-version', '9.0.0', '--reload'], {
      env: { ...process.env, VNET_VIRT_ALLOW_TEMPORARY_HOOK: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^reloaded libvirtd \\(pid ${inside.pid}\\) with SIGHUP: the hook runs from the next VM start$`, 'm'));
    for (let i = 0; i < 500 && !inside.lines.includes('HUP'); i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(inside.lines, ['ready', 'HUP']);
    assert.deepEqual(outside.lines, ['ready'], 'the other daemon got no signal');

    // Nobody uses a fresh folder: nothing is signalled, and the message says what to do.
    const other = tempDir('vnet-hooks-');
    try {
      const none = runCli(['hook', 'install', '--hooks-dir', other.dir, '--libvirt-version', '9.0.0', '--reload'], {
        env: { ...process.env, VNET_VIRT_ALLOW_TEMPORARY_HOOK: '1' },
      });
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /^no running libvirt daemon uses .* another hooks folder\): the daemon that uses it finds the hook when it starts, or send it SIGHUP/m);
    } finally {
      other.cleanup();
    }
    assert.deepEqual(outside.lines, ['ready']);
  } finally {
    for (const c of daemons) c.kill('SIGKILL');
    cleanup();
    etc.cleanup();
  }
});
