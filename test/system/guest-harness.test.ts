// The system harness itself: hermetic (the machine's /etc/libvirt never
// changes), one libvirtd at a time, hooks from the test's folder, nothing left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { guestDomainXml, lockPath, requireSystem, startLibvirt } from './harness.js';

const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const ourTemps = (): string[] => listing(tmpdir()).filter((n) => n.startsWith('vnet-sys-'));
const running = (pid: number, comm: string): boolean => {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat.includes(`(${comm})`) && !stat.includes(`(${comm}) Z`);
};
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
  assert.equal(running(pid, 'libvirtd'), false, `libvirtd ${pid} still runs after stop()`);
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

/** Runs a child Node that starts a libvirtd, prints "up NS ROOT", then ends as `how` says; returns NS and ROOT. */
async function childThatDies(how: 'exit' | 'SIGTERM'): Promise<{ ns: string; root: string; code: number | null; pid: number }> {
  const harness = new URL('./harness.js', import.meta.url).href;
  const src = `import { startLibvirt } from ${JSON.stringify(harness)};
const lv = await startLibvirt();
console.log('up', lv.ns, join(lv.runDir, '..'));
if (${JSON.stringify(how)} === 'exit') process.exit(1);
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { join } from 'node:path';\n${src}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('close', () => reject(new Error(`child ended before starting libvirtd: ${err}`)));
  });
  const [, ns, root] = line.split(' ');
  if (how === 'SIGTERM') child.kill('SIGTERM');
  const code = child.exitCode ?? (await new Promise<number | null>((r) => child.on('close', (c) => r(c))));
  return { ns: ns!, root: root!, code, pid: child.pid! };
}

for (const how of ['exit', 'SIGTERM'] as const) {
  test(`a test process that ends by ${how} without stop() leaves no daemon, netns or folder`, async (t) => {
    if (!requireSystem(t, { guest: false })) return;
    const { ns, root, code, pid } = await childThatDies(how);
    assert.equal(code, how === 'exit' ? 1 : 143);
    assert.equal(netnsExists(ns), false, `netns ${ns} left behind`);
    assert.equal(existsSync(root), false, `${root} left behind`);
    const owner = existsSync(lockPath) ? (JSON.parse(readFileSync(lockPath, 'utf8')) as { owner: number }).owner : undefined;
    assert.notEqual(owner, pid, 'the dead test still holds the one-libvirtd lock');
  });
}

test('a hook added after libvirtd started runs only after reload()', async (t) => {
  if (!requireSystem(t)) return;
  const tmp = tempDir('vnet-sys-reload-');
  t.after(tmp.cleanup);
  const lv = await startLibvirt();
  t.after(() => lv.stop());
  const xml = join(tmp.dir, 'late.xml');
  writeFileSync(xml, guestDomainXml({ name: 'late', serialLog: join(tmp.dir, 'serial.log'), guestIp: '192.0.2.10/24', peerIp: '192.0.2.1' }));
  assert.equal((await lv.virsh('define', xml)).code, 0);
  mkdirSync(join(lv.hooksDir, 'qemu.d'), { recursive: true });
  writeFileSync(join(lv.hooksDir, 'qemu.d', 'late'), `#!/bin/sh\n[ "$2 $3" = "prepare begin" ] && { echo "late hook says no" >&2; exit 1; }\nexit 0\n`, {
    mode: 0o755,
  });
  const before = await lv.virsh('start', 'late');
  assert.equal(before.code, 0, `libvirtd noticed a hook added after its start: ${before.stderr}`);
  await lv.virsh('destroy', 'late');
  await lv.reload();
  const after = await lv.virsh('start', 'late');
  assert.notEqual(after.code, 0);
  assert.match(after.stderr, /late hook says no/);
});
