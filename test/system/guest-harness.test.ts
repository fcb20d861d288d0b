// The system harness itself: hermetic (the machine's /etc/libvirt never
// changes), one libvirtd at a time, hooks from the test's folder, nothing left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { guestDomainXml, requireSystem, startLibvirt } from './harness.js';

const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const ourTemps = (): string[] => listing(tmpdir()).filter((n) => n.startsWith('vnet-sys-'));
const netnsExists = (ns: string): boolean => (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).includes(ns);

test('a second libvirtd is refused while one runs; stop() leaves nothing behind', async (t) => {
  if (!requireSystem(t, { guest: false })) return;
  const etcBefore = listing('/etc/libvirt');
  const tempsBefore = ourTemps();
  const lv = await startLibvirt();
  t.after(() => lv.stop());
  const pid = Number(readFileSync(join(lv.runDir, '..', 'libvirtd.pid'), 'utf8'));
  assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'libvirtd');
  assert.deepEqual(listing('/etc/libvirt'), etcBefore, "the machine's /etc/libvirt changed while libvirtd runs");
  assert.ok(existsSync(join(lv.runDir, 'libvirt-sock')));

  await assert.rejects(startLibvirt({ waitMs: 1000 }), /another system test's libvirtd is running .*one libvirtd at a time/);
  assert.equal((await lv.virsh('version')).code, 0, 'the refused start must not harm the running libvirtd');

  await lv.stop();
  assert.equal(existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'libvirtd', false);
  assert.equal(netnsExists(lv.ns), false, `netns ${lv.ns} left behind`);
  assert.equal(existsSync(lv.runDir), false, `${lv.runDir} left behind`);
  assert.deepEqual(listing('/etc/libvirt'), etcBefore);
  assert.deepEqual(ourTemps(), tempsBefore, 'temporary folders left behind');
  await lv.stop(); // idempotent
});

test('hooks in hooksDir/qemu.d run; a hook failing at prepare aborts virsh start with its stderr', async (t) => {
  if (!requireSystem(t)) return;
  const tmp = tempDir('vnet-sys-hooks-');
  t.after(tmp.cleanup);
  const hooksDir = join(tmp.dir, 'hooks');
  mkdirSync(join(hooksDir, 'qemu.d'), { recursive: true });
  const calls = join(tmp.dir, 'calls');
  writeFileSync(
    join(hooksDir, 'qemu.d', 'probe'),
    `#!/bin/sh\necho "$1 $2 $3" >> ${calls}\n[ "$2 $3" = "prepare begin" ] && { echo "probe hook says no" >&2; exit 1; }\nexit 0\n`,
    { mode: 0o755 },
  );
  const lv = await startLibvirt({ hooksDir });
  t.after(() => lv.stop());
  assert.equal(lv.hooksDir, hooksDir);
  const xml = join(tmp.dir, 'hooked.xml');
  writeFileSync(xml, guestDomainXml({ name: 'hooked', serialLog: join(tmp.dir, 'serial.log'), guestIp: '192.0.2.10/24', peerIp: '192.0.2.1' }));
  assert.equal((await lv.virsh('define', xml)).code, 0);
  const r = await lv.virsh('start', 'hooked');
  assert.notEqual(r.code, 0, 'the hook should have aborted the start');
  assert.match(r.stderr, /probe hook says no/);
  assert.match(readFileSync(calls, 'utf8'), /^hooked prepare begin$/m);
  assert.equal((await lv.virsh('domstate', 'hooked')).stdout.trim(), 'shut off');
});
