// lint: libvirt's schema plus the rules libvirt does not check, over files
// and folders, with output for people (text) and for CI (json, sarif, github,
// codeclimate, junit). Config file, inline suppression and --ignore apply here.
import { appendFileSync, readFileSync } from 'node:fs';
import { MAX_XML_BYTES } from '../domain/read.js';
import { cannotWrite, usageError } from '../errors.js';
import type { HostFacts } from '../host/facts.js';
import { globMatcher, loadConfig, SCOPES } from '../lint/config.js';
import type { LintConfig } from '../lint/config.js';
import { ruleDocsUrl } from '../lint/docs.js';
import { lint } from '../lint/engine.js';
import { expandInputs } from '../lint/inputs.js';
import type { WorkItem } from '../lint/lane.js';
import { ALWAYS_ON, allRules, ruleById } from '../lint/rules/index.js';
import { suppress } from '../lint/suppress.js';
import type { Finding, LintResult, Scope } from '../lint/types.js';
import { FLEET, LINT_OPTIMIZE_FROM, withoutOptimizingCompiler } from './compiler.js';
import { checkSource, namedDocs, uriOf } from './domain-source.js';
import type { DomainSourceOptions } from './domain-source.js';

export const FORMATS = ['text', 'json', 'sarif', 'github', 'codeclimate', 'junit', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export interface LintCommandOptions extends DomainSourceOptions {
  schemaDir?: string;
  /** commander's --no-schema sets this to false. */
  schema?: boolean;
  requireSchema?: boolean;
  format?: Format;
  disable?: string[];
  ignore?: string[];
  maxWarnings?: string;
  scope?: string;
  /** A path, or false for --no-config. */
  config?: string | false;
  automationId?: string;
  /** Append a Markdown summary (findings and a Mermaid picture) to this file, e.g. $GITHUB_STEP_SUMMARY. */
  summary?: string;
  quiet?: boolean;
  /** Inputs without a domain XML pass (pre-commit hands over whatever *.xml is staged). */
  allowEmpty?: boolean;
  listRules?: boolean;
  host?: boolean;
  netns?: string;
}

const note = (m: string): void => {
  process.stderr.write(`vnet-virt: note: ${m}\n`);
};

interface Settings {
  disable: string[];
  maxWarnings: number;
  scope: Scope;
  config: LintConfig;
}

function parseOptions(opts: LintCommandOptions): Settings {
  const disable = (opts.disable ?? []).flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean);
  for (const id of disable) {
    if (!ruleById.has(id))
      throw usageError('E_USAGE', `unknown rule '${id}'`, { where: '--disable', hint: 'vnet-virt lint --list-rules shows them' });
    if (ALWAYS_ON.has(id))
      throw usageError('E_USAGE', `${id} cannot be disabled: a file lint cannot read must fail`, { where: '--disable', hint: 'fix or leave out the file instead' });
  }
  let maxWarnings = Number.POSITIVE_INFINITY;
  if (opts.maxWarnings !== undefined) {
    if (!/^\d+$/.test(opts.maxWarnings))
      throw usageError('E_USAGE', `'${opts.maxWarnings}' is not a count`, { where: '--max-warnings', hint: 'give a whole number, e.g. --max-warnings 0' });
    maxWarnings = Number(opts.maxWarnings);
  }
  if (opts.netns !== undefined && !opts.host)
    throw usageError('E_USAGE', '--netns only applies with --host', { where: '--netns', hint: 'add --host' });
  if (opts.schema === false && opts.requireSchema)
    throw usageError('E_USAGE', '--no-schema and --require-schema exclude each other', { where: '--require-schema' });
  if (opts.automationId !== undefined && opts.format !== 'sarif')
    throw usageError('E_USAGE', '--automation-id only applies with --format sarif', { where: '--automation-id', hint: 'add --format sarif' });
  const cwd = process.cwd();
  const config: LintConfig =
    opts.config === false ? { source: undefined, rules: {}, scope: undefined, ignore: [], base: cwd } : loadConfig(cwd, opts.config);
  for (const [id, setting] of Object.entries(config.rules)) if (setting === 'off' && !disable.includes(id)) disable.push(id);
  const scope = (opts.scope ?? config.scope ?? 'folder') as Scope;
  if (!SCOPES.includes(scope)) throw usageError('E_USAGE', `'${opts.scope}' is not a scope`, { where: '--scope', hint: `give one of ${SCOPES.join(', ')}` });
  return { disable, maxWarnings, scope, config };
}

