import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainDoc } from '../../src/domain/doc.js';
import { pciAddressesOf } from '../../src/domain/interfaces.js';
import { VnetError } from '../../src/errors.js';
import { child } from '../../src/domain/xml.js';

const parse = (text: string): DomainDoc => DomainDoc.parse(text, 'dom.xml');

test('parse rejects XML that is not well-formed, naming file and line (exit 3)', () => {
  assert.throws(
    () => parse('<domain>\n<name>x</nam>\n</domain>'),
    (e: unknown) => e instanceof VnetError && e.code === 'E_XML_SYNTAX' && e.exitCode === 3 && e.file === 'dom.xml' && e.where === 'line 2',
  );
});

test('parse rejects a root other than <domain> (exit 3)', () => {
  assert.throws(
    () => parse('<network><name>default</name></network>'),
    (e: unknown) => e instanceof VnetError && e.code === 'E_NOT_DOMAIN' && e.exitCode === 3 && e.where === '/network',
  );
});

test('name, uuid and identity', () => {
  const d = parse('<domain><name> web1 </name><uuid>C7A5FDBD-EDAF-9455-926A-D65C16DB1809</uuid></domain>');
  assert.equal(d.name, 'web1');
  assert.equal(d.uuid, 'c7a5fdbd-edaf-9455-926a-d65c16db1809');
  assert.equal(d.identity, 'c7a5fdbd-edaf-9455-926a-d65c16db1809');
  assert.equal(parse('<domain><name>web1</name></domain>').identity, 'name:web1');
});

test('interfaceElements: only direct children of <devices>', () => {
  const d = parse('<domain><devices><interface/><hostdev><source><interface>eth0</interface></source></hostdev><interface/></devices></domain>');
  assert.equal(d.interfaceElements().length, 2);
  assert.deepEqual(parse('<domain/>').interfaceElements(), []);
});

test('indentUnit: two spaces, four spaces, tabs; under the parent first', () => {
  assert.equal(parse('<domain>\n  <devices/>\n</domain>').indentUnit(), '  ');
  assert.equal(parse('<domain>\n    <devices/>\n</domain>').indentUnit(), '    ');
  assert.equal(parse('<domain>\n\t<devices/>\n</domain>').indentUnit(), '\t');
  assert.equal(parse('<domain><devices/></domain>').indentUnit(), '  ', 'nothing to learn from: two spaces');
  const mixed = parse('<domain>\n  <devices>\n      <disk/>\n  </devices>\n</domain>');
  assert.equal(mixed.indentUnit(mixed.devices!), '    ');
  assert.equal(mixed.indentUnit(), '  ');
});

test('indentOf: undefined when something precedes the node on its line', () => {
  const d = parse('<domain>\n  <a/><b/>\n</domain>');
  assert.equal(d.indentOf(child(d.root, 'a')!), '  ');
  assert.equal(d.indentOf(child(d.root, 'b')!), undefined);
});

test('quote: the quote most attributes use, double on a tie', () => {
  assert.equal(parse(`<domain type='kvm'><a b='1' c="2"/></domain>`).quote(), "'");
  assert.equal(parse(`<domain type="kvm"><a b='1'/></domain>`).quote(), '"');
  assert.equal(parse(`<domain type="kvm"><a c='2' d='3'/><!-- x="1" y="2" z="3" --></domain>`).quote(), "'", 'comments do not count');
  assert.equal(parse('<domain/>').quote(), '"');
});

test('eol: CRLF when the first line break is CRLF', () => {
  assert.equal(parse('<domain>\r\n</domain>\r\n').eol, '\r\n');
  assert.equal(parse('<domain>\n</domain>\r\n').eol, '\n');
  assert.equal(parse('<domain/>').eol, '\n');
});

test('formatBlock re-indents, re-quotes and uses the file line ending', () => {
  const d = parse(`<domain type='kvm'>\r\n\t<devices/>\r\n</domain>\r\n`);
  assert.equal(d.formatBlock('<a x="1">\n  <b y="it\'s"/>\n</a>', '\t'), `\t<a x='1'>\r\n\t\t<b y="it's"/>\r\n\t</a>`);
});

const BLOCK = '<interface type="ethernet">\n  <mac address="52:54:00:00:00:01"/>\n</interface>';

