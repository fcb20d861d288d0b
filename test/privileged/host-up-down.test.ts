import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ipIn, linksIn, requireRoot, runCli, tempDir, withNetns } from '../helpers.js';
import { attach, domainFile, link, MARK, names } from './host-lib.js';
import { assertSchema } from '../unit/host-schema.js';

test('tap0 on a bridge: up, up again runs nothing, a deleted tap comes back alone, down, down again', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0', '--bridge', 'br0', '--queues', '2');
  attach('attach-tap', file, '--tap', 'tap1', '--bridge', 'br0');
  await withNetns(async (ns) => {
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    const first = runCli(['up', file, '--netns', ns]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.split('\n').filter(Boolean).length, 10);
    for (const name of ['tap0', 'tap1']) {
      const l = link(ns, name)!;
      assert.equal(l.linkinfo?.info_kind, 'tun');
      assert.equal(l.linkinfo?.info_data?.['type'], 'tap');
      assert.equal(l.linkinfo?.info_data?.['vnet_hdr'], true);
      assert.equal(l.linkinfo?.info_data?.['multi_queue'], name === 'tap0');
      assert.equal(l.master, 'br0');
      assert.equal(l.ifalias, MARK);
      assert.ok(l.flags.includes('UP'));
    }
    const again = runCli(['up', file, '--netns', ns, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assertSchema('up-result', report);
    assert.deepEqual(report.steps, []);
    assert.equal(report.processes, 1);
    assert.equal(runCli(['up', file, '--netns', ns, '--dry-run']).stdout, '');

    ipIn(ns, 'link', 'del', 'tap1');
    const healed = runCli(['up', file, '--netns', ns]);
    assert.equal(healed.code, 0, healed.stderr);
    const guestMac = readFileSync(file, 'utf8').match(/<mac address='([^']+)'\/>\s*<target dev='tap1'/)![1]!;
    assert.deepEqual(healed.stdout.trim().split('\n'), [
      `ip -n ${ns} tuntap add dev tap1 mode tap vnet_hdr`,
      `ip -n ${ns} link set dev tap1 alias ${MARK}`,
      `ip -n ${ns} link set dev tap1 address fe${guestMac.slice(2)}`,
      `ip -n ${ns} link set dev tap1 master br0`,
      `ip -n ${ns} link set dev tap1 up`,
    ]);
    assert.equal(link(ns, 'tap1')?.master, 'br0');

    const dry = runCli(['down', file, '--netns', ns, '--dry-run']);
    assert.equal(dry.stdout, [`ip -n ${ns} link set dev tap1 group 1753514496`, `ip -n ${ns} link set dev tap0 group 1753514496`, `ip -n ${ns} link del group 1753514496`, ''].join('\n'));
    assert.deepEqual(names(ns), ['br0', 'tap0', 'tap1']);
    const gone = runCli(['down', file, '--netns', ns]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(names(ns), ['br0'], 'a bridge vnet-virt did not create stays');
    const twice = runCli(['down', file, '--netns', ns]);
    assert.equal(twice.code, 0, twice.stderr);
    assert.equal(twice.stdout, '');
  });
});

test('veth0 on a bridge with a macvtap on veth1 in every mode: MAC read back equals <mac>', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const modes = ['vepa', 'bridge', 'private', 'passthru', 'source'];
  const files = modes.map((mode) => {
    const file = domainFile(dir, `${mode}.xml`);
    attach('attach-macvtap', file, '--lower', `l-${mode}`, '--veth-peer', `p-${mode}`, '--bridge', 'br0', '--macvtap', `m-${mode}`, '--mode', mode);
    return file;
  });
  await withNetns(async (ns) => {
    const missing = runCli(['up', ...files, '--netns', ns]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /web1: bridge br0 does not exist \(interface m-vepa\)/);
    assert.deepEqual(names(ns), [], 'nothing changed before the refusal');

    const r = runCli(['up', dir, '--netns', ns, '--create-bridge']);
    assert.equal(r.code, 0, r.stderr);
    const links = linksIn(ns);
    for (const [i, mode] of modes.entries()) {
      const mac = readFileSync(files[i]!, 'utf8').match(/<mac address='([^']+)'\/>\s*<target dev='m-/)![1];
      const m = links.find((l) => l.ifname === `m-${mode}`)!;
      assert.equal(m.linkinfo?.info_kind, 'macvtap');
      assert.equal(m.linkinfo?.info_data?.['mode'], mode);
      assert.equal(m.link, `l-${mode}`);
      assert.equal(m.address, mac, `${mode}: the macvtap MAC is the guest MAC`);
      assert.ok(m.flags.includes('UP'));
      const peer = links.find((l) => l.ifname === `p-${mode}`)!;
      assert.equal(peer.master, 'br0');
      assert.equal(peer.link, `l-${mode}`);
      for (const l of [m, peer, links.find((x) => x.ifname === `l-${mode}`)!]) assert.equal(l.ifalias, MARK);
    }
    assert.equal(links.find((l) => l.ifname === 'br0')?.ifalias, MARK);
    assert.equal(runCli(['check', dir, '--netns', ns]).code, 0);

    const down = runCli(['down', dir, '--netns', ns]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(names(ns), [], 'the bridge vnet-virt created goes with its last port');
  });
});

