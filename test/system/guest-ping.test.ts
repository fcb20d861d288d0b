// Real guests under TCG behind one real libvirtd, booted together (each case
// on its own bridge and /28; see guests.ts): each topology vnet-virt writes
// must carry a ping from the guest to its bridge; a macvtap whose MAC is not
// the guest's must start "fine" and leave the guest without network; and a
// sibling macvlan on the guest's lower device is isolated from the guest
// exactly as the macvtap mode says, which lint --host's vepa-needs-hairpin
// must agree with.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, linksIn, tempDir } from '../helpers.js';
import { guestDomainXml, requireSystem, startLibvirt, type Libvirt } from './harness.js';
import {
  bumpIfindex, cli, collect, defineAndStart, link, makeBridge, requireCurrentGuest, Slots, subnet,
  type Booted, type Subnet,
} from './guests.js';

/** From `virsh start` to shut off, once the guest has a slot. */
const BOOT_TIMEOUT_MS = 300_000;
/** Guests running at once (TCG: each wants a core while it boots). */
const PARALLEL = Math.max(1, Number.parseInt(process.env.VNET_SYS_GUESTS ?? "", 10) || 6);

interface Env {
  lv: Libvirt;
  dir: string;
  slots: Slots;
  /** Opens once the hook case's domain has started and the hook is uninstalled again. */
  hookGate: Promise<void>;
}

interface Guest {
  name: string;
  xmlFile: string;
  serialLog: string;
  net: Subnet;
}

/** Guest `name` on subnet k: its bridge made, its domain XML written (not defined). */
function newGuest(env: Env, name: string, k: number, o: { peers?: string[]; uuid?: string } = {}): Guest {
  const net = subnet(k);
  makeBridge(env.lv.ns, net);
  const xmlFile = join(env.dir, `${name}.xml`);
  const serialLog = join(env.dir, `${name}.serial`);
  writeFileSync(
    xmlFile,
    guestDomainXml({ name, serialLog, guestIp: net.guestCidr, peerIp: net.bridgeIp, ...(o.peers ? { peers: o.peers } : {}), ...(o.uuid ? { uuid: o.uuid } : {}) }),
  );
  return { name, xmlFile, serialLog, net };
}

async function vnet(...args: string[]): Promise<void> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `vnet-virt ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
}

/** `vnet-virt CMD FILE ARGS --in-place` on the guest's XML. */
const attach = (g: Guest, cmd: string, ...args: string[]): Promise<void> => vnet(cmd, g.xmlFile, ...args, '--in-place');

const up = (env: Env, g: Guest): Promise<void> => vnet('up', '--netns', env.lv.ns, g.xmlFile);

/** `vnet-virt down`, then the devices are gone and the bridge is not. */
async function downAndGone(env: Env, g: Guest, devices: string[]): Promise<void> {
  await vnet('down', '--netns', env.lv.ns, g.xmlFile);
  const left = linksIn(env.lv.ns).map((l) => l.ifname);
  assert.deepEqual(devices.filter((d) => left.includes(d)), [], 'vnet-virt down left devices behind');
  assert.ok(left.includes(g.net.bridge), 'vnet-virt down removed a bridge it did not create');
}

/**
 * Defines and starts the guest when the hook gate is open and a slot is free,
 * runs afterStart while it runs, and returns what it said once it shut off.
 */
async function boot(env: Env, t: TestContext, g: Guest, o: { afterStart?: () => Promise<void> | void; gate?: boolean } = {}): Promise<Booted> {
  if (o.gate !== false) await env.hookGate;
  return env.slots.use(async () => {
    const t0 = Date.now();
    await defineAndStart(env.lv, g.name, g.xmlFile);
    await o.afterStart?.();
    const b = await collect(env.lv, g.name, g.serialLog, t0, BOOT_TIMEOUT_MS);
    t.diagnostic(`${g.name}: start to shut off in ${b.ms} ms`);
    return b;
  });
}

const pingOk = (b: Booted): void => assert.equal(b.verdict, 'PING-OK', b.details);
const isMarked = (ns: string, dev: string): boolean => (link(ns, dev).ifalias ?? '').startsWith('vnet-virt:');

/** lint --host on the live devices of the daemons' namespace: the rule ids it reports for the file. */
async function lintHost(env: Env, g: Guest): Promise<string[]> {
  const r = await cli('lint', '--host', '--netns', env.lv.ns, '--no-schema', '--format', 'json', g.xmlFile);
  assert.ok(r.code === 0 || r.code === 3, `lint --host: exit ${r.code}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { findings: { rule: string }[] };
  return out.findings.map((f) => f.rule);
}