/** A progress line on a terminal, only once a run has taken more than a second. */
function progress(): { update: (done: number, total: number) => void; clear: () => void } {
  const start = Date.now();
  let last = 0;
  let shown = false;
  if (!process.stderr.isTTY) return { update: () => {}, clear: () => {} };
  return {
    update: (done, total) => {
      const now = Date.now();
      if (now - start < 1000 || now - last < 100) return;
      last = now;
      shown = true;
      process.stderr.write(`\rvnet-virt: linting ${done}/${total} files`);
    },
    clear: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/** The Markdown summary, with a Mermaid picture of every domain that parses and whose interfaces make sense. */
async function markdown(result: LintResult, items: readonly WorkItem[]): Promise<string> {
  const [{ formatMarkdown }, { DomainDoc }, { intentOf }, { topologyOf }, { renderMermaid }] = await Promise.all([
    import('../lint/format/markdown.js'),
    import('../domain/doc.js'),
    import('../intent/intent.js'),
    import('../show/model.js'),
    import('../show/render.js'),
  ]);
  const docs = items.flatMap((item) => {
    try {
      const data = item.data ?? (item.path !== undefined ? readFileSync(item.path) : undefined);
      if (data === undefined || data.length > MAX_XML_BYTES) return [];
      const doc = DomainDoc.parse(Buffer.from(data).toString('utf8'), item.file);
      intentOf(doc);
      return [doc];
    } catch {
      // A file lint already reports as broken is not drawn.
      return [];
    }
  });
  return formatMarkdown(result, docs.length ? renderMermaid(topologyOf({ docs })) : undefined);
}

async function render(result: LintResult, format: Format, opts: LintCommandOptions, items: readonly WorkItem[]): Promise<string> {
  switch (format) {
    case 'json':
      return (await import('../lint/format/json.js')).formatJson(result);
    case 'sarif':
      return (await import('../lint/format/sarif.js')).formatSarif(result, { automationId: opts.automationId });
    case 'github':
      return (await import('../lint/format/github.js')).formatGithub(result);
    case 'codeclimate':
      return (await import('../lint/format/codeclimate.js')).formatCodeclimate(result);
    case 'junit':
      return (await import('../lint/format/junit.js')).formatJunit(result);
    case 'markdown':
      return markdown(result, items);
    default:
      return (await import('../lint/format/text.js')).formatText(result);
  }
}

/** `lint --list-rules`: every rule, its default severity (or the config's) and its docs. */
function listRules(format: Format, config: LintConfig): string {
  const rows = allRules.map((r) => ({
    id: r.id,
    severity: config.rules[r.id] ?? r.severity,
    description: r.description,
    helpUri: ruleDocsUrl(r.id),
  }));
  if (format === 'json') return JSON.stringify(rows) + '\n';
  const width = Math.max(...rows.map((r) => r.id.length));
  return rows.map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${r.description}\n`).join('');
}

/** The config's severities, inline suppressions and --quiet, applied to the engine's findings. */
function adjust(result: LintResult, config: LintConfig, quiet: boolean): LintResult {
  let findings: Finding[] = result.findings.map((f) => {
    const setting = config.rules[f.rule];
    return setting && setting !== 'off' ? { ...f, severity: setting } : f;
  });
  findings = suppress(findings, (file) => result.directives?.get(file)).kept;
  if (quiet) findings = findings.filter((f) => f.severity === 'error');
  const count = (s: Finding['severity']): number => findings.filter((f) => f.severity === s).length;
  return { ...result, findings, summary: { ...result.summary, error: count('error'), warning: count('warning'), info: count('info') } };
}

/** By name: each domain's definition (persistent, or live with --live), named URI/NAME. */
async function domainItems(opts: LintCommandOptions): Promise<WorkItem[]> {
  const named = await namedDocs(opts, opts.live ? 'live' : 'persistent', note, opts.live === true && !opts.allDomains);
  if (named.length === 0) note(`no domains are defined at ${uriOf(opts)}`);
  return named.map((n, index) => ({ index, file: n.doc.file, data: Buffer.from(n.doc.text) }));
}

/** Runs lint and prints the result; returns the exit code (0 clean, 3 errors or too many warnings). */
export async function runLint(inputs: string[], opts: LintCommandOptions, out: (s: string) => void): Promise<number> {
  const settings = parseOptions(opts);
  const format = opts.format ?? 'text';
  if (opts.listRules) {
    out(listRules(format, settings.config));
    return 0;
  }
  const byName = checkSource(inputs, opts, { all: true });
  if (!byName && inputs.length === 0)
    throw usageError('E_USAGE', 'no input', { where: 'lint', hint: "name domain XML files or folders, or '-' for stdin; see vnet-virt lint --help" });
  let host: HostFacts | undefined;
  if (opts.host) host = await (await import('../host/facts.js')).readHostFacts(opts.netns);
  // --ignore patterns are relative to the working folder, the config's to the config's folder.
  const noDomain = (where: string): void => {
    if (!opts.allowEmpty)
      throw usageError('E_NO_INPUT', `no domain XML found in ${where}`, { hint: 'name domain XML files or folders that hold them (--allow-empty lets this pass)' });
    note(`no domain XML found in ${where}`);
  };
  const items = byName
    ? await domainItems(opts)
    : expandInputs(
    inputs,
    note,
    [
      { base: process.cwd(), patterns: opts.ignore ?? [] },
      { base: settings.config.base, patterns: settings.config.ignore },
    ]
      // Without patterns, no path is tested at all (a path test per file costs as much as reading it).
      .filter((r) => r.patterns.length > 0)
      .map((r) => ({ base: r.base, matches: globMatcher(r.patterns) })),
    noDomain,
  );
  // A run of 64 to 8,000 files ends before TurboFan's compiling pays (src/commands/compiler.ts).
  if (items.length >= FLEET && items.length < LINT_OPTIMIZE_FROM) await withoutOptimizingCompiler();
  const bar = progress();
  let result: LintResult;
  try {
    result = await lint(items, {
      schemaDir: opts.schemaDir,
      schema: opts.schema !== false,
      requireSchema: opts.requireSchema === true,
      disable: settings.disable,
      scope: settings.scope,
      host,
      note,
      onProgress: bar.update,
    });
  } finally {
    bar.clear();
  }
  if (result.files === 0 && !byName) noDomain(inputs.join(', '));
  result = adjust(result, settings.config, opts.quiet === true);
  if (format === 'text') for (const chunk of (await import('../lint/format/text.js')).textChunks(result)) out(chunk);
  else out(await render(result, format, opts, items));
  if (opts.summary !== undefined) {
    const summary = await render(result, 'markdown', opts, items);
    try {
      // Appended, as CI summaries ($GITHUB_STEP_SUMMARY) collect what every step adds.
      appendFileSync(opts.summary, summary);
    } catch (e) {
      throw cannotWrite(opts.summary, '--summary', e, 'write the summary');
    }
  }
  return result.summary.error > 0 || result.summary.warning > settings.maxWarnings ? 3 : 0;
}
