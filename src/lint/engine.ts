// lint: the per-file phase over all lanes, then the cross-file phase (claims
// shared between interfaces, in one domain or across files), then order.
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { inputError } from '../errors.js';
import type { HostFacts } from '../host/facts.js';
import { DEFAULT_SCHEMA_DIR, domainSchemaPath, schemaExists } from '../schema/libvirt.js';
import type { SchemaVerdict } from '../schema/libvirt.js';
import { findXmllint, validateWithXmllint } from '../schema/xmllint.js';
import { applySchemaVerdict } from './file.js';
import { isReadFailure } from './lane.js';
import type { ItemResult, LaneConfig, WorkItem } from './lane.js';
import { ALWAYS_ON, domainRules } from './rules/index.js';
import * as fileUnreadable from './rules/file-unreadable.js';
import { locateProblems } from './locate.js';
import { lintItems } from './schedule.js';
import type { Claim, DomainRule, Finding, LintResult, Scope, Summary } from './types.js';
import { readXmlBytes } from '../domain/read.js';

export interface LintOptions {
  /** Folder with libvirt's domain.rng; default /usr/share/libvirt/schemas. */
  schemaDir?: string | undefined;
  /** false: no schema validation (--no-schema). */
  schema?: boolean;
  /** A missing schema is an error instead of a note. */
  requireSchema?: boolean;
  /** Rule ids that do not run (file-unreadable and xml-syntax always run). */
  disable?: readonly string[];
  /** Which claims the cross-file rules compare: one folder's (default), one file's, or the whole run's. */
  scope?: Scope;
  /** Live devices (--host). */
  host?: HostFacts | undefined;
  /** Worker threads besides the main thread; default from the core count and the number of files. */
  workers?: number;
  /** Who applies the schema: xmllint (default when on PATH) or libxml2-wasm in the lanes. */
  schemaEngine?: SchemaEngine;
  /** Notes for stderr (skipped files, skipped schema). */
  note?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export type SchemaEngine = 'xmllint' | 'wasm';

/** VNET_LINT_SCHEMA_ENGINE=xmllint|wasm chooses; by default xmllint when it is installed, else libxml2-wasm. */
export function chooseEngine(wanted = process.env.VNET_LINT_SCHEMA_ENGINE): { engine: SchemaEngine; xmllint: string | undefined } {
  const xmllint = wanted === 'wasm' ? undefined : findXmllint();
  if (wanted === 'xmllint' && !xmllint)
    throw inputError('E_NO_XMLLINT', 'VNET_LINT_SCHEMA_ENGINE=xmllint but xmllint is not on PATH', { hint: 'install libxml2-utils, or unset VNET_LINT_SCHEMA_ENGINE' });
  return xmllint ? { engine: 'xmllint', xmllint } : { engine: 'wasm', xmllint: undefined };
}

/** Files per xmllint process at least (its schema compile costs as much as checking about 200 files). */
const XMLLINT_FILES = 200;

/**
 * How many xmllint processes check the schema beside the lanes: one per core, each from XMLLINT_FILES
 * files. They share the cores with the rules and finish about together. On 2 cores one xmllint instead of
 * two was no faster at the corpus x10 and 39% slower at x100 (the one xmllint alone took as long as the
 * whole run before): docs/benchmarks.md.
 */
export function xmllintProcesses(files: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.ceil(files / XMLLINT_FILES)));
}

/**
 * Below this many files per lane a worker costs more than it saves: its start (its own module graph, and
 * with libxml2-wasm the schema compile) and the two lanes slowing each other (both parse, both allocate).
 * Measured on 2 cores, the corpus x10 (3,590 files, about 1 s of JavaScript) took less time and a quarter
 * less CPU in one lane than in two; at x100 two lanes finished first (docs/benchmarks.md).
 */
const FILES_PER_WORKER = 5000;

/** Worker threads besides the main thread; `busy` cores are taken by something else (xmllint). */
export function defaultWorkers(files: number, busy = 0, cores = availableParallelism()): number {
  const env = process.env.VNET_LINT_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.max(0, Number(env) - 1);
  return Math.max(0, Math.min(cores - busy, Math.floor(files / FILES_PER_WORKER)) - 1);
}

/** Related places listed per finding: all of them would make output quadratic in the files sharing a value. */
export const MAX_RELATED = 20;

// Code-point order: the same on every machine, whatever its locale.
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The group a claim is compared within: a domain's own interfaces always share one. */
function scopeOf(file: string, scope: Scope): string {
  if (scope === 'run') return '';
  if (scope === 'file') return file;
  return file === '<stdin>' ? file : dirname(file);
}

export function crossFile(claims: Claim[], rules: readonly DomainRule[], scope: Scope = 'folder'): Finding[] {
  const byRule = new Map(rules.map((r) => [r.id, r]));
  const groups = new Map<string, Claim[]>();
  // A file's claims come one after another: its scope is worked out once.
  let lastFile: string | undefined;
  let lastScope = '';
  for (const c of claims) {
    if (c.file !== lastFile) {
      lastFile = c.file;
      lastScope = scopeOf(c.file, scope);
    }
    const k = `${c.rule}\0${lastScope}\0${c.key}`;
    const g = groups.get(k);
    if (g) g.push(c);
    else groups.set(k, [c]);
  }
  const out: Finding[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const rule = byRule.get(group[0]!.rule)!;
    for (const claim of group) {
      const others: Claim[] = [];
      for (const o of group) {
        if (o === claim) continue;
        others.push(o);
        if (others.length === MAX_RELATED) break;
      }
      const { message, hint } = rule.conflict!(claim, others, group.length - 1);
      out.push({
        rule: rule.id,
        severity: rule.severity,
        file: claim.file,
        line: claim.line,
        xpath: claim.xpath,
        message,
        hint,
        related: others.map(({ file, line, xpath }) => ({ file, line, xpath })),
      });
    }
  }
  return out;
}