function roundTrip(text: string, parentOf: (d: DomainDoc) => ReturnType<typeof child>, after?: null): string {
  const d = parse(text);
  const out = d.appendChild(parentOf(d)!, BLOCK, after);
  const added = out.interfaceElements().find((e) => out.text.slice(e.start, e.end).includes('52:54:00:00:00:01'))!;
  assert.equal(out.removeElement(added).text, text, 'removeElement undoes appendChild');
  return out.text;
}

test('appendChild after the last child, indented like it; removeElement undoes it', () => {
  const text = `<domain>\n  <devices>\n    <disk/>\n  </devices>\n</domain>\n`;
  assert.equal(
    roundTrip(text, (d) => d.devices),
    `<domain>\n  <devices>\n    <disk/>\n    <interface type="ethernet">\n      <mac address="52:54:00:00:00:01"/>\n    </interface>\n  </devices>\n</domain>\n`,
  );
});

test('appendChild with after=null puts the block first', () => {
  const text = `<domain>\n  <devices>\n    <graphics/>\n  </devices>\n</domain>\n`;
  const out = roundTrip(text, (d) => d.devices, null);
  assert.ok(out.indexOf('<interface') < out.indexOf('<graphics'));
  assert.match(out, /<devices>\n {4}<interface/);
});

test('appendChild keeps a comment that shares the anchor line on that line', () => {
  const text = `<domain>\n  <devices>\n    <disk/> <!-- boot disk -->\n  </devices>\n</domain>\n`;
  const out = roundTrip(text, (d) => d.devices);
  assert.match(out, /<disk\/> <!-- boot disk -->\n {4}<interface/);
});

test('appendChild keeps trailing white space and CRLF on the anchor line', () => {
  const text = `<domain>\r\n  <devices>\r\n    <disk/>  \r\n  </devices>\r\n</domain>\r\n`;
  const out = roundTrip(text, (d) => d.devices);
  assert.match(out, /<disk\/> {2}\r\n {4}<interface type="ethernet">\r\n/);
});

test('appendChild into one-line content still round-trips', () => {
  roundTrip(`<domain>\n  <devices><disk/><graphics/></devices>\n</domain>\n`, (d) => d.devices);
  roundTrip(`<domain><devices><disk/></devices></domain>`, (d) => d.devices);
});

test('appendChild into an empty element puts its end tag on a line of its own', () => {
  for (const devices of ['<devices></devices>', '<devices/>', '<devices />', '<devices>\n  </devices>']) {
    const d = parse(`<domain>\n  ${devices}\n</domain>\n`);
    assert.equal(
      d.appendChild(d.devices!, BLOCK).text,
      `<domain>\n  <devices>\n    <interface type="ethernet">\n      <mac address="52:54:00:00:00:01"/>\n    </interface>\n  </devices>\n</domain>\n`,
      devices,
    );
  }
});

test('edits return new documents and leave the old one alone', () => {
  const d = parse('<domain>\n  <devices/>\n</domain>');
  const e = d.appendChild(d.devices!, BLOCK);
  assert.notEqual(e.text, d.text);
  assert.equal(d.text, '<domain>\n  <devices/>\n</domain>');
  assert.equal(e.file, 'dom.xml');
});

test('isEmpty: only white space inside', () => {
  const d = parse('<domain><a>\n </a><b><!-- c --></b><c>x</c><e/></domain>');
  assert.deepEqual(
    ['a', 'b', 'c', 'e'].map((n) => d.isEmpty(child(d.root, n)!)),
    [true, false, false, true],
  );
});

test('appendChild in a file with mixed line endings ends its lines like the line it breaks', () => {
  const text = `<domain>\n  <devices>\r\n    <disk/>\r\n  </devices>\n</domain>\n`;
  const out = roundTrip(text, (d) => d.devices);
  assert.match(out, /<disk\/>\r\n {4}<interface type="ethernet">\r\n/);
});

test('a bare or all-zero <address type="pci"/> is no address: libvirt assigns one', () => {
  const doc = DomainDoc.parse(
    `<domain><devices><interface type='user'><address type='pci'/></interface>` +
      `<disk><address type='pci' domain='0' bus='0' slot='0' function='0'/></disk>` +
      `<sound><address type='pci' bus='0x00' slot='0x04' function='0x0'/></sound></devices></domain>`,
    'x.xml',
  );
  assert.deepEqual(
    pciAddressesOf(doc).map(([el, a]) => [el.name, a.slot]),
    [['sound', 4]],
  );
});
