// The collection over SSH on three simulated hosts: ansible-playbook in a
// controller namespace runs ansible/examples/fleet.yml against hosts that each
// have their own network and mount namespace, sshd and vnet-virt (this
// worktree's dist/, on the host's PATH). One host also runs a real libvirtd
// and boots the domain the play configured; its guest must ping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, linksIn, repoRoot, type LinkInfo } from '../helpers.js';
import { guestDomainXml } from '../system/harness.js';
import { SWITCH_IP, recap, requireFleet, startFleet, type Fleet, type SimHost } from './hosts.js';

const PLAY = join(repoRoot, 'ansible', 'examples', 'fleet.yml');
const DOMAIN_FILE = 'domains/web1.xml'; // under /etc/vnet-virt on each host
const TAP = 't-web1-0';
const MACVTAP = 'mvt-web1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where a long test is, on stderr as it goes (node --test prints diagnostics only at the end). */
const progress = (what: string): void => {
  process.stderr.write(`# fleet ${new Date().toISOString().slice(11, 19)} ${what}\n`);
};

const ours = (ns: string): LinkInfo[] => linksIn(ns).filter((l) => l.ifalias?.startsWith('vnet-virt:'));

/** The guest MAC vnet-virt wrote for the macvtap into the host's copy of the domain file. */
function macvtapMac(h: SimHost): string {
  const xml = readFileSync(join(h.vnetEtc, DOMAIN_FILE), 'utf8');
  const m = new RegExp(`<vnet:macvtap dev=.${MACVTAP}. mac=.([0-9a-f:]{17}).`).exec(xml);
  assert.ok(m, `no macvtap record in ${h.name}'s domain file:\n${xml}`);
  return m[1]!;
}

function assertDevices(h: SimHost, uuid: string): void {
  const links = linksIn(h.ns);
  const get = (n: string): LinkInfo => {
    const l = links.find((x) => x.ifname === n);
    assert.ok(l, `${h.name}: ${n} missing (have ${links.map((x) => x.ifname).join(' ')})`);
    return l;
  };
  const marker = `vnet-virt:${uuid}`;
  const tap = get(TAP);
  assert.equal(tap.linkinfo?.info_kind, 'tun', `${h.name}: ${TAP} is not a tap`);
  assert.equal(tap.master, 'br0');
  assert.equal(tap.ifalias, marker);
  const mvt = get(MACVTAP);
  assert.equal(mvt.linkinfo?.info_kind, 'macvtap');
  assert.equal(mvt.address, macvtapMac(h), `${h.name}: the macvtap's MAC is not the guest's`);
  assert.equal(mvt.link, 'vl-web1');
  assert.equal(mvt.ifalias, marker);
  assert.equal(get('vp-web1').master, 'br0');
  for (const n of [TAP, MACVTAP, 'vl-web1', 'vp-web1']) assert.ok(get(n).flags.includes('UP'), `${h.name}: ${n} is down`);
}

const changedOf = (stdout: string): Record<string, number> =>
  Object.fromEntries(Object.entries(recap(stdout)).map(([h, c]) => [h, c.changed ?? -1]));

