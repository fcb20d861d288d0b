// lint: the per-file phase over all lanes, then the cross-file phase (claims
// shared between interfaces, in one domain or across files), then order.
import { availableParallelism } from 'node:os';
import { inputError, VnetError } from '../errors.js';
import type { HostFacts } from '../host/facts.js';
import { DEFAULT_SCHEMA_DIR, domainSchemaPath, schemaExists } from '../schema/relaxng.js';
import { isReadFailure } from './lane.js';
import type { LaneConfig, WorkItem } from './lane.js';
import { domainRules } from './rules/index.js';
import { lintItems } from './schedule.js';
import type { Claim, DomainRule, Finding, LintResult, Summary } from './types.js';

export interface LintOptions {
  /** Folder with libvirt's domain.rng; default /usr/share/libvirt/schemas. */
  schemaDir?: string | undefined;
  /** false: no schema validation (--no-schema). */
  schema?: boolean;
  /** A missing schema is an error instead of a note. */
  requireSchema?: boolean;
  /** Rule ids that do not run. */
  disable?: readonly string[];
  /** Live devices (--host). */
  host?: HostFacts | undefined;
  /** Worker threads besides the main thread; default from the core count and the number of files. */
  workers?: number;
  /** Notes for stderr (skipped files, skipped schema). */
  note?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Below this many files per lane a worker costs more to start (wasm + schema compile) than it saves. */
const FILES_PER_WORKER = 300;

export function defaultWorkers(files: number): number {
  const env = process.env.VNET_LINT_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.max(0, Number(env) - 1);
  return Math.max(0, Math.min(availableParallelism(), Math.floor(files / FILES_PER_WORKER)) - 1);
}

/** Related places listed per finding: all of them would make output quadratic in the files sharing a value. */
export const MAX_RELATED = 20;

// Code-point order: the same on every machine, whatever its locale.
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function crossFile(claims: Claim[], rules: readonly DomainRule[]): Finding[] {
  const byRule = new Map(rules.map((r) => [r.id, r]));
  const groups = new Map<string, Claim[]>();
  for (const c of claims) {
    const k = `${c.rule}\0${c.key}`;
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

export async function lint(items: WorkItem[], opts: LintOptions = {}): Promise<LintResult> {
  const disabled = new Set(opts.disable ?? []);
  const enabled = [...domainRules.map((r) => r.id), 'xml-syntax', 'schema'].filter((id) => !disabled.has(id));
  let schemaDir: string | undefined;
  let schemaState: Summary['schema'] = 'disabled';
  if (opts.schema !== false && !disabled.has('schema')) {
    const dir = opts.schemaDir ?? DEFAULT_SCHEMA_DIR;
    if (schemaExists(dir)) {
      schemaDir = dir;
      schemaState = 'validated';
    } else if (opts.requireSchema) {
      throw inputError('E_SCHEMA_MISSING', `libvirt's schema ${domainSchemaPath(dir)} is not there`, {
        where: '--require-schema',
        hint: 'install it (Debian: libvirt0 ships /usr/share/libvirt/schemas) or give --schema-dir DIR',
      });
    } else {
      schemaState = 'skipped';
      opts.note?.(`schema validation skipped: ${domainSchemaPath(dir)} not found (install libvirt's schemas or give --schema-dir; --require-schema makes this an error)`);
    }
  }
  const config: LaneConfig = {
    schemaDir,
    enabled,
    host: opts.host && { netns: opts.host.netns, links: [...opts.host.links.values()] },
  };
  const results = await lintItems(items, config, opts.workers ?? defaultWorkers(items.length), (done) =>
    opts.onProgress?.(done, items.length),
  );

  const findings: Finding[] = [];
  const claims: Claim[] = [];
  const order = new Map<string, number>();
  let files = 0;
  let skipped = 0;
  for (const r of results) {
    if (isReadFailure(r))
      throw new VnetError(r.failure.message, { code: r.failure.code, exitCode: 3, file: r.file, hint: r.failure.hint });
    order.set(r.file, order.size);
    if (r.status === 'skipped') {
      skipped++;
      opts.note?.(`${r.file}: root element is <${r.root}>, not <domain>; skipped`);
      continue;
    }
    files++;
    findings.push(...r.findings);
    claims.push(...r.claims);
  }
  findings.push(...crossFile(claims, domainRules));
  findings.sort(
    (a, b) =>
      order.get(a.file)! - order.get(b.file)! ||
      a.line - b.line ||
      cmp(a.rule, b.rule) ||
      cmp(a.message, b.message),
  );
  const count = (s: Finding['severity']): number => findings.filter((f) => f.severity === s).length;
  return {
    files,
    findings,
    summary: { error: count('error'), warning: count('warning'), info: count('info'), skipped, schema: schemaState },
  };
}
