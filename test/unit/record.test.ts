import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainDoc } from '../../src/domain/doc.js';
import { entryXml, findRecord, RECORD_NS, recordEntries, sameEntry } from '../../src/domain/record.js';
import type { RecordEntry } from '../../src/domain/record.js';
import { addRecordEntry, removeRecordEntry } from '../../src/domain/patch.js';

const parse = (text: string): DomainDoc => DomainDoc.parse(text, 'dom.xml');

const TAP: RecordEntry = { kind: 'tap', dev: 'tap0', mac: '52:54:00:00:00:01', bridge: 'br0', queues: 2, mtu: 1500 };
const MACVTAP: RecordEntry = { kind: 'macvtap', dev: 'mvt0', mac: '52:54:00:00:00:02', lower: 'veth1', mode: 'vepa', vethPeer: 'veth0', bridge: 'br0' };

test('the namespace carries the version', () => {
  assert.equal(RECORD_NS, 'http://vnet-virt.dev/xmlns/record/1');
});

test('recordEntries reads tap and macvtap entries with typed fields', () => {
  const d = parse(`<domain><metadata><vnet:record xmlns:vnet="${RECORD_NS}">
    <vnet:tap dev="tap0" mac="52:54:00:00:00:01" bridge="br0" queues="2" mtu="1500"/>
    <vnet:macvtap dev="mvt0" mac="52:54:00:00:00:02" lower="veth1" mode="vepa" veth-peer="veth0" bridge="br0"/>
  </vnet:record></metadata></domain>`);
  assert.deepEqual(recordEntries(d), [TAP, MACVTAP]);
});

test('recordEntries: any prefix or the default namespace; MACs lowercased; foreign entries ignored', () => {
  const d = parse(`<domain><metadata><other xmlns="urn:x"/><r:record xmlns:r="${RECORD_NS}">
    <r:tap dev="tap0" mac="52:54:00:AA:00:01"/><r:future x="1"/><f:tap xmlns:f="urn:f" dev="no" mac="no"/>
  </r:record></metadata></domain>`);
  assert.deepEqual(recordEntries(d), [{ kind: 'tap', dev: 'tap0', mac: '52:54:00:aa:00:01' }]);
  const def = parse(`<domain><metadata><record xmlns="${RECORD_NS}"><tap dev="t" mac="52:54:00:00:00:09"/></record></metadata></domain>`);
  assert.equal(recordEntries(def)[0]?.dev, 't');
});

test('recordEntries is empty without metadata or record, and ignores a record of another version', () => {
  assert.deepEqual(recordEntries(parse('<domain/>')), []);
  assert.deepEqual(recordEntries(parse('<domain><metadata/></domain>')), []);
  const v2 = parse('<domain><metadata><v:record xmlns:v="http://vnet-virt.dev/xmlns/record/2"><v:tap dev="t" mac="52:54:00:00:00:09"/></v:record></metadata></domain>');
  assert.deepEqual(recordEntries(v2), []);
});

test('entryXml writes fields in a fixed order, leaves out absent ones and escapes values', () => {
  assert.equal(entryXml(TAP, 'vnet'), '<vnet:tap dev="tap0" mac="52:54:00:00:00:01" bridge="br0" queues="2" mtu="1500"/>');
  assert.equal(entryXml({ kind: 'tap', dev: 'a"&<', mac: 'm' }, ''), '<tap dev="a&quot;&amp;&lt;" mac="m"/>');
  assert.equal(
    entryXml(MACVTAP, 'v'),
    '<v:macvtap dev="mvt0" mac="52:54:00:00:00:02" lower="veth1" mode="vepa" veth-peer="veth0" bridge="br0"/>',
  );
});

test('sameEntry compares every field', () => {
  assert.ok(sameEntry(TAP, { ...TAP }));
  assert.ok(!sameEntry(TAP, { ...TAP, bridge: 'br1' }));
  assert.ok(!sameEntry(TAP, { ...TAP, queues: undefined }));
  assert.ok(!sameEntry(MACVTAP, { ...MACVTAP, mode: 'bridge' }));
});

test('entries written by addRecordEntry read back the same; removal restores the file', () => {
  const base = `<domain type='kvm'>\n  <name>x</name>\n  <devices/>\n</domain>\n`;
  const one = addRecordEntry(parse(base), TAP);
  assert.match(one.text, /<name>x<\/name>\n {2}<metadata>\n {4}<vnet:record xmlns:vnet='http:\/\/vnet-virt.dev\/xmlns\/record\/1'>\n {6}<vnet:tap dev='tap0'/);
  const two = addRecordEntry(one, MACVTAP);
  assert.deepEqual(recordEntries(two), [TAP, MACVTAP]);
  assert.equal(findRecord(two)!.entries.length, 2);
  assert.equal(removeRecordEntry(removeRecordEntry(two, 'tap0'), 'mvt0').text, base);
  assert.equal(removeRecordEntry(removeRecordEntry(two, 'mvt0'), 'tap0').text, base);
  assert.equal(removeRecordEntry(two, 'nothere').text, two.text);
});

test('a record in existing metadata keeps its prefix; other metadata stays when the record goes', () => {
  const base = `<domain>\n  <metadata>\n    <app:x xmlns:app="urn:app"/>\n    <r:record xmlns:r="${RECORD_NS}">\n      <r:tap dev="old" mac="52:54:00:00:00:09"/>\n    </r:record>\n  </metadata>\n</domain>\n`;
  const d = addRecordEntry(parse(base), TAP);
  assert.match(d.text, /<r:tap dev="old" mac="52:54:00:00:00:09"\/>\n {6}<r:tap dev="tap0"/);
  const emptied = removeRecordEntry(removeRecordEntry(d, 'tap0'), 'old');
  assert.equal(emptied.text, `<domain>\n  <metadata>\n    <app:x xmlns:app="urn:app"/>\n  </metadata>\n</domain>\n`);
});
