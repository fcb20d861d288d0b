import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, XmlSyntaxError, xpathOf, childElements } from '../../src/domain/xml.js';

test('parses elements with offsets that slice back to the source', () => {
  const text = `<?xml version="1.0"?>\n<domain a='1' b="2">\n  <devices><interface type='ethernet'/></devices>\n</domain>\n`;
  const { root, eol } = parseXml(text);
  assert.equal(eol, '\n');
  assert.equal(root.name, 'domain');
  assert.equal(text.slice(root.start, root.end), text.slice(text.indexOf('<domain'), text.lastIndexOf('>') + 1));
  const iface = childElements(childElements(root, 'devices')[0]!, 'interface')[0]!;
  assert.equal(text.slice(iface.start, iface.end), `<interface type='ethernet'/>`);
  assert.equal(iface.line, 3);
  assert.equal(xpathOf(iface), '/domain/devices/interface');
});

test('detects CRLF line endings', () => {
  assert.equal(parseXml('<a>\r\n  <b/>\r\n</a>\r\n').eol, '\r\n');
});

for (const [bad, why] of [
  ['<a><b></a>', 'mismatched tag'],
  ['<a x=1/>', 'unquoted attribute'],
  ['<a x="1" x="2"/>', 'duplicate attribute'],
  ['<a>&foo;</a>', 'undefined entity'],
  ['<a/><b/>', 'two roots'],
  ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 'internal subset'],
  ['<a><!-- x -- y --></a>', 'double hyphen in comment'],
  ['<a>', 'unclosed'],
  ['text<a/>', 'text before root'],
] as const) {
  test(`rejects ${why}`, () => {
    assert.throws(() => parseXml(bad), XmlSyntaxError);
  });
}
