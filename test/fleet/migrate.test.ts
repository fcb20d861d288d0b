// Live migration between simulated hosts, each with its own libvirtd and the
// vnet-virt hook: a guest on a tap and one on veth + macvtap move A -> B and
// back while a peer pings them; the hook makes the devices on the destination
// and removes them from the source. Refusals leave the guest running on A and
// nothing on the destination; an aborted transfer leaves nothing either. A
// host that names its bridge differently takes the guest through its host map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { linksIn, repoRoot, runCli, type LinkInfo } from '../helpers.js';
import { guestDomainXml } from '../system/harness.js';
import { SWITCH_IP, requireFleet, startFleet, type SimHost } from './hosts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (what: string): void => {
  process.stderr.write(`# migrate ${new Date().toISOString().slice(11, 19)} ${what}\n`);
};

/** The system tier's initramfs with an /init that configures eth0, then pings the peer for ever (never powers off). */
function loopingInitrd(dir: string): string {
  const root = join(dir, 'initramfs');
  mkdirSync(root, { recursive: true });
  execFileSync('sh', ['-c', `gzip -dc ${JSON.stringify(join(repoRoot, '.guest', 'initrd.gz'))} | (cd ${JSON.stringify(root)} && cpio -id --quiet)`]);
  writeFileSync(join(root, 'init'), `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko"; done
for w in $(cat /proc/cmdline); do
  case $w in vnet.ip=*) ipaddr=\${w#vnet.ip=} ;; vnet.peer=*) peer=\${w#vnet.peer=} ;; esac
done
case $ipaddr in 192.0.2.*/*) ;; *) echo "bad vnet.ip" >/dev/ttyS0; exec sleep 100000 ;; esac
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add "$ipaddr" dev eth0
echo "GUEST-READY $(cat /sys/class/net/eth0/address)" >/dev/ttyS0
while true; do ping -i 0.5 "$peer" >/dev/ttyS0 2>&1; sleep 1; done
`, { mode: 0o755 });
  const out = join(dir, 'initrd-loop.gz');
  execFileSync('sh', ['-c', `cd ${JSON.stringify(root)} && find . | cpio -o -H newc --quiet | gzip -1 > ${JSON.stringify(out)}`]);
  return out;
}

interface Guest {
  name: string;
  uuid: string;
  ip: string;
  devices: string[];
  serial: string;
  mac?: string;
}

const ours = (h: SimHost): LinkInfo[] => linksIn(h.ns).filter((l) => l.ifalias?.startsWith('vnet-virt:'));
const names = (h: SimHost): string[] => ours(h).map((l) => l.ifname).sort();

/** A peer in the switch namespace pinging a guest every 0.2 s until stopped; stop() gives sent and received. */
function pinger(ns: string, ip: string): { stop: () => Promise<{ sent: number; received: number }> } {
  // busybox's ping: busybox-static is installed for the guest anyway, iputils-ping may not be.
  const p: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-i', '0.2', '-W', '1', ip], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  p.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const done = new Promise((r) => p.on('close', r));
  return {
    stop: async () => {
      p.kill('SIGINT');
      await done;
      const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
      assert.ok(m, `no ping summary: ${out.slice(-300)}`);
      return { sent: Number(m[1]), received: Number(m[2]) };
    },
  };
}

