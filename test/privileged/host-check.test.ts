import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ipIn, requireRoot, runCli, tempDir, withNetns } from '../helpers.js';
import { attach, domainFile, MARK } from './host-lib.js';
import { assertSchema } from '../unit/host-schema.js';

test('check finds every kind of drift, each produced by breaking a device by hand', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tap0', '--bridge', 'br0', '--queues', '2');
  for (const n of [1, 2, 3, 4, 5]) attach('attach-tap', file, '--tap', `tap${n}`, '--bridge', 'br0');
  for (const n of [0, 1, 2]) attach('attach-macvtap', file, '--lower', `veth${2 * n + 1}`, '--veth-peer', `veth${2 * n}`, '--bridge', 'br0', '--macvtap', `mvt${n}`);
  const mac2 = readFileSync(file, 'utf8').match(/<mac address='([^']+)'\/>\s*<target dev='mvt2'/)![1]!;
  await withNetns(async (ns) => {
    assert.equal(runCli(['up', file, '--netns', ns, '--create-bridge']).code, 0);
    const clean = runCli(['check', file, '--netns', ns, '--json']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(JSON.parse(clean.stdout), { command: 'check', netns: ns, ok: true, drift: [], notes: [] });
    // A clean check says so in one line; --quiet prints nothing.
    assert.equal(runCli(['check', file, '--netns', ns]).stdout, `1 domain checked in namespace ${ns}: the host matches the XML\n`);
    const quiet = runCli(['check', file, '--netns', ns, '--quiet']);
    assert.deepEqual([quiet.code, quiet.stdout], [0, '']);

    const ip = (...a: string[]): string => ipIn(ns, ...a);
    // multi-queue: tap0 made again by hand without multi_queue, otherwise as wanted.
    ip('link', 'del', 'tap0');
    ip('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap', 'vnet_hdr');
    ip('link', 'set', 'dev', 'tap0', 'alias', MARK, 'master', 'br0', 'up');
    ip('link', 'set', 'dev', 'tap1', 'nomaster');
    ip('link', 'set', 'dev', 'tap2', 'down');
    ip('link', 'set', 'dev', 'tap3', 'alias', 'someone-else');
    ip('link', 'del', 'tap4');
    ip('link', 'del', 'tap5');
    ip('link', 'add', 'dev', 'tap5', 'type', 'veth', 'peer', 'name', 'x5');
    ip('link', 'set', 'dev', 'mvt0', 'address', '52:54:00:12:34:56');
    ip('link', 'set', 'dev', 'mvt1', 'type', 'macvtap', 'mode', 'bridge');
    ip('link', 'del', 'mvt2');
    ip('link', 'add', 'link', 'veth1', 'name', 'mvt2', 'address', mac2, 'type', 'macvtap', 'mode', 'vepa');
    ip('link', 'set', 'dev', 'mvt2', 'alias', MARK, 'up');

    const r = runCli(['check', file, '--netns', ns, '--json']);
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSchema('check-result', out);
    assert.equal(out.ok, false);
    assert.deepEqual(
      out.drift.map((d: { device: string; kind: string }) => `${d.device} ${d.kind}`).sort(),
      ['mvt0 mac', 'mvt1 mode', 'mvt2 lower', 'tap0 multi-queue', 'tap1 bridge', 'tap2 down', 'tap4 missing', 'tap5 wrong-kind'],
    );
    // Ownership is not drift: a note.
    assert.deepEqual(
      out.notes.map((d: { device: string; kind: string }) => `${d.device} ${d.kind}`),
      ['tap3 not-ours'],
    );
    const text = runCli(['check', file, '--netns', ns]);
    assert.equal(text.code, 3);
    assert.equal(text.stdout.trim().split('\n').length, 9);
    assert.match(text.stdout, /note: web1: tap3 does not carry web1's marker \(alias: 'someone-else'\): down will leave it \(interface tap3\) \[not-ours\]/);
    assert.match(text.stdout, /web1: macvtap mvt0 has MAC 52:54:00:12:34:56, but the interface's <mac> is 52:54:00:[0-9a-f:]+ \(interface mvt0\) \[mac\]/);
    assert.match(text.stdout, /web1: tap5 is a veth, not a tap \(interface tap5\) \[wrong-kind\]/);

    // up refuses the drift; down still removes only what carries the marker.
    assert.equal(runCli(['up', file, '--netns', ns]).code, 3);
    const down = runCli(['down', file, '--netns', ns]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /tap3 is not ours/);
    assert.match(down.stderr, /tap5 is not ours \(it has no marker\)/);
  });
});
