// Hostile shapes of XML: nesting far past libxml2's limit, one element with
// 100,000 attributes, half a million siblings on one line, and what xmllint
// refuses around the root. Bounded time, one clear line, exit 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { addInterface } from '../../src/domain/patch.js';
import { MAX_DEPTH, parseXml, serializeTree, textContent, XmlSyntaxError, xpathOf } from '../../src/domain/xml.js';
import type { XmlElement, XmlNode } from '../../src/domain/xml.js';
import { RECORD_NS } from '../../src/domain/record.js';
import { runCli, tempDir } from '../helpers.js';

const nested = (n: number, inner = ''): string => '<a>'.repeat(n) + inner + '</a>'.repeat(n);
const STACK_FRAME = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

function syntaxError(text: string): XmlSyntaxError {
  try {
    parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) return e;
    throw e;
  }
  assert.fail('parsed');
}

test("depth: libxml2's limit exactly (xmllint takes 257 nested elements and refuses 258)", () => {
  assert.equal(MAX_DEPTH, 256);
  parseXml(nested(MAX_DEPTH + 1));
  parseXml(nested(MAX_DEPTH, '<b/>'));
  const e = syntaxError(`<r>\n${nested(MAX_DEPTH + 1)}\n</r>`);
  assert.equal(e.line, 2);
  assert.match(e.message, /nested more than 256 deep/);
  assert.match(syntaxError(nested(MAX_DEPTH + 1, '<b/>')).message, /nested more than 256 deep/);
});

