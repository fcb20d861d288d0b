// The per-file phase: parse, validate against the schema, run every enabled
// rule. Pure apart from the schema's validator; runs in any thread.
import { isUtf8 } from 'node:buffer';
import { DomainDoc } from '../domain/doc.js';
import { interfacesOf } from '../domain/interfaces.js';
import { findRecord } from '../domain/record.js';
import type { XmlSyntaxError } from '../domain/xml.js';
import { VnetError } from '../errors.js';
import type { HostFacts } from '../host/facts.js';
import type { SchemaVerdict } from '../schema/libvirt.js';
import type { DomainSchema } from '../schema/relaxng.js';
import { domainRules } from './rules/index.js';
import * as schemaRule from './rules/schema.js';
import * as xmlSyntaxRule from './rules/xml-syntax.js';
import { directives } from './suppress.js';
import type { Claim, FileContext, Finding, Report, Reporter } from './types.js';

export interface LaneSetup {
  schema: DomainSchema | undefined;
  /** Rule ids that run. */
  enabled: ReadonlySet<string>;
  host: HostFacts | undefined;
}

export interface FileOutcome {
  file: string;
  /** linted: a <domain>; not-well-formed: only xml-syntax was reported; skipped: another root. */
  status: 'linted' | 'not-well-formed' | 'skipped';
  root?: string;
  findings: Finding[];
  claims: Claim[];
  /** The file's inline suppressions (line -> rule ids, '*' for all), when it has any: read here, so the file is never read again. */
  directives?: [number, string[]][];
}

/**
 * A copy of `s` that keeps nothing else alive. V8 makes a slice of a string (an
 * attribute value) point into the whole parent (the file's text), so a finding
 * or claim kept until the end of the run would keep every file's text in memory.
 */
export const own = (s: string): string => (s.length < 13 ? s : (s + ' ').slice(0, -1));

/** Files a rule's reports and claims under the rule: one per file, `rule` set before each rule runs. */
class FileReporter implements Reporter {
  constructor(
    private readonly out: FileOutcome,
    public rule: { id: string; severity: Finding['severity'] },
  ) {}

  report(r: Report): void {
    this.out.findings.push({
      rule: this.rule.id,
      severity: r.severity ?? this.rule.severity,
      file: this.out.file,
      line: r.line,
      xpath: own(r.xpath),
      message: own(r.message),
      hint: own(r.hint),
    });
  }

  claim(key: string, at: { line: number; xpath: string }): void {
    this.out.claims.push({ rule: this.rule.id, key: own(key), file: this.out.file, line: at.line, xpath: own(at.xpath) });
  }
}

const reporterFor = (rule: { id: string; severity: Finding['severity'] }, out: FileOutcome): FileReporter => new FileReporter(out, rule);

/**
 * Adds what libvirt's schema said about a file to its outcome. libxml2 is stricter
 * than vnet-virt's parser in corners (encodings, character ranges): when it finds
 * the file not well-formed, its word decides and only xml-syntax is reported.
 */
export function applySchemaVerdict(out: FileOutcome, verdict: SchemaVerdict, enabled: ReadonlySet<string>): FileOutcome {
  if (verdict.kind === 'valid') return out;
  if (verdict.kind === 'invalid') {
    schemaRule.check(verdict.problems, reporterFor(schemaRule, out));
    return out;
  }
  const broken: FileOutcome = { file: out.file, status: 'not-well-formed', root: out.root, findings: [], claims: [] };
  const first = verdict.problems[0]!;
  if (enabled.has(xmlSyntaxRule.id)) xmlSyntaxRule.check({ message: first.message, line: first.line }, reporterFor(xmlSyntaxRule, broken));
  return broken;
}

/** The 1-based line of the first byte that is not part of a UTF-8 character, or 0 when all are. */
export function firstNonUtf8Line(buf: Uint8Array): number {
  if (isUtf8(buf)) return 0;
  // Only a broken file gets here: line by line (a line break is never inside a UTF-8 character).
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (!isUtf8(buf.subarray(lineStart, i))) return line;
    line++;
    lineStart = i + 1;
  }
  return line;
}

export function lintBuffer(file: string, buf: Uint8Array, setup: LaneSetup): FileOutcome {
  const out: FileOutcome = { file, status: 'linted', findings: [], claims: [] };
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  // As attach reads a file: UTF-8 or refused (a lossy decode would hide the bytes libvirt stumbles on).
  const badLine = firstNonUtf8Line(bytes);
  if (badLine > 0) {
    out.status = 'not-well-formed';
    // A byte-order mark of UTF-16 (or NULs beside ASCII) says which conversion helps.
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff) || bytes.subarray(0, 64).includes(0);
    const message = utf16 ? 'the file is not UTF-8 (is it UTF-16? convert it: iconv -f UTF-16 -t UTF-8)' : 'the file is not UTF-8 (convert it: iconv -t UTF-8)';
    if (setup.enabled.has(xmlSyntaxRule.id)) xmlSyntaxRule.check({ message, line: badLine }, reporterFor(xmlSyntaxRule, out));
    return out;
  }
  const text = bytes.toString('utf8');
  let doc: DomainDoc;
  try {
    // Rules read elements and attributes only: no text nodes to allocate.
    doc = DomainDoc.parse(text, file, { keepText: false });
  } catch (e) {
    if (!(e instanceof VnetError)) throw e;
    if (e.code === 'E_NOT_DOMAIN') {
      out.status = 'skipped';
      out.root = (e.where ?? '').replace(/^\//, '');
      return out;
    }
    if (e.code !== 'E_XML_SYNTAX') throw e;
    out.status = 'not-well-formed';
    const cause = e.cause as XmlSyntaxError;
    if (setup.enabled.has(xmlSyntaxRule.id)) xmlSyntaxRule.check({ message: cause.message, line: cause.line }, reporterFor(xmlSyntaxRule, out));
    return out;
  }
  out.root = 'domain';
  if (setup.schema && setup.enabled.has(schemaRule.id)) {
    const checked = applySchemaVerdict(out, setup.schema.validate(buf, file), setup.enabled);
    if (checked.status !== 'linted') return checked;
  }
  const marks = directives(text);
  if (marks.size) out.directives = [...marks].map(([line, ids]) => [line, [...ids].map(own)]);
  const ctx: FileContext = { file, doc, interfaces: interfacesOf(doc), record: findRecord(doc), host: setup.host };
  const reporter = new FileReporter(out, xmlSyntaxRule);
  for (const rule of domainRules) {
    if (!setup.enabled.has(rule.id) || (rule.hostOnly && !setup.host)) continue;
    reporter.rule = rule;
    try {
      rule.check(ctx, reporter);
    } catch (e) {
      throw new Error(`rule ${rule.id} failed on ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return out;
}