test('the ports vnet-virt puts on a bridge never take over its MAC, so the host\'s own IP on it stays where neighbours cached it', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0', '--bridge', 'br0');
  attach('attach-macvtap', file, '--lower', 'vl0', '--veth-peer', 'vp0', '--bridge', 'br0', '--macvtap', 'mvt0');
  await withNetns(async (ns) => {
    // A bridge whose MAC is its uplink's, as on a host whose IP lives on br0. A Linux bridge takes the
    // lowest MAC among its ports; this one sorts above almost every random MAC, so a port with a
    // random MAC (what ip tuntap and ip link add give) would become the bridge's MAC.
    const UPLINK = 'fc:ff:ff:ff:ff:f0';
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns, 'link', 'add', 'up0', 'address', UPLINK, 'type', 'veth', 'peer', 'name', 'up1');
    ipIn(ns, 'link', 'set', 'up0', 'master', 'br0', 'up');
    ipIn(ns, 'link', 'set', 'br0', 'up');
    assert.equal(link(ns, 'br0')?.address, UPLINK);
    const macs = [...readFileSync(file, 'utf8').matchAll(/<mac address='([^']+)'\/>/g)].map((m) => m[1]!);
    for (const round of [1, 2, 3]) {
      const up = runCli(['up', file, '--netns', ns]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(link(ns, 'br0')?.address, UPLINK, `round ${round}: up moved the bridge's MAC`);
      // libvirt's rule for its own taps: the guest MAC under a first octet of fe.
      assert.equal(link(ns, 'tap0')?.address, `fe${macs[0]!.slice(2)}`);
      assert.equal(link(ns, 'vp0')?.address, `fe${macs[1]!.slice(2)}`);
      assert.equal(link(ns, 'mvt0')?.address, macs[1], 'the macvtap keeps the guest MAC');
      const down = runCli(['down', file, '--netns', ns]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(link(ns, 'br0')?.address, UPLINK, `round ${round}: down moved the bridge's MAC`);
    }
    // A container's veth: its host end joins the same bridge.
    const ct = `vnetct${process.pid}`;
    execFileSync('ip', ['netns', 'add', ct]);
    try {
      const c = runCli(['container', 'veth', ct, '--netns', ns, '--bridge', 'br0', '--host-end', 've-ct0', '--mac', '02:00:00:00:00:07']);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(link(ns, 'br0')?.address, UPLINK, 'a container veth moved the bridge\'s MAC');
      assert.equal(link(ns, 've-ct0')?.address, 'fe:00:00:00:00:07');
    } finally {
      execFileSync('ip', ['netns', 'del', ct]);
    }
  });
});

