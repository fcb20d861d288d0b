import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linksIn, requireRoot, runCli, tempDir, withNetns } from '../helpers.js';
import { domainFile, link, MARK, names } from './host-lib.js';

test('attach-tap / attach-macvtap --provision: host first, then the XML', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  const out = join(dir, 'out.xml');
  await withNetns(async (ns) => {
    const tap = runCli(['attach-tap', file, '--tap', 'tap0', '--bridge', 'br0', '--provision', '--netns', ns, '--create-bridge', '-o', out]);
    assert.equal(tap.code, 0, tap.stderr);
    assert.match(readFileSync(out, 'utf8'), /<target dev='tap0' managed='no'\/>/);
    assert.equal(link(ns, 'tap0')?.master, 'br0');
    assert.equal(link(ns, 'tap0')?.ifalias, MARK);

    const mv = runCli(['attach-macvtap', out, '--lower', 'veth1', '--veth-peer', 'veth0', '--bridge', 'br0', '--macvtap', 'mvt0', '--provision', '--netns', ns, '--in-place']);
    assert.equal(mv.code, 0, mv.stderr);
    const mac = readFileSync(out, 'utf8').match(/<mac address='([^']+)'\/>\s*<target dev='mvt0'/)![1];
    assert.equal(link(ns, 'mvt0')?.address, mac);
    assert.equal(link(ns, 'veth0')?.master, 'br0');
    assert.equal(runCli(['check', out, '--netns', ns]).code, 0);
  });
});

test('--provision that fails writes no XML and leaves the host as before (refused: exit 3; failed for real: exit 1)', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  const original = readFileSync(file, 'utf8');
  await withNetns(async (ns) => {
    const state = (): string => JSON.stringify(linksIn(ns));
    const before = state();
    const refused = runCli(['attach-tap', file, '--tap', 'tap0', '--bridge', 'br9', '--provision', '--netns', ns, '--in-place']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /web1: bridge br9 does not exist \(interface tap0\)/);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.equal(state(), before);

    // A tap's MTU stops at 65521: the kernel refuses the 6th step, after the bridge and the tap were made.
    const out = join(dir, 'new.xml');
    const failed = runCli(['attach-tap', file, '--tap', 'tap0', '--bridge', 'br9', '--mtu', '65535', '--provision', '--netns', ns, '--create-bridge', '-o', out]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /`ip -n \S+ link set dev tap0 mtu 65535` failed: Error: mtu greater than device maximum\. \(interface tap0\); the 5 steps before it were undone/);
    assert.ok(!existsSync(out), 'no XML written');
    assert.deepEqual(names(ns), []);
    assert.equal(state(), before);
  });
});
