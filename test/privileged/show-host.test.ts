// show --host on real devices: one of each kind in a throwaway namespace (a
// tap, a veth + macvtap, a hand-made macvtap, a container's veth and macvlan),
// with drift made on purpose (a wrong MAC, a device set down, a missing source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ipIn, requireRoot, runCli, withNetns } from '../helpers.js';

const line = (out: string, what: string): string => {
  const found = out.split('\n').find((l) => l.includes(what));
  assert.ok(found, `no line with '${what}' in:\n${out}`);
  return found!;
};

test('show --host marks each device as the host has it, and draws a container namespace with the devices crossing its wall', async (t) => {
  if (!requireRoot(t)) return;
  const ctr = `vnet-test-ctr-${randomBytes(3).toString('hex')}`;
  await withNetns(async (ns) => {
    execFileSync('ip', ['netns', 'add', ctr]);
    try {
      const up = runCli(['up', 'fixtures/show/tap', 'fixtures/show/macvtap-veth', '--netns', ns, '--create-bridge']);
      assert.equal(up.code, 0, up.stderr);
      // Drift: the macvtap gets another MAC, the tap is set down.
      ipIn(ns, 'link', 'set', 'mvt-db1', 'address', '52:54:00:99:99:99');
      ipIn(ns, 'link', 'set', 't-web1-0', 'down');
      // A macvtap made by hand (the seed's shape), with the guest's MAC and no marker.
      ipIn(ns, 'link', 'add', 'hv1', 'type', 'veth', 'peer', 'name', 'hv0');
      ipIn(ns, 'link', 'set', 'hv0', 'master', 'br0', 'up');
      ipIn(ns, 'link', 'set', 'hv1', 'up');
      ipIn(ns, 'link', 'add', 'link', 'hv1', 'name', 'mvt-hand', 'address', '52:54:00:12:34:56', 'type', 'macvtap', 'mode', 'bridge');
      ipIn(ns, 'link', 'set', 'mvt-hand', 'up');
      // A container: a veth across the wall onto br0, and a macvlan on hv1.
      const veth = runCli(['container', 'veth', ctr, '--netns', ns, '--bridge', 'br0', '--container-end', 'cv0']);
      assert.equal(veth.code, 0, veth.stderr);
      const mvl = runCli(['container', 'macvlan', ctr, '--netns', ns, '--parent', 'hv1', '--name', 'cm0']);
      assert.equal(mvl.code, 0, mvl.stderr);

      const r = runCli(['show', 'fixtures/show/tap', 'fixtures/show/macvtap-veth', 'fixtures/show/hand-made', 'fixtures/show/direct', '--host', '--netns', ns]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.match(line(out, 'tap t-web1-0'), /\[vnet-virt\] ✗ down/);
      assert.match(line(out, 'macvtap mvt-db1'), /wrong MAC 52:54:00:99:99:99/);
      assert.match(line(out, 'veth veth1'), /\[vnet-virt\] ✓ ok/);
      assert.match(line(out, '═ veth veth0'), /✓ ok/);
      // The hand-made target is drawn as the macvtap it is, with its chain to the bridge, and not as ours.
      assert.match(line(out, 'mvt-hand'), /^.*macvtap mvt-hand \(bridge\) 52:54:00:12:34:56\s+\[not vnet-virt\]/);
      assert.match(line(out, 'veth hv1'), /not vnet-virt/);
      assert.match(line(out, '═ veth hv0'), /not vnet-virt/);
      assert.match(line(out, 'device eth0'), /✗ missing/);
      // The container's box: its veth end across the wall from the host end on br0, and its macvlan on hv1.
      assert.match(out, new RegExp(`^netns ${ctr}$`, 'm'));
      assert.match(line(out, 'veth cv0'), /═ veth ve-vnet-test-c\S* \(host side, on br0\)|═ veth ve-\S+ \(host side, on br0\)/);
      assert.match(line(out, 'macvlan cm0'), /─ veth hv1 \(host side/);

      // The same in Mermaid: the container is a subgraph, drifted devices are in the problem class.
      const m = runCli(['show', 'fixtures/show/tap', 'fixtures/show/macvtap-veth', '--host', '--netns', ns, '--format', 'mermaid']);
      assert.equal(m.code, 0, m.stderr);
      assert.match(m.stdout, new RegExp(`subgraph n\\d+\\["netns ${ctr}"\\]`));
      const problemLine = m.stdout.split('\n').find((l) => l.includes(' problem') && l.trim().startsWith('class '));
      assert.ok(problemLine, m.stdout);
      const idOf = (name: string): string => m.stdout.match(new RegExp(`(n\\d+)\\["[^"]*${name}`))![1]!;
      assert.ok(problemLine!.split(/[ ,]/).includes(idOf('t-web1-0')), problemLine);
      assert.ok(problemLine!.split(/[ ,]/).includes(idOf('mvt-db1')), problemLine);
    } finally {
      spawnSync('ip', ['netns', 'del', ctr]);
    }
  });
});
