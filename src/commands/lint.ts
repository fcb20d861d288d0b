// lint: libvirt's schema plus the rules libvirt does not check, over files
// and folders, with output for people (text) and for CI (json, sarif, github).
import { usageError } from '../errors.js';
import type { HostFacts } from '../host/facts.js';
import { lint } from '../lint/engine.js';
import { expandInputs } from '../lint/inputs.js';
import { ruleById } from '../lint/rules/index.js';
import type { LintResult } from '../lint/types.js';

export const FORMATS = ['text', 'json', 'sarif', 'github'] as const;
export type Format = (typeof FORMATS)[number];

export interface LintCommandOptions {
  schemaDir?: string;
  /** commander's --no-schema sets this to false. */
  schema?: boolean;
  requireSchema?: boolean;
  format?: Format;
  disable?: string[];
  maxWarnings?: string;
  host?: boolean;
  netns?: string;
}

const note = (m: string): void => {
  process.stderr.write(`vnet-virt: note: ${m}\n`);
};

function parseOptions(opts: LintCommandOptions): { disable: string[]; maxWarnings: number } {
  const disable = (opts.disable ?? []).flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean);
  for (const id of disable)
    if (!ruleById.has(id))
      throw usageError('E_USAGE', `unknown rule '${id}'`, { where: '--disable', hint: `rules: ${[...ruleById.keys()].join(', ')}` });
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
  return { disable, maxWarnings };
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

async function render(result: LintResult, format: Format): Promise<string> {
  switch (format) {
    case 'json':
      return (await import('../lint/format/json.js')).formatJson(result);
    case 'sarif':
      return (await import('../lint/format/sarif.js')).formatSarif(result, { version: (await import('../version.js')).packageVersion() });
    case 'github':
      return (await import('../lint/format/github.js')).formatGithub(result);
    default:
      return (await import('../lint/format/text.js')).formatText(result);
  }
}

/** Runs lint and prints the result; returns the exit code (0 clean, 3 errors or too many warnings). */
export async function runLint(inputs: string[], opts: LintCommandOptions, out: (s: string) => void): Promise<number> {
  const { disable, maxWarnings } = parseOptions(opts);
  let host: HostFacts | undefined;
  if (opts.host) host = await (await import('../host/facts.js')).readHostFacts(opts.netns);
  const items = expandInputs(inputs, note);
  const bar = progress();
  let result: LintResult;
  try {
    result = await lint(items, {
      schemaDir: opts.schemaDir,
      schema: opts.schema !== false,
      requireSchema: opts.requireSchema === true,
      disable,
      host,
      note,
      onProgress: bar.update,
    });
  } finally {
    bar.clear();
  }
  out(await render(result, opts.format ?? 'text'));
  return result.summary.error > 0 || result.summary.warning > maxWarnings ? 3 : 0;
}