/** Where libvirt's schema is, or why it is not applied. */
function schemaPlan(opts: LintOptions, disabled: ReadonlySet<string>): { dir: string | undefined; state: Summary['schema'] } {
  if (opts.schema === false || disabled.has('schema')) return { dir: undefined, state: 'disabled' };
  const dir = opts.schemaDir ?? DEFAULT_SCHEMA_DIR;
  if (schemaExists(dir)) return { dir, state: 'validated' };
  if (opts.requireSchema)
    throw inputError('E_SCHEMA_MISSING', `libvirt's schema ${domainSchemaPath(dir)} is not there`, {
      where: '--require-schema',
      hint: 'install it (Debian: libvirt0 ships /usr/share/libvirt/schemas) or give --schema-dir DIR',
    });
  opts.note?.(`schema validation skipped: ${domainSchemaPath(dir)} not found (install libvirt's schemas or give --schema-dir; --require-schema makes this an error)`);
  return { dir: undefined, state: 'skipped' };
}

/** Puts xmllint's verdicts into the outcomes of the files the lanes linted. */
async function mergeVerdicts(
  items: WorkItem[],
  results: ItemResult[],
  pending: Promise<(SchemaVerdict | undefined)[]>,
  enabled: ReadonlySet<string>,
): Promise<void> {
  let verdicts: (SchemaVerdict | undefined)[];
  try {
    verdicts = await pending;
  } catch (e) {
    throw inputError('E_XMLLINT', `schema check with xmllint failed: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'run with VNET_LINT_SCHEMA_ENGINE=wasm to use the built-in validator',
    });
  }
  results.forEach((r, i) => {
    if (isReadFailure(r) || r.status !== 'linted') return;
    const verdict = verdicts[i];
    if (!verdict) throw inputError('E_XMLLINT', 'xmllint gave no verdict', { file: r.file, hint: 'run with VNET_LINT_SCHEMA_ENGINE=wasm' });
    const item = items[i]!;
    // Only invalid files are read again: xmllint names a line, the finding wants the element's XPath too.
    const located =
      verdict.kind === 'invalid'
        ? { ...verdict, problems: locateProblems(Buffer.from(item.data ?? readXmlBytes(item.path!)).toString('utf8'), verdict.problems) }
        : verdict;
    results[i] = applySchemaVerdict(r, located, enabled);
  });
}

export async function lint(items: WorkItem[], opts: LintOptions = {}): Promise<LintResult> {
  const disabled = new Set((opts.disable ?? []).filter((id) => !ALWAYS_ON.has(id)));
  const enabled = [...domainRules.map((r) => r.id), 'xml-syntax', 'schema'].filter((id) => !disabled.has(id));
  const schema = schemaPlan(opts, disabled);
  const { engine, xmllint } = schema.dir === undefined ? { engine: 'wasm', xmllint: undefined } : chooseEngine(opts.schemaEngine);
  // xmllint checks every file in processes of its own while the lanes run the rules.
  const external =
    engine === 'xmllint'
      ? validateWithXmllint(
          xmllint!,
          domainSchemaPath(schema.dir!),
          items.map((i) => (i.data ? { path: '-', data: i.data } : { path: i.path! })),
          xmllintProcesses(items.length),
        )
      : undefined;
  external?.catch(() => {});
  const config: LaneConfig = {
    schemaDir: engine === 'wasm' ? schema.dir : undefined,
    enabled,
    host: opts.host && { netns: opts.host.netns, links: [...opts.host.links.values()] },
  };
  const workers = opts.workers ?? defaultWorkers(items.length, external ? 1 : 0);
  const results = await lintItems(items, config, workers, (done) => opts.onProgress?.(done, items.length));
  if (external) await mergeVerdicts(items, results, external, new Set(enabled));

  // Each file's findings in one list (input order), then sorted within the file: the order of one global
  // sort by (file's place, line, rule, message), without comparing across a whole large run.
  const perFile: Finding[][] = [];
  const claims: Claim[] = [];
  const order = new Map<string, number>();
  const linted: string[] = [];
  const directives = new Map<string, [number, string[]][]>();
  let files = 0;
  let skipped = 0;
  for (const r of results) {
    order.set(r.file, perFile.length);
    if (isReadFailure(r)) {
      const own: Finding[] = [];
      perFile.push(own);
      files++;
      linted.push(r.file);
      fileUnreadable.check(r.failure, {
        report: (f) => own.push({ rule: fileUnreadable.id, severity: fileUnreadable.severity, file: r.file, ...f }),
        claim: () => {},
      });
      continue;
    }
    perFile.push(r.findings);
    if (r.status === 'skipped') {
      skipped++;
      opts.note?.(`${r.file}: root element is <${r.root}>, not <domain>; skipped`);
      continue;
    }
    files++;
    linted.push(r.file);
    for (const c of r.claims) claims.push(c);
    if (r.directives) directives.set(r.file, r.directives);
  }
  for (const f of crossFile(claims, domainRules, opts.scope)) perFile[order.get(f.file)!]!.push(f);
  const findings: Finding[] = [];
  for (const list of perFile) {
    if (list.length > 1) list.sort((a, b) => a.line - b.line || cmp(a.rule, b.rule) || cmp(a.message, b.message));
    for (const f of list) findings.push(f);
  }
  const count = (s: Finding['severity']): number => findings.filter((f) => f.severity === s).length;
  return {
    files,
    findings,
    summary: { error: count('error'), warning: count('warning'), info: count('info'), skipped, schema: schema.state },
    linted,
    directives,
  };
}
