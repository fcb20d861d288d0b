import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attr,
  child,
  childElements,
  decodeEntities,
  localName,
  namespaceOf,
  parseXml,
  serializeTree,
  textContent,
  XmlSyntaxError,
  xpathOf,
} from '../../src/domain/xml.js';

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

const TRICKY = [
  '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- c1 -->\n<?pi data?>\n<!DOCTYPE domain>\n<domain>\n\t<a x = "1"\n     y=\'2\' />\n  <b><![CDATA[ <raw> & ]]>t&amp;t</b>\n</domain>\n<!-- after -->\n\n',
  '<domain/>',
  '<domain></domain>',
  '<domain>\r\n  <a/>\r\n</domain>\r\n',
  '<domain><a></a><b/>text<!----><?x?></domain>',
  '<d:domain xmlns:d="urn:x"><d:a/></d:domain>',
];

test('serializeTree gives back every byte: each belongs to exactly one node', () => {
  for (const text of TRICKY) assert.equal(serializeTree(parseXml(text)), text, JSON.stringify(text));
});

test('offsets: start, openEnd, closeStart and end slice out the tags', () => {
  const text = '<domain>\n  <a k="v">x</a>\n  <b/>\n</domain>';
  const { root } = parseXml(text);
  const a = child(root, 'a')!;
  assert.equal(text.slice(a.start, a.openEnd), '<a k="v">');
  assert.equal(text.slice(a.closeStart, a.end), '</a>');
  const b = child(root, 'b')!;
  assert.ok(b.selfClosing);
  assert.equal(b.closeStart, b.end);
  assert.equal(text.slice(b.start, b.end), '<b/>');
  const k = a.attrs[0]!;
  assert.equal(text.slice(k.start, k.end), 'k="v"');
});

test('line numbers count line breaks inside tags, attribute values and end tags', () => {
  const text = '<domain\n  a="x\ny">\n<b></b\n>\n<c/>\n</domain>';
  const { root } = parseXml(text);
  assert.equal(root.line, 1);
  assert.equal(child(root, 'b')!.line, 4);
  assert.equal(child(root, 'c')!.line, 6);
});

test('attribute values and text are decoded; entities are limited to the predefined five', () => {
  const text = `<domain t='a &amp; &lt;b&gt; &quot;&apos; &#65;&#x42;' g=">"><name>x &amp;&#x20;y<![CDATA[&amp;]]></name></domain>`;
  const { root } = parseXml(text);
  assert.equal(attr(root, 't'), `a & <b> "' AB`);
  assert.equal(attr(root, 'g'), '>');
  assert.equal(textContent(text, child(root, 'name')!), 'x & y&amp;');
  assert.equal(decodeEntities('', 'plain', 0), 'plain');
});

test('namespaces: prefixes resolve through ancestors, the default namespace too', () => {
  const text = '<domain xmlns:v="urn:v"><metadata><v:r><v:t/></v:r><x xmlns="urn:d"><y/></x></metadata></domain>';
  const { root } = parseXml(text);
  const md = child(root, 'metadata')!;
  const t = child(child(md, 'v:r')!, 'v:t')!;
  assert.equal(namespaceOf(t), 'urn:v');
  assert.equal(localName(t), 't');
  assert.equal(namespaceOf(child(child(md, 'x')!, 'y')!), 'urn:d');
  assert.equal(namespaceOf(md), undefined);
});

test('xpathOf numbers siblings of the same name', () => {
  const { root } = parseXml('<domain><devices><disk/><interface/><interface/></devices></domain>');
  const devices = child(root, 'devices')!;
  assert.equal(xpathOf(childElements(devices, 'interface')[1]!), '/domain/devices/interface[2]');
  assert.equal(xpathOf(child(devices, 'disk')!), '/domain/devices/disk');
});

test('errors carry line and column', () => {
  try {
    parseXml('<domain>\n  <a>\n</domain>');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof XmlSyntaxError);
    assert.equal(e.line, 3);
    assert.equal(e.column, 1);
    assert.match(e.message, /<\/domain> does not match <a> \(line 2\)/);
  }
});

for (const [bad, why] of [
  ['<a><!-- x ---></a>', 'comment ending in -'],
  ['<a>&#0;</a>', 'character reference to U+0000'],
  ['<a>&#xD800;</a>', 'character reference to a surrogate'],
  ['<a>&#x110000;</a>', 'character reference out of range'],
  ['<a>&#xZZ;</a>', 'bad character reference'],
  ['<a>\u0001</a>', 'control character'],
  ['<a>a & b</a>', 'bare ampersand'],
  ['<a>]]></a>', "']]>' in text"],
  ['<a b="<"/>', "'<' in an attribute value"],
  ['<a b="1"c="2"/>', 'no space between attributes'],
  [' <?xml version="1.0"?><a/>', 'XML declaration not at the start'],
  ['<a/><!DOCTYPE a>', 'DOCTYPE after the root'],
  ['<a/>text', 'text after the root'],
  ['', 'empty document'],
  ['<a></b>', 'mismatched end tag'],
  ['</a>', 'end tag without start'],
  ['<1a/>', 'bad name'],
  ['<a><![CDATA[x</a>', 'CDATA not closed'],
  ['<a><?pi </a>', 'PI not closed'],
] as const) {
  test(`rejects ${why}`, () => {
    assert.throws(() => parseXml(bad), XmlSyntaxError);
  });
}