test('depth: 8,000 and 100,000 levels through attach, lint, up --dry-run and the hook: exit 3, one line with file and line', () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const n of [8_000, 100_000]) {
      const file = join(dir, `deep${n}.xml`);
      // The record's namespace makes the hook parse the file rather than take its fast exit.
      writeFileSync(
        file,
        `<domain type="kvm">\n  <name>deep</name>\n  <metadata><vnet:record xmlns:vnet="${RECORD_NS}"><vnet:tap dev="t0" mac="52:54:00:00:00:01"/></vnet:record></metadata>\n  <devices>\n${nested(n)}\n  </devices>\n</domain>\n`,
      );
      const env = { ...process.env, VNET_VIRT_HOOK_CONFIG: join(dir, 'hook.conf'), VNET_VIRT_HOOK_LOG: join(dir, 'hook.log'), VNET_VIRT_HOOK_LOCK: join(dir, 'hook.lock') };
      for (const args of [
        ['attach-tap', file, '--bridge', 'br0'],
        ['up', file, '--dry-run'],
        ['hook', 'replay', '--xml', file, 'prepare', 'begin', '--dry-run'],
      ]) {
        const r = runCli(args, { env });
        assert.equal(r.code, 3, `${args[0]} ${n}: ${r.stderr}`);
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `${args[0]} ${n}: one line: ${r.stderr.slice(0, 500)}`);
        assert.ok(lines[0]!.includes(file) && /line 5\b/.test(lines[0]!) && /nested more than 256 deep/.test(lines[0]!), `${args[0]} ${n}: ${lines[0]}`);
        assert.doesNotMatch(r.stderr, STACK_FRAME);
      }
      for (const schema of [['--no-schema'], []]) {
        const r = runCli(['lint', ...schema, file]);
        assert.equal(r.code, 3, `lint ${schema} ${n}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`${file.replace(/[.]/g, '\\.')}:5: error xml-syntax: .*(nested more than 256 deep|Excessive depth)`));
        assert.doesNotMatch(r.stderr + r.stdout, STACK_FRAME);
      }
    }
  } finally {
    cleanup();
  }
});

test('no walk over a tree recurses: serialise, text content and XPath of a 100,000-deep tree', () => {
  // The parser refuses such depth; a tree built by hand proves the walks themselves do not need a stack.
  const depth = 100_000;
  const text = nested(depth, 'x&amp;y');
  let parent: XmlElement | undefined;
  let root: XmlElement | undefined;
  for (let i = 0; i < depth; i++) {
    const start = i * 3;
    const closeStart = text.length - (i + 1) * 4;
    const el: XmlElement = {
      kind: 'element', name: 'a', attrs: [], children: [], parent, start, openEnd: start + 3,
      closeStart, end: closeStart + 4, selfClosing: false, line: 1, nsDecls: new Map(),
    };
    if (parent) parent.children.push(el);
    root ??= el;
    parent = el;
  }
  const innerStart = depth * 3;
  parent!.children.push({ kind: 'text', start: innerStart, end: innerStart + 7 } as XmlNode);
  assert.equal(serializeTree({ text, root: root!, top: [root!], eol: '\n' }), text);
  assert.equal(textContent(text, root!), 'x&y');
  assert.equal(xpathOf(parent!), "/a".repeat(depth));
});

test('linear: 100,000 attributes on one element, and a duplicate found at its end', () => {
  // Quadratic before: 40,000 attributes took 5.6 s and 100,000 over 60 s; now well under a second on a quiet machine.
  const attrs = Array.from({ length: 100_000 }, (_, i) => `a${i}="${i}"`).join(' ');
  const started = Date.now();
  assert.equal(parseXml(`<domain ${attrs}/>`).root.attrs.length, 100_000);
  const e = syntaxError(`<domain ${attrs} a5="again"/>`);
  assert.match(e.message, /attribute a5 appears twice/);
  assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
});

test('linear: 500,000 siblings on one line, parsed and given an interface (indentation detection)', () => {
  // Quadratic before: 100,000 took 5.6 s and 500,000 over 20 s; the bound is generous for a loaded machine.
  const xml = `<domain type="kvm">\n  <name>wide</name>\n  <devices>${'<disk/>'.repeat(500_000)}</devices>\n</domain>\n`;
  const started = Date.now();
  const doc = DomainDoc.parse(xml, 'wide.xml');
  assert.equal(doc.indentUnit(doc.devices!), '  ');
  const after = addInterface(doc, '<interface type="ethernet">\n  <target dev="t0" managed="no"/>\n</interface>');
  assert.equal(after.interfaceElements().length, 1);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
});

test('linear: the line count of one very long line, and XPaths of 100,000 siblings', () => {
  // Counting lines looked for the next line break from every node: quadratic on a file of one line.
  const n = 200_000;
  const started = Date.now();
  const { root } = parseXml(`<r>${'<!-- c --><a/>'.repeat(n)}</r>\n<!-- end -->`);
  const kids = root.children.filter((c): c is XmlElement => c.kind === 'element');
  assert.equal(xpathOf(kids[n - 1]!), `/r/a[${n}]`);
  for (const k of kids.slice(0, 100_000)) xpathOf(k);
  assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
});

test("outside the root only XML's white space: NBSP and BOM are refused, as xmllint refuses them", () => {
  for (const [text, line] of [
    ['<domain/>\n\u00A0\n', 2],
    ['<domain/>\uFEFF', 1],
    ['\u00A0<domain/>', 1],
    ['<?xml version="1.0"?>\n\uFEFF<domain/>', 2],
    ['<domain/>\u2028', 1],
  ] as const) {
    const e = syntaxError(text);
    assert.equal(e.line, line, JSON.stringify(text));
    assert.match(e.message, /text outside the root element/);
  }
  // A BOM as the first character is the encoding's mark, not text.
  parseXml('\uFEFF<domain/>\n \t\r\n');
});

test('lint without the schema refuses a file that is not UTF-8, as rule xml-syntax with its line', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'latin1.xml');
    writeFileSync(file, Buffer.concat([Buffer.from('<domain type="kvm">\n  <name>caf'), Buffer.from([0xe9]), Buffer.from('</name>\n</domain>\n')]));
    for (const args of [['--no-schema'], ['--schema-dir', join(dir, 'none')]]) {
      const r = runCli(['lint', ...args, '--format', 'json', file]);
      assert.equal(r.code, 3, r.stderr);
      const findings = (JSON.parse(r.stdout) as { findings: { rule: string; line: number; message: string }[] }).findings;
      assert.deepEqual(
        findings.map((f) => [f.rule, f.line]),
        [['xml-syntax', 2]],
      );
      assert.match(findings[0]!.message, /not UTF-8/);
    }
  } finally {
    cleanup();
  }
});
