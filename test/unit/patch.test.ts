import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainDoc } from '../../src/domain/doc.js';
import { addInterface, addRecordEntry, devicesToRemember, removeInterface, removeRecordEntry } from '../../src/domain/patch.js';
import type { RecordEntry } from '../../src/domain/record.js';
import { childElements } from '../../src/domain/xml.js';

const BLOCK = '<interface type="ethernet">\n  <target dev="new0" managed="no"/>\n</interface>';
const parse = (text: string): DomainDoc => DomainDoc.parse(text, 'dom.xml');
const order = (d: DomainDoc): string[] =>
  childElements(d.devices!).map((e) => (e.name === 'interface' && d.text.slice(e.start, e.end).includes('new0') ? 'NEW' : e.name));

test('a new interface goes after the last interface', () => {
  const d = addInterface(parse('<domain>\n  <devices>\n    <disk/>\n    <interface/>\n    <graphics/>\n    <interface/>\n    <video/>\n  </devices>\n</domain>'), BLOCK);
  assert.deepEqual(order(d), ['disk', 'interface', 'graphics', 'interface', 'NEW', 'video']);
});

test('without interfaces it goes where libvirt writes them: after emulator, disks, controllers, leases, filesystems', () => {
  const d = addInterface(parse('<domain>\n  <devices>\n    <emulator>/x</emulator>\n    <disk/>\n    <filesystem/>\n    <serial/>\n    <graphics/>\n  </devices>\n</domain>'), BLOCK);
  assert.deepEqual(order(d), ['emulator', 'disk', 'filesystem', 'NEW', 'serial', 'graphics']);
  const first = addInterface(parse('<domain>\n  <devices>\n    <serial/>\n  </devices>\n</domain>'), BLOCK);
  assert.deepEqual(order(first), ['NEW', 'serial']);
});

test('a domain without <devices> gets one; removeInterface alone leaves it, empty (the record knows it was not there)', () => {
  const base = '<domain>\n  <name>x</name>\n</domain>\n';
  const d = addInterface(parse(base), BLOCK);
  assert.equal(d.text, '<domain>\n  <name>x</name>\n  <devices>\n    <interface type="ethernet">\n      <target dev="new0" managed="no"/>\n    </interface>\n  </devices>\n</domain>\n');
  assert.equal(removeInterface(d, 0).text, '<domain>\n  <name>x</name>\n  <devices>\n  </devices>\n</domain>\n');
});

test('removeInterface of an index that does not exist changes nothing', () => {
  const d = parse('<domain><devices/></domain>');
  assert.equal(removeInterface(d, 3).text, d.text);
});

test('attach into <devices/> and <metadata/>, then detach in either order: the original bytes, by what the record remembers', () => {
  const original = `<domain>\n  <name>d</name>\n  <metadata/>\n  <devices/>\n</domain>\n`;
  const tap: RecordEntry = { kind: 'tap', dev: 'tap0', mac: '52:54:00:00:00:01' };
  const one = DomainDoc.parse(original, 'd.xml');
  let both = addInterface(one, `<interface type="ethernet">\n  <target dev="tap0" managed="no"/>\n</interface>`);
  both = addRecordEntry(both, tap, devicesToRemember(one));
  const direct = addInterface(both, `<interface type="direct">\n  <source dev="eth0" mode="vepa"/>\n</interface>`);
  assert.match(direct.text, /was-devices="&lt;devices\/>" was-metadata="&lt;metadata\/>"/);
  const tapFirst = removeRecordEntry(removeRecordEntry(removeInterface(direct, 0), 'tap0'), undefined);
  assert.match(tapFirst.text, /was-devices/, 'the record stays while <devices> holds the direct interface');
  assert.equal(removeRecordEntry(removeInterface(tapFirst, 0), undefined).text, original);
  const directFirst = removeRecordEntry(removeInterface(direct, 1), undefined);
  assert.equal(removeRecordEntry(removeInterface(directFirst, 0), 'tap0').text, original);
});

test('a record needed only to remember <devices> is added for a direct interface, and goes with it', () => {
  const original = `<domain>\n  <name>d</name>\n</domain>\n`;
  const doc = DomainDoc.parse(original, 'd.xml');
  const added = addRecordEntry(addInterface(doc, `<interface type="direct"/>`), undefined, devicesToRemember(doc));
  assert.match(added.text, /<vnet:record [^>]*was-devices="">/);
  assert.equal(removeRecordEntry(removeInterface(added, 0), undefined).text, original);
});
