// Real guests under TCG behind a real libvirtd: each topology vnet-virt writes
// must carry a ping from the guest to the bridge, and a macvtap whose MAC is
// not the guest's must start "fine" and leave the guest without network.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, linksIn, runCli, tempDir, type LinkInfo } from '../helpers.js';
import { guestDomainXml, requireSystem, startLibvirt, waitShutoff, type Libvirt } from './harness.js';

const GUEST_IP = '192.0.2.10/24';
const PEER_IP = '192.0.2.1';
const BOOT_TIMEOUT_MS = 90_000;

/** The bridge the guest pings: br0 holding 192.0.2.1/24 in the daemons' namespace. */
function makeBridge(ns: string): void {
  ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
  ipIn(ns, 'addr', 'add', `${PEER_IP}/24`, 'dev', 'br0');
  ipIn(ns, 'link', 'set', 'br0', 'up');
}

/** The host devices the domain's vnet-virt record asks for, made by `vnet-virt up` in the daemons' namespace. */
function provision(ns: string, xmlFile: string): void {
  const r = runCli(['up', '--netns', ns, xmlFile]);
  assert.equal(r.code, 0, `vnet-virt up --netns ${ns}: ${r.stderr}`);
}

/** `vnet-virt down`, then the devices are gone and the bridge is not. */
function deprovision(ns: string, xmlFile: string, devices: string[]): void {
  const r = runCli(['down', '--netns', ns, xmlFile]);
  assert.equal(r.code, 0, `vnet-virt down --netns ${ns}: ${r.stderr}`);
  const left = linksIn(ns).map((l) => l.ifname);
  assert.deepEqual(devices.filter((d) => left.includes(d)), [], 'vnet-virt down left devices behind');
  assert.ok(left.includes('br0'), 'vnet-virt down removed a bridge it did not create');
}

function link(ns: string, name: string): LinkInfo {
  const l = linksIn(ns).find((x) => x.ifname === name);
  assert.ok(l, `${name} missing in ${ns}`);
  return l;
}

interface Guest {
  lv: Libvirt;
  name: string;
  xmlFile: string;
  serialLog: string;
}

/** A libvirtd with br0, and a guest domain XML patched by the given vnet-virt attach command. */
async function prepare(t: TestContext, name: string, attach: string[]): Promise<Guest> {
  const tmp = tempDir('vnet-sys-guest-');
  t.after(tmp.cleanup);
  const lv = await startLibvirt();
  t.after(() => lv.stop());
  makeBridge(lv.ns);
  const xmlFile = join(tmp.dir, `${name}.xml`);
  const serialLog = join(tmp.dir, 'serial.log');
  writeFileSync(xmlFile, guestDomainXml({ name, serialLog, guestIp: GUEST_IP, peerIp: PEER_IP }));
  const r = runCli([attach[0]!, xmlFile, ...attach.slice(1), '--in-place']);
  assert.equal(r.code, 0, `vnet-virt ${attach.join(' ')}: ${r.stderr}`);
  return { lv, name, xmlFile, serialLog };
}

async function start(g: Guest): Promise<void> {
  const def = await g.lv.virsh('define', g.xmlFile);
  assert.equal(def.code, 0, `virsh define: ${def.stderr}\n${g.lv.logs()}`);
  const st = await g.lv.virsh('start', g.name);
  assert.equal(st.code, 0, `virsh start: ${st.stderr}\n${g.lv.logs(g.name)}`);
}