test('down leaves foreign devices alone: a recorded name that is not ours, and everything unrecorded', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0', '--bridge', 'br0');
  attach('attach-macvtap', file, '--lower', 'veth1', '--veth-peer', 'veth0', '--bridge', 'br0', '--macvtap', 'mvt0');
  await withNetns(async (ns) => {
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    ipIn(ns, 'link', 'set', 'dev', 'tap0', 'alias', 'admin-made', 'master', 'br0', 'up');
    ipIn(ns, 'tuntap', 'add', 'dev', 'other0', 'mode', 'tap');
    const refused = runCli(['up', file, '--netns', ns]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /tap0 does not carry web1's marker \(alias: 'admin-made'\)/);
    assert.equal(runCli(['up', file, '--netns', ns, '--dry-run']).code, 3, 'dry-run refuses the same way');
    assert.deepEqual(names(ns), ['br0', 'other0', 'tap0']);

    // Up with the foreign tap out of the way, then put it back under the recorded name.
    ipIn(ns, 'link', 'set', 'dev', 'tap0', 'name', 'tap0-x');
    assert.equal(runCli(['up', file, '--netns', ns]).code, 0);
    ipIn(ns, 'link', 'del', 'tap0');
    ipIn(ns, 'link', 'set', 'dev', 'tap0-x', 'name', 'tap0');
    // The tap's own properties (its bridge's id moves as ports come and go).
    const own = (): string => {
      const l = link(ns, 'tap0')!;
      return JSON.stringify([l.ifname, l.flags, l.address, l.master, l.ifalias, l.linkinfo?.info_data]);
    };
    const before = own();
    const r = runCli(['down', file, '--netns', ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /web1: tap0 is not ours \(its alias is 'admin-made'\); left as it is \(interface tap0\)/);
    assert.deepEqual(names(ns), ['br0', 'other0', 'tap0']);
    assert.equal(own(), before);
  });
});

test('--adopt takes over a device with the right name: marks it and fixes what it can', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0', '--bridge', 'br0');
  await withNetns(async (ns) => {
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    const r = runCli(['up', file, '--netns', ns, '--adopt']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `ip -n ${ns} link set dev tap0 alias ${MARK}`,
      `ip -n ${ns} link set dev tap0 master br0`,
      `ip -n ${ns} link set dev tap0 up`,
    ]);
    const l = link(ns, 'tap0')!;
    assert.equal(l.master, 'br0');
    assert.equal(l.ifalias, MARK);
    assert.equal(runCli(['check', file, '--netns', ns]).code, 0);
    assert.equal(runCli(['down', file, '--netns', ns]).code, 0);
    assert.deepEqual(names(ns), ['br0']);
  });
});

test('a clash made by hand: up fails for real, is undone, exit 1 with the command and its stderr', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0');
  attach('attach-macvtap', file, '--lower', 'e0', '--macvtap', 'g0', '--mac', '52:54:00:00:00:01', '--mode', 'vepa');
  await withNetns(async (ns) => {
    // Someone else's macvtap already answers to the guest MAC on the same lower device.
    ipIn(ns, 'link', 'add', 'dev', 'e0', 'type', 'veth', 'peer', 'name', 'e1');
    ipIn(ns, 'link', 'set', 'e0', 'up');
    ipIn(ns, 'link', 'add', 'link', 'e0', 'name', 'f0', 'address', '52:54:00:00:00:01', 'type', 'macvtap', 'mode', 'bridge');
    ipIn(ns, 'link', 'set', 'f0', 'up');
    const state = (): string => JSON.stringify(linksIn(ns).map((l) => [l.ifname, l.flags, l.address, l.ifalias, l.master]));
    const before = state();
    const r = runCli(['up', file, '--netns', ns]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`web1: \`ip -n ${ns} link set dev g0 up\` failed: RTNETLINK answers: Address already in use \\(interface g0\\); the 5 steps before it were undone`));
    assert.equal(state(), before, 'the host is as before');
  });
});

