import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainDoc } from '../../src/domain/doc.js';
import { addInterface, removeInterface } from '../../src/domain/patch.js';
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

test('a domain without <devices> gets one; removing the interface leaves it, empty', () => {
  const base = '<domain>\n  <name>x</name>\n</domain>\n';
  const d = addInterface(parse(base), BLOCK);
  assert.equal(d.text, '<domain>\n  <name>x</name>\n  <devices>\n    <interface type="ethernet">\n      <target dev="new0" managed="no"/>\n    </interface>\n  </devices>\n</domain>\n');
  assert.equal(removeInterface(d, 0).text, '<domain>\n  <name>x</name>\n  <devices>\n  </devices>\n</domain>\n');
});

test('removeInterface of an index that does not exist changes nothing', () => {
  const d = parse('<domain><devices/></domain>');
  assert.equal(removeInterface(d, 3).text, d.text);
});
