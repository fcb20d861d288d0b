import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainDoc } from '../../src/domain/doc.js';
import { directSpec, macvtapSpec, planAttach, tapSpec } from '../../src/commands/attach.js';
import type { AttachResult, SpecBuilder } from '../../src/commands/attach.js';
import { planDetach } from '../../src/commands/detach.js';
import { VnetError } from '../../src/errors.js';
import { recordEntries } from '../../src/domain/record.js';

const BASE = `<domain type='qemu'>
  <name>u1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:10:20:30'/>
      <source network='default'/>
      <target dev='vnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
  </devices>
</domain>
`;

function run<O>(build: SpecBuilder<O>, opts: O, text = BASE): AttachResult {
  const doc = DomainDoc.parse(text, 'dom.xml');
  const { spec, given, named } = build(opts)(doc);
  return planAttach(doc, spec, given, named);
}

const fails = (code: string, exitCode: number) => (e: unknown) => e instanceof VnetError && e.code === code && e.exitCode === exitCode;

test('option values are checked before any domain is looked at (exit 2)', () => {
  assert.throws(() => tapSpec({ mac: '01:00:00:00:00:00' }), fails('E_MAC_INVALID', 2));
  assert.throws(() => tapSpec({ tap: 'x'.repeat(16) }), fails('E_IFNAME_INVALID', 2));
  assert.throws(() => tapSpec({ model: 'nope' }), fails('E_MODEL_UNKNOWN', 2));
  assert.throws(() => tapSpec({ queues: '1.5' }), fails('E_NUMBER_INVALID', 2));
  assert.throws(() => tapSpec({ pciAddress: '0:0:0:0' }), fails('E_PCI_INVALID', 2));
  assert.throws(() => tapSpec({ tap: 'br0', bridge: 'br0' }), fails('E_USAGE', 2));
  assert.throws(() => macvtapSpec({ lower: 'v1', macvtap: 'm0', mode: 'vepa2' }), fails('E_MODE_UNKNOWN', 2));
  assert.throws(() => macvtapSpec({ lower: 'v1', macvtap: 'm0', vethPeer: 'v0' }), fails('E_USAGE', 2));
  assert.throws(() => directSpec({ source: 'eth0', mode: 'source' }), fails('E_MODE_UNKNOWN', 2));
});

test('mode spellings: direct writes passthrough, macvtap records passthru, either is accepted', () => {
  assert.equal(run(directSpec, { source: 'eth0', mode: 'passthru' }).spec.mode, 'passthrough');
  assert.equal(run(directSpec, { source: 'eth0', mode: 'passthrough' }).spec.mode, 'passthrough');
  const m = run(macvtapSpec, { lower: 'v1', macvtap: 'm0', mode: 'passthrough' });
  assert.deepEqual(recordEntries(m.after).map((e) => e.kind === 'macvtap' && e.mode), ['passthru']);
});

test('defaults: virtio, vepa, a derived MAC and tap name', () => {
  const r = run(tapSpec, {});
  assert.equal(r.spec.model, 'virtio');
  assert.equal(r.spec.dev, 't-u1-1');
  assert.match(r.spec.mac, /^52:54:00:/);
  assert.equal(r.xpath, '/domain/devices/interface[2]');
  assert.equal(run(directSpec, { source: 'eth0' }).spec.mode, 'vepa');
});

test('a derived MAC or name skips those already in use', () => {
  const first = run(tapSpec, {});
  const second = run(tapSpec, {}, first.after.text);
  assert.notEqual(second.spec.mac, first.spec.mac);
  assert.notEqual(second.spec.dev, first.spec.dev);
});

test('a named attach finds its twin: unchanged, reporting what is in the file', () => {
  const once = run(tapSpec, { tap: 'tap0', bridge: 'br0' });
  const twice = run(tapSpec, { tap: 'tap0', bridge: 'br0' }, once.after.text);
  assert.equal(twice.action, 'unchanged');
  assert.equal(twice.after, twice.before);
  assert.equal(twice.spec.mac, once.spec.mac, 'the MAC in the file, not a newly derived one');
  assert.equal(twice.xpath, once.xpath);
  assert.throws(() => run(tapSpec, { tap: 'tap0', bridge: 'br1' }, once.after.text), fails('E_TARGET_IN_USE', 3));
  assert.throws(() => run(tapSpec, { tap: 'tap0', bridge: 'br0', model: 'e1000' }, once.after.text), fails('E_TARGET_IN_USE', 3));
  assert.equal(run(tapSpec, { tap: 'tap0', bridge: 'br0', model: 'virtio', mac: once.spec.mac }, once.after.text).action, 'unchanged');
});

test('a target without managed="no" or without its record entry is no twin', () => {
  const hand = BASE.replace('</devices>', "  <interface type='ethernet'>\n      <target dev='tap0'/>\n    </interface>\n  </devices>");
  assert.throws(() => run(tapSpec, { tap: 'tap0' }, hand), fails('E_TARGET_IN_USE', 3));
});

test('clashes are refused with exit 3, naming the element', () => {
  assert.throws(() => run(tapSpec, { mac: '52:54:00:10:20:30' }), (e: unknown) => fails('E_MAC_IN_USE', 3)(e) && (e as VnetError).where === '/domain/devices/interface');
  assert.throws(() => run(tapSpec, { tap: 'vnet0' }), fails('E_TARGET_IN_USE', 3));
  assert.throws(() => run(tapSpec, { pciAddress: '00:03.0' }), fails('E_PCI_IN_USE', 3));
  assert.doesNotThrow(() => run(tapSpec, { pciAddress: '00:03.1' }));
  const mvt = run(macvtapSpec, { lower: 'veth1', macvtap: 'mvt0', vethPeer: 'veth0', bridge: 'br0' });
  assert.throws(() => run(tapSpec, { tap: 'veth1' }, mvt.after.text), fails('E_TARGET_IN_USE', 3));
  assert.throws(() => run(macvtapSpec, { lower: 'vnet0', macvtap: 'mvt1' }), fails('E_TARGET_IN_USE', 3));
  assert.equal(run(macvtapSpec, { lower: 'veth1', macvtap: 'mvt1', vethPeer: 'veth0', bridge: 'br0' }, mvt.after.text).action, 'added', 'a lower device may carry several macvtaps');
});

test('detach: by MAC or target, absent is exit 3, a stale record entry is removed alone', () => {
  const once = run(tapSpec, { tap: 'tap0', bridge: 'br0' });
  assert.equal(planDetach(once.after, { target: 'tap0' }).after.text, BASE);
  assert.equal(planDetach(once.after, { mac: once.spec.mac }).after.text, BASE);
  assert.throws(() => planDetach(once.after, { target: 'tap9' }), fails('E_NOT_FOUND', 3));
  const stale = once.after.text.replace(/ {4}<interface type='ethernet'>[\s\S]*?<\/interface>\n/, '');
  const r = planDetach(DomainDoc.parse(stale, 'x'), { target: 'tap0' });
  assert.equal(r.removed, null);
  assert.equal(r.after.text, BASE);
});