test('accepts what is well-formed even if unusual', () => {
  for (const ok of ['<a>&#x1F600;</a>', '<a b="]]>"/>', '<a>\t\r\n</a>', '<a/>\n\n<!-- trailing -->\n', '<!DOCTYPE a SYSTEM "a.dtd"><a/>'])
    assert.doesNotThrow(() => parseXml(ok), ok);
});

test('names follow XML 1.0 NameStartChar/NameChar exactly, as xmllint does', () => {
  for (const ok of ['<naïve/>', '<名前/>', '<a\u{10000}x/>', '<a-b.c_d\u00B7e\u0301/>', '<a\u203F/>'])
    assert.doesNotThrow(() => parseXml(ok), ok);
  for (const bad of ['<a×b/>', '<a÷/>', '<\u0300a/>', '<a\u{F0000}/>', '<\u2000a/>', '<a b\u00D7="1"/>'])
    assert.throws(() => parseXml(bad), XmlSyntaxError, bad);
});

test('names of two characters, ASCII and beside non-ASCII: the character-code scan answers as the XML Name production', () => {
  // The spec's NameStartChar / NameChar, restricted to the characters tried here.
  const xmlName = /^[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6][A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\-.0-9\u00B7\u0300-\u036F]*$/u;
  const chars = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)), '\u00E9', '\u00B7', '\u0300', '\u00D7'];
  for (const a of chars)
    for (const b of chars)
      for (const doc of [`<${a}${b} />`, `<r ${a}${b}="1"/>`]) {
        let ok = true;
        try {
          parseXml(doc);
        } catch (e) {
          if (!(e instanceof XmlSyntaxError)) throw e;
          ok = false;
        }
        assert.equal(ok, xmlName.test(`${a}${b}`), doc);
      }
});

test('processing instructions need a target; the XML declaration is checked as xmllint checks it', () => {
  for (const bad of [
    '<a><? x?></a>',
    '<a><??></a>',
    '<?xml encoding="UTF-8"?><a/>',
    '<?xml version="2.0"?><a/>',
    '<?xml version="1.0" foo="bar"?><a/>',
    '<?xml version="1.0" standalone="yes" encoding="UTF-8"?><a/>',
    '<?xmlversion="1.0"?><a/>',
    '<?XML version="1.0"?><a/>',
  ])
    assert.throws(() => parseXml(bad), XmlSyntaxError, bad);
  for (const ok of [
    '<?xml version="1.0"?><a/>',
    "<?xml version='1.0' encoding='utf-8' standalone='no' ?><a/>",
    '<?xml version="1.0" encoding="ISO-8859-1"?><a/>',
    '<a><?xml-stylesheet href="x"?><?pi?></a>',
  ])
    assert.doesNotThrow(() => parseXml(ok), ok);
});

test('a declaration that says UTF-16 is refused with what to do (the text was read as UTF-8)', () => {
  assert.throws(() => parseXml('<?xml version="1.0" encoding="UTF-16"?><a/>'), /encoding="UTF-16".*iconv -t UTF-8/);
});

test("DOCTYPE: a '>' inside a quoted literal does not end it; a name is required", () => {
  const text = '<!DOCTYPE domain SYSTEM "a>b.dtd"><domain/>';
  assert.equal(serializeTree(parseXml(text)), text);
  assert.doesNotThrow(() => parseXml("<!DOCTYPE domain PUBLIC '-//x>y//EN' \"u\"><domain/>"));
  assert.throws(() => parseXml('<!DOCTYPE><domain/>'), /DOCTYPE has no name/);
  assert.throws(() => parseXml('<!DOCTYPE domain SYSTEM "x><domain/>'), /DOCTYPE is not closed/);
  assert.throws(() => parseXml('<!DOCTYPE domain SYSTEM "x" [<!ENTITY e "x">]><domain/>'), /internal DTD subsets/);
});

test('error lines are where xmllint puts them: the bad reference, the first stray character', () => {
  const lineOfError = (text: string): number => {
    try {
      parseXml(text);
    } catch (e) {
      if (e instanceof XmlSyntaxError) return e.line;
    }
    return assert.fail(`accepted ${JSON.stringify(text)}`);
  };
  assert.equal(lineOfError('<domain>\n\n  x &foo; y\n</domain>\n'), 3);
  assert.equal(lineOfError('<domain>\n<a>\n\n & </a></domain>\n'), 4);
  assert.equal(lineOfError('<domain\n  a="1"\n  b="&foo;"/>\n'), 3);
  assert.equal(lineOfError('<domain a="\n\n&foo;"/>\n'), 3);
  assert.equal(lineOfError('<domain/>\n\nx\n'), 3);
});
