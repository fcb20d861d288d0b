// Differential fuzzing against libxml2: seeded byte-level mutations of the
// shared corpus, each of which must get the same well-formedness verdict from
// vnet-virt's parser as from `xmllint --noout` (one xmllint run for them all).
// VNET_FUZZ_SEED and VNET_FUZZ_COUNT vary the run; a failure names the seed and
// keeps the disagreeing files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { parseXml, xpathOf, XmlSyntaxError } from '../../src/domain/xml.js';
import type { ParseOptions, XmlElement } from '../../src/domain/xml.js';
import { lintBuffer } from '../../src/lint/file.js';
import type { LaneSetup } from '../../src/lint/file.js';
import { findXmllint } from '../../src/schema/xmllint.js';
import { corpusDir, requireCorpus, requireOrSkip, seededRandom, tempDir } from '../helpers.js';

const SEED = Number(process.env.VNET_FUZZ_SEED ?? 20261130);
const COUNT = Number(process.env.VNET_FUZZ_COUNT ?? 3000);

/** What mutations insert: XML's syntax, its corner cases, and bytes that are not UTF-8. */
const TOKENS: (string | number[])[] = [
  '<', '>', '&', ';', '"', "'", '=', '/', '?', '!', '-', '[', ']', ' ', '\t', '\r', '\n', ':',
  '&amp;', '&lt;', '&#0;', '&#9;', '&#x10FFFF;', '&#x110000;', '&#xD800;', '&#65;', '&#x;', '&foo;', '&#xFFFE;',
  ']]>', '<!--', '-->', '--', '<?', '?>', '<?xml version="1.0"?>', '<![CDATA[', '<!DOCTYPE domain>', '<!DOCTYPE d [<!ENTITY e "x">]>',
  '<a>', '</a>', '<a/>', '<b x="1" x="2"/>', ' x="1"', " y='2'", 'xmlns:p="urn:x"', '<p:q/>', '<1a/>', '<a.b-c/>', '<é/>', '<a\u00B7b/>',
  '\u00A0', '\uFEFF', '\u2028', '\u0085', '\uFFFD', '\u{1F600}', '\u0000', '\u0001', '\u000B', '\u001F', '\u007F', '\uFFFE',
  [0xff], [0xfe], [0xc3], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xef, 0xbb, 0xbf],
];
const STRUCTURE = new Set([...'<>&"\'=/?!-[]:;'].map((c) => c.charCodeAt(0)));

function mutate(src: Buffer, rnd: () => number): { data: Buffer; ops: string[] } {
  let data = src;
  const ops: string[] = [];
  const int = (n: number): number => Math.floor(rnd() * n);
  // Half the time the place is next to a piece of syntax, where the interesting mistakes are.
  const place = (): number => {
    // Some at the very start or end: before and after the root element are places of their own.
    const edge = rnd();
    if (edge < 0.08) return Math.min(data.length, int(4));
    if (edge < 0.16) return Math.max(0, data.length - int(4));
    if (rnd() < 0.5 && data.length) {
      for (let tries = 0; tries < 50; tries++) {
        const i = int(data.length);
        if (STRUCTURE.has(data[i]!)) return i + int(2);
      }
    }
    return int(data.length + 1);
  };
  // Mostly one change: more of them and nearly every mutant is broken, which tests less.
  const rounds = rnd() < 0.75 ? 1 : 2;
  for (let r = 0; r < rounds; r++) {
    const at = place();
    const p = rnd();
    const op = p < 0.2 ? 0 : p < 0.65 ? 1 : p < 0.8 ? 3 : p < 0.95 ? 4 : 5;
    if (op === 0) {
      const n = 1 + int(8);
      data = Buffer.concat([data.subarray(0, at), data.subarray(at + n)]);
      ops.push(`delete ${n} at ${at}`);
    } else if (op === 1) {
      const t = TOKENS[int(TOKENS.length)]!;
      const bytes = typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t);
      data = Buffer.concat([data.subarray(0, at), bytes, data.subarray(at)]);
      ops.push(`insert ${JSON.stringify(typeof t === 'string' ? t : t.map((b) => b.toString(16)))} at ${at}`);
    } else if (op === 3) {
      const from = int(data.length + 1);
      const n = 1 + int(40);
      data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + n), data.subarray(at)]);
      ops.push(`copy ${n} from ${from} to ${at}`);
    } else if (op === 4 && at < data.length) {
      data = Buffer.from(data);
      const b = int(256);
      data[at] = b;
      ops.push(`set byte ${at} to ${b.toString(16)}`);
    } else {
      data = data.subarray(0, at);
      ops.push(`truncate at ${at}`);
    }
  }
  return { data, ops };
}

const SYNTAX_ONLY: LaneSetup = { schema: undefined, enabled: new Set(['xml-syntax']), host: undefined };

/** vnet-virt's verdict, as lint without the schema gives it: the xml-syntax finding, or undefined. */
function ours(data: Buffer): string | undefined {
  const out = lintBuffer('x.xml', data, SYNTAX_ONLY);
  if (out.status !== 'not-well-formed') return undefined;
  const f = out.findings[0]!;
  return `line ${f.line}: ${f.message}`;
}