/** The sibling-macvlan matrix: the guest's macvtap and a macvlan in the same mode share one veth end. */
interface SiblingCase {
  tag: string;
  k: number;
  mode: 'vepa' | 'private' | 'bridge';
  hairpin: boolean;
  /** What the kernel does: the guest reaches the sibling. */
  reaches: boolean;
}
const MATRIX: SiblingCase[] = [
  { tag: 'vepa', k: 4, mode: 'vepa', hairpin: false, reaches: false },
  { tag: 'vepahp', k: 5, mode: 'vepa', hairpin: true, reaches: true },
  { tag: 'priv', k: 6, mode: 'private', hairpin: false, reaches: false },
  { tag: 'privhp', k: 7, mode: 'private', hairpin: true, reaches: false },
  { tag: 'bridge', k: 8, mode: 'bridge', hairpin: false, reaches: true },
];

test('guests booted together in one libvirtd: every topology pings; a sibling macvlan is isolated as the mode says', { concurrency: true }, async (t) => {
  if (!requireSystem(t) || !requireCurrentGuest(t)) return;
  const work = tempDir('vnet-sys-guests-');
  t.after(work.cleanup);
  const hooks = tempDir('vnet-sys-hooks-');
  t.after(hooks.cleanup);
  // The hook is there when libvirtd starts (it finds hooks only then); the hook case uninstalls it once its domain runs.
  await vnet('hook', 'install', '--hooks-dir', hooks.dir, '--lock', `vnet-sys-${randomBytes(4).toString('hex')}`);
  const lv = await startLibvirt({ hooksDir: hooks.dir });
  t.after(() => lv.stop());
  if (!bumpIfindex(lv.ns, randomInt(1000, 3000))) t.diagnostic('no ifb devices here: interface numbers start low, /dev/tapN may clash with another namespace');
  let openGate!: () => void;
  const env: Env = { lv, dir: work.dir, slots: new Slots(PARALLEL), hookGate: new Promise<void>((r) => (openGate = r)) };
  const ns = lv.ns;
  const t0 = Date.now();

  const cases: Promise<void>[] = [];
  const matrix: string[] = [];

  cases.push(t.test('hook: a macvtap the installed hook made at prepare carries the guest\'s ping', async (st) => {
    try {
      const g = newGuest(env, 'ping-hook', 12, { uuid: randomUUID() });
      const mac = '52:54:00:5a:0c:10';
      const devs = ['mvt-hk', 'vl-hk', 'vp-hk'];
      await attach(g, 'attach-macvtap', '--lower', 'vl-hk', '--macvtap', 'mvt-hk', '--veth-peer', 'vp-hk', '--bridge', g.net.bridge, '--mac', mac);
      assert.deepEqual(linksIn(ns).map((l) => l.ifname).filter((n) => devs.includes(n)), [], 'attach alone creates nothing');
      const b = await boot(env, st, g, {
        gate: false,
        afterStart: async () => {
          const mvt = link(ns, 'mvt-hk');
          assert.equal(mvt.address, mac, 'the hook made the macvtap with the guest MAC');
          assert.ok(mvt.flags.includes('LOWER_UP'), `QEMU has the macvtap open: ${mvt.flags.join(',')}`);
          assert.ok(isMarked(ns, 'mvt-hk'), 'the hook marked its macvtap');
          assert.equal(link(ns, 'vp-hk').master, g.net.bridge);
          assert.match(readFileSync(join(lv.logDir, 'vnet-virt-hook.log'), 'utf8'), / ping-hook prepare\/begin \[\d+\] up done/);
          await vnet('hook', 'uninstall', '--hooks-dir', hooks.dir);
          openGate();
        },
      });
      pingOk(b);
      // The hook is gone, so release end removed nothing: down finds the hook's devices by their marker.
      await downAndGone(env, g, devs);
    } finally {
      if (existsSync(join(hooks.dir, 'qemu.d', 'vnet-virt'))) await cli('hook', 'uninstall', '--hooks-dir', hooks.dir);
      openGate();
    }
  }));

  cases.push(t.test('a) tap on a bridge (attach-tap, up): the guest pings the bridge', async (st) => {
    const g = newGuest(env, 'ping-tap', 1);
    await attach(g, 'attach-tap', '--tap', 'tap-a', '--bridge', g.net.bridge, '--mac', '52:54:00:5a:01:10');
    await up(env, g);
    assert.equal(link(ns, 'tap-a').master, g.net.bridge);
    const b = await boot(env, st, g, {
      afterStart: () => assert.ok(link(ns, 'tap-a').flags.includes('LOWER_UP'), 'QEMU did not open tap-a (no LOWER_UP)'),
    });
    pingOk(b);
    await downAndGone(env, g, ['tap-a']);
  }));

  cases.push(t.test('c) veth + macvtap whose MAC differs from the guest MAC: libvirt starts it, the guest has no network', async (st) => {
    const g = newGuest(env, 'ping-mismatch', 2);
    const other = '52:54:00:5a:02:99';
    await attach(g, 'attach-macvtap', '--lower', 'vl-c', '--macvtap', 'mvt-c', '--mode', 'vepa', '--veth-peer', 'vp-c', '--bridge', g.net.bridge, '--mac', '52:54:00:5a:02:10');
    await up(env, g);
    // The drift vnet-virt exists to prevent: someone re-made the macvtap with another MAC.
    ipIn(ns, 'link', 'set', 'mvt-c', 'down');
    ipIn(ns, 'link', 'set', 'mvt-c', 'address', other);
    ipIn(ns, 'link', 'set', 'mvt-c', 'up');
    assert.equal(link(ns, 'mvt-c').address, other);
    const check = await cli('check', '--netns', ns, g.xmlFile);
    assert.equal(check.code, 3, `vnet-virt check should report the MAC drift: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout + check.stderr, /mvt-c/);
    const b = await boot(env, st, g); // virsh start exits 0: libvirt sees nothing wrong
    assert.equal(b.verdict, 'PING-FAIL', `expected the guest to lose its network\n${b.details}`);
  }));

  cases.push(t.test('d) direct on a veth end (attach-direct, vepa): libvirt makes the macvtap, the guest pings the bridge', async (st) => {
    const g = newGuest(env, 'ping-direct', 3);
    const mac = '52:54:00:5a:03:10';
    await attach(g, 'attach-direct', '--source', 'vd1-d', '--mode', 'vepa', '--mac', mac);
    ipIn(ns, 'link', 'add', 'vd1-d', 'type', 'veth', 'peer', 'name', 'vd0-d');
    ipIn(ns, 'link', 'set', 'vd0-d', 'master', g.net.bridge);
    ipIn(ns, 'link', 'set', 'vd0-d', 'up');
    ipIn(ns, 'link', 'set', 'vd1-d', 'up');
    const b = await boot(env, st, g, {
      afterStart: () => {
        const made = linksIn(ns).filter((l) => l.linkinfo?.info_kind === 'macvtap' && l.link === 'vd1-d');
        assert.equal(made.length, 1, `libvirt should have made one macvtap on vd1-d: ${made.map((l) => l.ifname).join(', ')}`);
        assert.equal(made[0]!.address, mac);
      },
    });
    pingOk(b);
  }));

  for (const c of MATRIX) {
    const label = `${c.mode}${c.hairpin ? ' with hairpin on the bridge port' : ''}`;
    cases.push(t.test(`sibling macvlan, ${label}: the guest pings the bridge and ${c.reaches ? 'reaches' : 'cannot reach'} the sibling; lint --host agrees`, async (st) => {
      const g = newGuest(env, `sib-${c.tag}`, c.k, { peers: [subnet(c.k).siblingIp] });
      const net = g.net;
      const [mvt, lower, peer, sib] = [`mvt-${c.tag}`, `vl-${c.tag}`, `vp-${c.tag}`, `sib-${c.tag}`];
      const mac = `52:54:00:5a:${c.k.toString(16).padStart(2, '0')}:10`;
      await attach(g, 'attach-macvtap', '--lower', lower, '--macvtap', mvt, '--mode', c.mode, '--veth-peer', peer, '--bridge', g.net.bridge, '--mac', mac);
      await up(env, g);
      const m = link(ns, mvt);
      assert.equal(m.address, mac);
      assert.equal(m.linkinfo?.info_data?.['mode'], c.mode);
      assert.equal(link(ns, peer).master, g.net.bridge);
      if (c.hairpin) spawnOk('bridge', '-n', ns, 'link', 'set', 'dev', peer, 'hairpin', 'on');
      // The sibling: a macvlan in the same mode on the same veth end, in a namespace of its own holding an address.
      const sibNs = `vnet-sib-${randomBytes(4).toString('hex')}`;
      spawnOk('ip', 'netns', 'add', sibNs);
      st.after(() => spawnSync('ip', ['netns', 'del', sibNs]));
      ipIn(ns, 'link', 'add', 'link', lower, 'name', sib, 'type', 'macvlan', 'mode', c.mode);
      ipIn(ns, 'link', 'set', sib, 'netns', sibNs);
      ipIn(sibNs, 'addr', 'add', net.siblingCidr, 'dev', sib);
      ipIn(sibNs, 'link', 'set', sib, 'up');
      ipIn(sibNs, 'link', 'set', 'lo', 'up');

      const advises = (await lintHost(env, g)).includes('vepa-needs-hairpin');
      const b = await boot(env, st, g);
      pingOk(b);
      assert.equal(b.peers.get(net.bridgeIp), 'OK', b.details);
      const reached = b.peers.get(net.siblingIp);
      assert.ok(reached, `the guest said nothing about the sibling ${net.siblingIp}\n${b.details}`);
      matrix.push(`${label}: guest -> sibling ${reached === 'OK' ? 'reaches' : 'isolated'}; lint vepa-needs-hairpin ${advises ? 'reported' : 'silent'}`);
      assert.equal(reached === 'OK', c.reaches, `kernel: ${label} should ${c.reaches ? '' : 'not '}let the guest reach the sibling\n${b.details}`);
      // lint's advice is about vepa: it fires exactly when a vepa guest is cut off from its siblings.
      assert.equal(advises, c.mode === 'vepa' && reached !== 'OK', `lint --host vepa-needs-hairpin ${advises ? 'fired' : 'was silent'} for ${label}`);
      await downAndGone(env, g, [mvt, lower, peer]);
    }));
  }

  cases.push(t.test('passthru macvtap (attach-macvtap, up): the guest pings the bridge; the kernel allows no sibling', async (st) => {
    const g = newGuest(env, 'ping-passthru', 9);
    const mac = '52:54:00:5a:09:10';
    await attach(g, 'attach-macvtap', '--lower', 'vl-pt', '--macvtap', 'mvt-pt', '--mode', 'passthru', '--veth-peer', 'vp-pt', '--bridge', g.net.bridge, '--mac', mac);
    await up(env, g);
    const m = link(ns, 'mvt-pt');
    assert.equal(m.address, mac, 'up sets the guest MAC on a passthru macvtap');
    assert.equal(m.linkinfo?.info_data?.['mode'], 'passthru');
    const sib = spawnSync('ip', ['-n', ns, 'link', 'add', 'link', 'vl-pt', 'name', 'sib-pt', 'type', 'macvlan', 'mode', 'bridge'], { encoding: 'utf8' });
    assert.notEqual(sib.status, 0, 'the kernel let a sibling macvlan share a passthru lower device');
    pingOk(await boot(env, st, g));
    await downAndGone(env, g, ['mvt-pt', 'vl-pt', 'vp-pt']);
  }));

  cases.push(t.test('attach-tap --provision (no up): the tap exists, marked, before the XML is written; the guest pings', async (st) => {
    const g = newGuest(env, 'ping-prov-tap', 10);
    const before = readFileSync(g.xmlFile);
    const bad = await cli('attach-tap', g.xmlFile, '--tap', 'tap-pv', '--bridge', 'nobr-pv', '--provision', '--netns', ns, '--in-place');
    assert.notEqual(bad.code, 0, 'a missing bridge must fail the provisioning');
    assert.deepEqual(readFileSync(g.xmlFile), before, 'a failed --provision must leave the XML as it was');
    assert.ok(!linksIn(ns).some((l) => l.ifname === 'tap-pv'), 'a failed --provision left its tap');
    await attach(g, 'attach-tap', '--tap', 'tap-pv', '--bridge', g.net.bridge, '--mac', '52:54:00:5a:0a:10', '--provision', '--netns', ns);
    assert.equal(link(ns, 'tap-pv').master, g.net.bridge);
    assert.ok(isMarked(ns, 'tap-pv'), 'the provisioned tap carries the marker');
    assert.match(readFileSync(g.xmlFile, 'utf8'), /<target dev="tap-pv" managed="no"\/>/);
    const b = await boot(env, st, g, { afterStart: () => assert.ok(link(ns, 'tap-pv').flags.includes('LOWER_UP')) });
    pingOk(b);
    await downAndGone(env, g, ['tap-pv']);
  }));

  cases.push(t.test('attach-macvtap --provision (no up): veth + macvtap exist with the guest MAC; the guest pings', async (st) => {
    const g = newGuest(env, 'ping-prov-mvt', 11);
    const mac = '52:54:00:5a:0b:10';
    await attach(g, 'attach-macvtap', '--lower', 'vl-pv', '--macvtap', 'mvt-pv', '--veth-peer', 'vp-pv', '--bridge', g.net.bridge, '--mac', mac, '--provision', '--netns', ns);
    const m = link(ns, 'mvt-pv');
    assert.equal(m.address, mac);
    assert.equal(m.linkinfo?.info_kind, 'macvtap');
    assert.equal(m.link, 'vl-pv');
    assert.ok(isMarked(ns, 'mvt-pv') && isMarked(ns, 'vl-pv'), 'the provisioned devices carry the marker');
    assert.equal(link(ns, 'vp-pv').master, g.net.bridge);
    pingOk(await boot(env, st, g));
    await downAndGone(env, g, ['mvt-pv', 'vl-pv', 'vp-pv']);
  }));

  await Promise.all(cases);
  t.diagnostic(`${cases.length} cases, up to ${PARALLEL} guests at once: ${Date.now() - t0} ms`);
  for (const row of matrix.sort()) t.diagnostic(`sibling matrix: ${row}`);
});

function spawnOk(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}