/** Waits for the guest to power off and returns its verdict line (PING-OK / PING-FAIL ...). */
async function verdict(t: TestContext, g: Guest, t0: number): Promise<{ verdict: string; details: string }> {
  const serial = (): string => {
    try {
      return readFileSync(g.serialLog, 'utf8');
    } catch {
      return '(no serial log)';
    }
  };
  await waitShutoff(g.lv, g.name, BOOT_TIMEOUT_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n--- serial log ---\n${serial()}`);
  });
  t.diagnostic(`${g.name}: start to shut off in ${Date.now() - t0} ms`);
  const log = serial();
  const line = log.split(/\r?\n/).find((l) => /^PING-(OK|FAIL)/.test(l)) ?? '(no verdict)';
  return { verdict: line, details: `--- serial log ---\n${log.split('\n').slice(-40).join('\n')}\n${g.lv.logs(g.name)}` };
}

test('a) tap on a bridge (attach-tap): the guest pings the bridge', async (t) => {
  if (!requireSystem(t)) return;
  const mac = '52:54:00:00:0a:10';
  const g = await prepare(t, 'ping-tap', ['attach-tap', '--tap', 'tap0', '--bridge', 'br0', '--mac', mac]);
  provision(g.lv.ns, g.xmlFile);
  assert.equal(link(g.lv.ns, 'tap0').master, 'br0');
  const t0 = Date.now();
  await start(g);
  assert.ok(link(g.lv.ns, 'tap0').flags.includes('LOWER_UP'), 'QEMU did not open tap0 (no LOWER_UP)');
  const v = await verdict(t, g, t0);
  assert.equal(v.verdict, 'PING-OK', v.details);
  deprovision(g.lv.ns, g.xmlFile, ['tap0']);
});

test('b) veth + macvtap (vepa) with the guest MAC (attach-macvtap): the guest pings the bridge', async (t) => {
  if (!requireSystem(t)) return;
  const mac = '52:54:00:00:0b:10';
  const g = await prepare(t, 'ping-macvtap', [
    'attach-macvtap', '--lower', 'veth1', '--macvtap', 'mvt0', '--mode', 'vepa', '--veth-peer', 'veth0', '--bridge', 'br0', '--mac', mac,
  ]);
  provision(g.lv.ns, g.xmlFile);
  const mvt = link(g.lv.ns, 'mvt0');
  assert.equal(mvt.address, mac);
  assert.equal(mvt.linkinfo?.info_kind, 'macvtap');
  assert.equal(link(g.lv.ns, 'veth0').master, 'br0');
  const t0 = Date.now();
  await start(g);
  const v = await verdict(t, g, t0);
  assert.equal(v.verdict, 'PING-OK', v.details);
  deprovision(g.lv.ns, g.xmlFile, ['mvt0', 'veth1', 'veth0']);
});

test('c) veth + macvtap whose MAC differs from the guest MAC: libvirt starts it, the guest has no network', async (t) => {
  if (!requireSystem(t)) return;
  const mac = '52:54:00:00:0c:10';
  const other = '52:54:00:00:0c:99';
  const g = await prepare(t, 'ping-mismatch', [
    'attach-macvtap', '--lower', 'veth1', '--macvtap', 'mvt0', '--mode', 'vepa', '--veth-peer', 'veth0', '--bridge', 'br0', '--mac', mac,
  ]);
  provision(g.lv.ns, g.xmlFile);
  // The drift vnet-virt exists to prevent: someone re-made the macvtap with another MAC.
  ipIn(g.lv.ns, 'link', 'set', 'mvt0', 'down');
  ipIn(g.lv.ns, 'link', 'set', 'mvt0', 'address', other);
  ipIn(g.lv.ns, 'link', 'set', 'mvt0', 'up');
  assert.equal(link(g.lv.ns, 'mvt0').address, other);
  const check = runCli(['check', '--netns', g.lv.ns, g.xmlFile]);
  assert.equal(check.code, 3, `vnet-virt check should report the MAC drift: ${check.stdout}${check.stderr}`);
  assert.match(check.stdout + check.stderr, /mvt0/);
  const t0 = Date.now();
  await start(g); // asserts virsh start exits 0: libvirt sees nothing wrong
  const v = await verdict(t, g, t0);
  assert.equal(v.verdict, 'PING-FAIL', `expected the guest to lose its network\n${v.details}`);
});

test('d) direct on a veth end (attach-direct, vepa): libvirt makes the macvtap, the guest pings the bridge', async (t) => {
  if (!requireSystem(t)) return;
  const mac = '52:54:00:00:0d:10';
  const g = await prepare(t, 'ping-direct', ['attach-direct', '--source', 'veth1', '--mode', 'vepa', '--mac', mac]);
  const ns = g.lv.ns;
  ipIn(ns, 'link', 'add', 'veth1', 'type', 'veth', 'peer', 'name', 'veth0');
  ipIn(ns, 'link', 'set', 'veth0', 'master', 'br0');
  ipIn(ns, 'link', 'set', 'veth0', 'up');
  ipIn(ns, 'link', 'set', 'veth1', 'up');
  const t0 = Date.now();
  await start(g);
  const made = linksIn(ns).filter((l) => l.linkinfo?.info_kind === 'macvtap');
  assert.equal(made.length, 1, `libvirt should have made one macvtap: ${made.map((l) => l.ifname).join(', ')}`);
  assert.equal(made[0]!.address, mac);
  assert.equal(made[0]!.link, 'veth1');
  const v = await verdict(t, g, t0);
  assert.equal(v.verdict, 'PING-OK', v.details);
});