test('--netns naming no namespace is a usage error (exit 2)', (t) => {
  if (!requireRoot(t)) return;
  const r = runCli(['check', join('fixtures', 'host', 'web1.xml'), '--netns', 'vnet-test-does-not-exist']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--netns/);
});

test('markers that need quoting in ip -batch (a space) or cannot be batched at all (#) arrive intact', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const files = ['my vm', 'a#b'].map((name, i) => {
    const file = join(dir, `d${i}.xml`);
    writeFileSync(file, `<domain><name>${name}</name><devices><interface type='ethernet'><target dev='q${i}' managed='no'/></interface></devices></domain>\n`);
    return file;
  });
  await withNetns(async (ns) => {
    const r = runCli(['up', ...files, '--netns', ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /alias 'vnet-virt:name:my vm'/);
    assert.equal(link(ns, 'q0')?.ifalias, 'vnet-virt:name:my vm');
    assert.equal(link(ns, 'q1')?.ifalias, 'vnet-virt:name:a#b');
    assert.equal(runCli(['check', ...files, '--netns', ns]).code, 0);
    assert.equal(runCli(['down', ...files, '--netns', ns]).code, 0);
    assert.deepEqual(names(ns), []);
  });
});

test('a fleet run (70 domain files, read under the lock while the probe runs): the same commands as the files read first, up, check, down', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const tpl = domainFile(dir, 'tpl.xml.in');
  attach('attach-tap', tpl, '--tap', 'ft-X', '--bridge', 'br0');
  attach('attach-macvtap', tpl, '--lower', 'fl-X', '--veth-peer', 'fp-X', '--bridge', 'br0', '--macvtap', 'fm-X');
  const text = readFileSync(tpl, 'utf8');
  const fleet = join(dir, 'fleet');
  execFileSync('mkdir', [fleet]);
  const N = 70;
  for (let i = 0; i < N; i++)
    writeFileSync(
      join(fleet, `vm${String(i).padStart(3, '0')}.xml`),
      text
        .replace('<name>web1</name>', `<name>vm${i}</name>`)
        .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>00000000-0000-4000-8000-${String(i).padStart(12, '0')}</uuid>`)
        .replaceAll('-X', `-${i}`)
        .replace(/(<mac address=')([0-9a-f:]{14})[0-9a-f]{2}(')/g, (_, a: string, b: string, c: string) => `${a}${b}${i.toString(16).padStart(2, '0')}${c}`),
    );
  await withNetns(async (ns) => {
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    const start = names(ns);
    const lazy = runCli(['up', fleet, '--netns', ns, '--dry-run']);
    assert.equal(lazy.code, 0, lazy.stderr);
    // stdin among the inputs: every file is read before the run starts (the path for FIFOs and stdin).
    const empty = '<domain><name>nothing</name><devices/></domain>';
    const eager = runCli(['up', fleet, '-', '--netns', ns, '--dry-run'], { input: empty });
    assert.equal(eager.code, 0, eager.stderr);
    assert.equal(lazy.stdout, eager.stdout);
    assert.equal(lazy.stdout.trim().split('\n').length, N * 14, 'a tap (5 commands) and a veth + macvtap (9) each');
    const up = runCli(['up', fleet, '--netns', ns]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, lazy.stdout);
    assert.equal(names(ns).length, start.length + N * 4);
    const check = runCli(['check', fleet, '--netns', ns]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, `${N} domains checked in namespace ${ns}: the host matches the XML\n`);
    ipIn(ns, 'link', 'set', 'dev', 'fm-33', 'down');
    const drift = runCli(['check', fleet, '--netns', ns, '--json']);
    assert.equal(drift.code, 3);
    assert.deepEqual(JSON.parse(drift.stdout).drift.map((d: { file: string; device: string }) => [d.file, d.device]), [[join(fleet, 'vm033.xml'), 'fm-33']]);
    const down = runCli(['down', fleet, '--netns', ns]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(names(ns), start);
  });
});