test('fleet: the example play over SSH on three hosts, rerun, drift, a guest, absent, a failing host', { timeout: 1_200_000 }, async (t) => {
  if (!requireFleet(t, { ssh: true })) return;
  progress('starting 3 hosts');
  const fleet: Fleet = await startFleet([
    { name: 'h1', ssh: true, libvirt: true },
    { name: 'h2', ssh: true },
    { name: 'h3', ssh: true },
  ]);
  t.after(() => fleet.stop());
  const [h1, h2, h3] = fleet.hosts as [SimHost, SimHost, SimHost];
  const uuid = randomUUID();
  const base = join(fleet.root, 'web1.xml');
  const serialLog = join(fleet.root, 'web1.serial');
  writeFileSync(base, guestDomainXml({ name: 'web1', uuid, serialLog, guestIp: '192.0.2.50/24', peerIp: SWITCH_IP }));
  const times: string[] = [];
  const play = async (what: string, args: string[] = []): Promise<{ code: number; stdout: string }> => {
    progress(`play: ${what}`);
    const r = await fleet.playbook([PLAY, '-e', `domain_xml_src=${base}`, ...args]);
    times.push(`${what}: ${(r.ms / 1000).toFixed(1)} s`);
    return r;
  };
  const explain = (r: { stdout: string; stderr?: string }): string => `${r.stdout}\n${r.stderr ?? ''}`;

  // 1. The play configures every host.
  const first = await play('first run');
  assert.equal(first.code, 0, explain(first));
  for (const [h, c] of Object.entries(recap(first.stdout))) {
    assert.equal(c.failed, 0, `${h} failed\n${first.stdout}`);
    assert.ok((c.changed ?? 0) >= 5, `${h}: changed=${c.changed}, expected the copy, hook, two interfaces, devices\n${first.stdout}`);
  }
  assert.deepEqual(Object.keys(recap(first.stdout)).sort(), ['h1', 'h2', 'h3']);
  for (const h of fleet.hosts) {
    assertDevices(h, uuid);
    assert.ok(existsSync(join(h.hooksDir, 'qemu.d', 'vnet-virt')), `${h.name}: no hook installed`);
  }

  // 2. Again: nothing to do anywhere.
  const again = await play('rerun');
  assert.equal(again.code, 0, explain(again));
  assert.deepEqual(changedOf(again.stdout), { h1: 0, h2: 0, h3: 0 }, again.stdout);

  // 3. Drift on h2 only: check mode reports it there alone and changes nothing.
  ipIn(h2.ns, 'link', 'del', MACVTAP);
  const drift = await play('--check --diff with drift', ['--check', '--diff']);
  assert.equal(drift.code, 0, explain(drift));
  assert.deepEqual(changedOf(drift.stdout), { h1: 0, h2: 1, h3: 0 }, drift.stdout);
  assert.match(drift.stdout, new RegExp(`\\+ ${MACVTAP}: `), 'the diff names the macvtap it would create');
  assert.ok(!linksIn(h2.ns).some((l) => l.ifname === MACVTAP), 'check mode created the macvtap');

  // 4. h1 runs libvirtd: the domain the play configured starts (the hook the play installed runs) and pings.
  progress('h1: define and start the guest');
  const virsh = (...a: string[]) => h1.exec(['virsh', '-q', '-c', 'qemu:///system', ...a], { timeoutMs: 60_000 });
  const def = await virsh('define', `/etc/vnet-virt/${DOMAIN_FILE}`);
  assert.equal(def.code, 0, def.stderr);
  const start = await virsh('start', 'web1');
  assert.equal(start.code, 0, `${start.stderr}\n${h1.logs('web1')}`);
  const until = Date.now() + 90_000;
  let verdict = '';
  while (Date.now() < until) {
    verdict = existsSync(serialLog) ? (/PING-(OK|FAIL)[^\r\n]*/.exec(readFileSync(serialLog, 'utf8'))?.[0] ?? '') : '';
    const st = await virsh('domstate', 'web1');
    if (verdict && st.stdout.trim() === 'shut off') break;
    await sleep(300);
  }
  assert.equal(verdict, 'PING-OK', `guest on h1: ${verdict || 'no verdict'}\n${existsSync(serialLog) ? readFileSync(serialLog, 'utf8') : ''}\n${h1.logs('web1')}`);
  // The hook's release end took the devices away with the guest.
  assert.deepEqual(ours(h1.ns).map((l) => l.ifname), [], `${h1.name}: devices left after the guest stopped\n${h1.logs()}`);
  assert.equal((await virsh('undefine', 'web1')).code, 0);

  // 5. state absent: nothing of vnet-virt's on any host.
  const absent = await play('state absent', ['-e', 'vnet_state=absent']);
  assert.equal(absent.code, 0, explain(absent));
  for (const h of fleet.hosts) {
    assert.deepEqual(ours(h.ns).map((l) => l.ifname), [], `${h.name}: devices left`);
    for (const n of [TAP, MACVTAP, 'vl-web1', 'vp-web1']) assert.ok(!linksIn(h.ns).some((l) => l.ifname === n), `${h.name}: ${n} left`);
    assert.ok(!existsSync(join(h.hooksDir, 'qemu.d', 'vnet-virt')), `${h.name}: hook left`);
    assert.doesNotMatch(readFileSync(join(h.vnetEtc, DOMAIN_FILE), 'utf8'), /vnet-virt\.dev\/xmlns|t-web1-0|mvt-web1/, `${h.name}: record left`);
  }

  // 6. One host fails (a foreign tap has the name): the others finish; it reports vnet-virt's message.
  ipIn(h3.ns, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap');
  const failing = await play('present with h3 failing');
  assert.notEqual(failing.code, 0);
  const rc = recap(failing.stdout);
  assert.equal(rc.h3?.failed, 1, failing.stdout);
  for (const h of ['h1', 'h2']) assert.equal(rc[h]?.failed, 0, `${h} should finish\n${failing.stdout}`);
  assertDevices(h1, uuid);
  assertDevices(h2, uuid);
  // One line of JSON by default; pretty-printed (up to a '}' alone on a line) with some callbacks.
  const fatal = /fatal: \[h3\]: FAILED! => (\{.*\}|\{\n[\s\S]*?\n\})$/m.exec(failing.stdout);
  assert.ok(fatal, failing.stdout);
  const msg = (JSON.parse(fatal[1]!) as { msg: string }).msg;
  assert.match(msg, /^vnet-virt: .*t-web1-0.*/, `msg is vnet-virt's one line: ${msg}`);
  assert.ok(!msg.includes('\n'));
  assert.deepEqual(ours(h3.ns).map((l) => l.ifname), [], 'the failing host made no device');
  t.diagnostic(`play times: ${times.join('; ')}`);
});