/** xmllint's verdict per file, from one run over all of them: the first parser error, or undefined. */
function theirs(xmllint: string, dir: string, names: string[]): (string | undefined)[] {
  const r = spawnSync(xmllint, ['--noout', '--nonet', ...names], { cwd: dir, encoding: 'latin1', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
  const errors = new Map<string, string>();
  // "NAME:LINE: parser error : MESSAGE": fatal errors only (namespace errors and warnings leave a file well-formed, as libvirt takes it).
  for (const m of r.stderr.matchAll(/^(m\d+\.xml):(\d+): parser error : (.*)$/gm)) if (!errors.has(m[1]!)) errors.set(m[1]!, `line ${m[2]}: ${m[3]}`);
  return names.map((n) => errors.get(n));
}

/** The corpus as it is, then `COUNT` seeded mutants of it. */
function fuzzCases(): { name: string; data: Buffer; what: string }[] {
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as { file: string }[];
  const sources = manifest.map((e) => readFileSync(join(corpusDir, e.file)));
  const rnd = seededRandom(SEED);
  const cases: { name: string; data: Buffer; what: string }[] = [];
  sources.forEach((data, i) => cases.push({ name: `m${String(cases.length).padStart(5, '0')}.xml`, data, what: manifest[i]!.file }));
  for (let n = 0; n < COUNT; n++) {
    const i = Math.floor(rnd() * sources.length);
    const { data, ops } = mutate(sources[i]!, rnd);
    cases.push({ name: `m${String(cases.length).padStart(5, '0')}.xml`, data, what: `${manifest[i]!.file}: ${ops.join(', ')}` });
  }
  return cases;
}

/** Everything a reader of elements sees of a parse: the error, or every element's name, place, attributes and XPath. */
function elementsSeen(text: string, options: ParseOptions): string {
  let root: XmlElement;
  try {
    root = parseXml(text, options).root;
  } catch (e) {
    if (e instanceof XmlSyntaxError) return `error line ${e.line} column ${e.column}: ${e.message}`;
    throw e;
  }
  const out: string[] = [];
  const todo: XmlElement[] = [root];
  for (let el = todo.pop(); el; el = todo.pop()) {
    const attrs = el.attrs.map((a) => `${a.name}=${JSON.stringify(a.value)}@${a.start}-${a.end}`).join(' ');
    out.push(`${xpathOf(el)} ${el.name} line ${el.line} ${el.start}/${el.openEnd}/${el.closeStart}/${el.end} ${el.selfClosing} ${attrs} ns ${[...el.nsDecls].join()}`);
    const kids = el.children.filter((c): c is XmlElement => c.kind === 'element');
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
  }
  return out.join('\n');
}

test(`lean parse (keepText: false, as lint parses) equals the full parse on the corpus and ${COUNT} mutants (seed ${SEED})`, (t) => {
  if (!requireCorpus(t)) return;
  const differ: string[] = [];
  let broken = 0;
  for (const c of fuzzCases()) {
    if (!isUtf8(c.data)) continue;
    const text = c.data.toString('utf8');
    const full = elementsSeen(text, {});
    if (full.startsWith('error')) broken++;
    if (elementsSeen(text, { keepText: false }) !== full) differ.push(`${c.name} (${c.what})`);
  }
  assert.ok(broken > COUNT / 10, `only ${broken} broken cases: the comparison must cover errors too`);
  assert.deepEqual(differ, []);
});

test(`differential: ${COUNT} seeded mutations of the corpus get xmllint's well-formedness verdict (seed ${SEED})`, (t) => {
  const xmllint = findXmllint();
  if (!requireCorpus(t) || !requireOrSkip(t, xmllint !== undefined, 'xmllint is not installed (Debian: libxml2-utils)')) return;
  const { dir, cleanup } = tempDir('vnet-fuzz-');
  try {
    const cases = fuzzCases();
    for (const c of cases) writeFileSync(join(dir, c.name), c.data);
    const verdicts = theirs(xmllint!, dir, cases.map((c) => c.name));
    const rejected = verdicts.filter((v) => v !== undefined).length;
    // The mutations must exercise both verdicts, or the test proves nothing.
    assert.ok(rejected > cases.length / 10 && rejected < (cases.length * 9) / 10, `xmllint rejected ${rejected} of ${cases.length}`);
    const disagree: string[] = [];
    let keep: string | undefined;
    cases.forEach((c, i) => {
      const mine = ours(c.data);
      const libxml2 = verdicts[i];
      if ((mine === undefined) === (libxml2 === undefined)) return;
      keep ??= mkdtempSync(join(tmpdir(), 'vnet-fuzz-disagree-'));
      writeFileSync(join(keep, c.name), c.data);
      disagree.push(`${c.name} (${c.what}): vnet-virt ${mine ?? 'accepts'}; xmllint ${libxml2 ?? 'accepts'}`);
    });
    assert.equal(disagree.length, 0, `seed ${SEED}: ${disagree.length} disagreements (files kept in ${keep}):\n${disagree.slice(0, 30).join('\n')}`);
  } finally {
    cleanup();
  }
});