test('migrate: live A -> B -> A with a tap and a veth + macvtap guest; refusals, abort, host map', { timeout: 1_200_000 }, async (t) => {
  if (!requireFleet(t, { ssh: false })) return;
  progress('starting hosts A, B, C');
  const fleet = await startFleet([
    { name: 'A', libvirt: true, hook: [] },
    { name: 'B', libvirt: true, hook: [] },
    // C names its bridge br1, and its hook may create bridges: a guest must still not land on an empty one.
    { name: 'C', libvirt: true, bridge: 'br1', hook: ['--create-bridge'] },
  ]);
  t.after(() => fleet.stop());
  const [A, B, C] = fleet.hosts as [SimHost, SimHost, SimHost];
  const initrd = loopingInitrd(fleet.root);
  const figures: string[] = [];

  const guests: Guest[] = [
    { name: 'mig-tap', uuid: randomUUID(), ip: '192.0.2.51', devices: ['t-migtap'], serial: join(fleet.root, 'mig-tap.serial') },
    { name: 'mig-mvt', uuid: randomUUID(), ip: '192.0.2.52', devices: ['mvt-migmvt', 'vl-migmvt', 'vp-migmvt'], serial: join(fleet.root, 'mig-mvt.serial') },
  ];
  const attach: Record<string, string[]> = {
    'mig-tap': ['attach-tap', '--tap', 't-migtap', '--bridge', 'br0'],
    'mig-mvt': ['attach-macvtap', '--lower', 'vl-migmvt', '--veth-peer', 'vp-migmvt', '--bridge', 'br0', '--macvtap', 'mvt-migmvt'],
  };
  for (const g of guests) {
    const file = join(fleet.root, `${g.name}.xml`);
    const xml = guestDomainXml({ name: g.name, uuid: g.uuid, serialLog: g.serial, guestIp: `${g.ip}/24`, peerIp: SWITCH_IP })
      .replace(/<initrd>[^<]*<\/initrd>/, `<initrd>${initrd}</initrd>`)
      // The destination must append to the serial log, not truncate it.
      .replace(/<source path="([^"]*)"\/>/, '<source path="$1" append="on"/>')
      .replace('<memory unit="MiB">256</memory>', '<memory unit="MiB">160</memory>');
    writeFileSync(file, xml);
    const [cmd, ...opts] = attach[g.name]!;
    const r = runCli([cmd!, file, ...opts, '--in-place', '--json']);
    assert.equal(r.code, 0, r.stderr);
    g.mac = (JSON.parse(r.stdout) as { interface: { mac: string } }).interface.mac;
    assert.equal((await A.virsh('define', file)).code, 0);
  }
  progress('booting both guests on A');
  await Promise.all(guests.map(async (g) => {
    const s = await A.virsh('start', g.name);
    assert.equal(s.code, 0, `${s.stderr}\n${A.logs(g.name)}`);
  }));
  const until = Date.now() + 120_000;
  for (const g of guests) {
    while (!(existsSync(g.serial) && /bytes from/.test(readFileSync(g.serial, 'utf8')))) {
      if (Date.now() > until) assert.fail(`${g.name} does not ping: ${existsSync(g.serial) ? readFileSync(g.serial, 'utf8').slice(-500) : 'no serial'}\n${A.logs(g.name)}`);
      await sleep(300);
    }
  }
  const onHost = (h: SimHost, g: Guest): void => {
    const links = ours(h);
    for (const d of g.devices) {
      const l = links.find((x) => x.ifname === d);
      assert.ok(l, `${h.name}: ${d} of ${g.name} missing (vnet-virt devices: ${names(h).join(' ')})\n${h.logs(g.name)}`);
      assert.equal(l.ifalias, `vnet-virt:${g.uuid}`, `${h.name}: ${d} does not carry ${g.name}'s marker`);
    }
    if (g.name === 'mig-mvt') assert.equal(links.find((x) => x.ifname === 'mvt-migmvt')!.address, g.mac, `${h.name}: the macvtap's MAC is not the guest's`);
    else assert.equal(links.find((x) => x.ifname === 't-migtap')!.master, h.bridge);
  };
  const none = (h: SimHost, g: Guest): void => {
    const left = linksIn(h.ns).filter((l) => g.devices.includes(l.ifname)).map((l) => l.ifname);
    assert.deepEqual(left, [], `${h.name}: ${g.name}'s devices left`);
  };
  const state = async (h: SimHost, g: Guest): Promise<string> => (await h.virsh('domstate', g.name)).stdout.trim();
  const migrate = async (from: SimHost, to: SimHost, g: Guest, extra: string[] = []) => {
    const t0 = Date.now();
    const r = await from.virsh('migrate', '--live', '--p2p', g.name, to.tcpUri!, '--migrateuri', `tcp://${to.ip}`, ...extra);
    return { ...r, ms: Date.now() - t0 };
  };
  for (const g of guests) onHost(A, g);

  // 6. A -> B -> A under continuous ping.
  const pings = guests.map((g) => pinger(fleet.switchNs, g.ip));
  await sleep(1000);
  for (const [from, to] of [[A, B], [B, A]] as const) {
    for (const g of guests) {
      progress(`${g.name}: ${from.name} -> ${to.name}`);
      const m = await migrate(from, to, g);
      assert.equal(m.code, 0, `migrate ${g.name} ${from.name} -> ${to.name}, after ${(m.ms / 1000).toFixed(1)} s (load ${loadavg().map((l) => l.toFixed(1)).join(' ')}): ${m.stderr.trim()}\n${from.logs(g.name)}\n${to.logs(g.name)}`);
      figures.push(`${g.name} ${from.name}->${to.name} ${(m.ms / 1000).toFixed(1)} s`);
      assert.equal(await state(to, g), 'running');
      onHost(to, g);
      // The source's release end runs after the guest left: give it a moment (up to 30 s on a loaded machine).
      for (let i = 0; i < 300 && linksIn(from.ns).some((l) => g.devices.includes(l.ifname)); i++) await sleep(100);
      none(from, g);
    }
    await sleep(1500);
  }
  const lost: string[] = [];
  for (const [i, p] of pings.entries()) {
    const { sent, received } = await p.stop();
    assert.ok(received > 0 && sent > 0);
    lost.push(`${guests[i]!.name}: ${sent - received} of ${sent} pings lost`);
  }
  progress(`lost pings: ${lost.join('; ')}`);
  for (const g of guests) {
    const r = execFileSync('ip', ['netns', 'exec', fleet.switchNs, 'busybox', 'ping', '-c', '3', '-W', '2', g.ip], { encoding: 'utf8' });
    assert.match(r, /[1-3] (packets )?received/, `${g.name} does not answer after migrating back`);
  }
  const guestPings = (g: Guest): number => (readFileSync(g.serial, 'utf8').match(/bytes from/g) ?? []).length;
  const before = guests.map(guestPings);
  await sleep(1500);
  guests.forEach((g, i) => assert.ok(guestPings(g) > before[i]!, `${g.name} stopped pinging its peer after migrating back`));

  // 7/refusal: C has no br0 (and create-bridge on): the migration fails, the guest stays on A with its devices.
  const [tap] = guests as [Guest];
  progress('refused migration to C (no br0)');
  const refused = await migrate(A, C, tap);
  assert.notEqual(refused.code, 0, 'migration to a host without the bridge succeeded');
  assert.match(refused.stderr, /vnet-virt: mig-tap: migration refused: bridge br0 does not exist on this host/);
  assert.equal(await state(A, tap), 'running');
  onHost(A, tap);
  assert.deepEqual(names(C), [], 'C keeps devices of a refused migration');
  assert.ok(!linksIn(C.ns).some((l) => l.ifname === 'br0'), 'C created an empty br0 for the incoming guest');
  assert.equal((await C.virsh('list', '--all', '--name')).stdout.trim(), '');

  // Abort mid-transfer: nothing on B, the guest still on A.
  progress('aborted migration to B');
  const slow = migrate(A, B, tap, ['--bandwidth', '1']);
  const abortBy = Date.now() + 30_000;
  let aborted = false;
  while (Date.now() < abortBy) {
    const info = await A.virsh('domjobinfo', tap.name);
    if (/Data processed:\s+[1-9]/.test(info.stdout) || /Memory processed:\s+[1-9]/.test(info.stdout)) {
      aborted = (await A.virsh('domjobabort', tap.name)).code === 0;
      break;
    }
    await sleep(200);
  }
  const slowResult = await slow;
  assert.ok(aborted, `no migration job to abort: ${slowResult.stderr}`);
  assert.notEqual(slowResult.code, 0, 'the aborted migration succeeded');
  assert.equal(await state(A, tap), 'running');
  onHost(A, tap);
  for (let i = 0; i < 300 && names(B).length; i++) await sleep(100);
  assert.deepEqual(names(B), [], `B keeps devices of an aborted migration\n${B.logs(tap.name)}`);
  assert.equal((await B.virsh('list', '--all', '--name')).stdout.trim(), '');

  // 7: with a host map, C takes the guest on br1; A maps it back to br0 on the way home.
  writeFileSync(join(C.vnetEtc, 'host-map.conf'), '# C names the LAN bridge br1\nbridge br0 = br1\n');
  writeFileSync(join(A.vnetEtc, 'host-map.conf'), 'bridge br1 = br0\n');
  progress('mapped migration A -> C -> A');
  const mapped = await migrate(A, C, tap);
  assert.equal(mapped.code, 0, `${mapped.stderr}\n${C.logs(tap.name)}`);
  figures.push(`mig-tap A->C (host map) ${(mapped.ms / 1000).toFixed(1)} s`);
  onHost(C, tap);
  assert.match((await C.virsh('dumpxml', tap.name)).stdout, /<vnet:tap dev=.t-migtap.[^>]*bridge=.br1./);
  const p2 = execFileSync('ip', ['netns', 'exec', fleet.switchNs, 'busybox', 'ping', '-c', '3', '-W', '2', tap.ip], { encoding: 'utf8' });
  assert.match(p2, /[1-3] (packets )?received/);
  const home = await migrate(C, A, tap);
  assert.equal(home.code, 0, `${home.stderr}\n${A.logs(tap.name)}`);
  onHost(A, tap);
  for (let i = 0; i < 300 && names(C).length; i++) await sleep(100);
  assert.deepEqual(names(C), []);
  t.diagnostic(`migration times: ${figures.join('; ')}; ${lost.join('; ')}`);
  progress(`figures: ${figures.join('; ')}`);
});
