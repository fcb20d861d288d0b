// SARIF 2.1.0 as GitHub code scanning takes it: one run, every rule described,
// one result per finding with its line and its element as a logical location.
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allRules } from '../rules/index.js';
import type { Finding, LintResult, Place, Severity } from '../types.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

function uriOf(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  if (file === '<stdin>') return { uri: 'stdin' };
  const abs = isAbsolute(file) ? file : `${cwd}${sep}${file}`;
  const rel = relative(cwd, abs);
  // encodeURI would leave '#' and '?' in a name, which a URI reads as fragment and query.
  if (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
    return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(abs).href };
}

function location(p: Place, cwd: string): object {
  return {
    physicalLocation: { artifactLocation: uriOf(p.file, cwd), region: { startLine: p.line } },
    logicalLocations: [{ fullyQualifiedName: p.xpath, kind: 'element' }],
  };
}

function result(f: Finding, ruleIndex: number, cwd: string): object {
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${f.message}. Fix: ${f.hint}` },
    locations: [location(f, cwd)],
    ...(f.related?.length && {
      relatedLocations: f.related.map((r, id) => ({ id, ...location(r, cwd), message: { text: 'the same value is used here' } })),
    }),
  };
}

export function formatSarif(res: LintResult, opts: { version: string; cwd?: string }): string {
  const cwd = opts.cwd ?? process.cwd();
  const index = new Map(allRules.map((r, i) => [r.id, i]));
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vnet-virt',
            version: opts.version,
            rules: allRules.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.description },
              help: { text: `${r.description}. See docs/rules.md#${r.id}.` },
              defaultConfiguration: { level: LEVEL[r.severity] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd + sep).href } },
        results: res.findings.map((f) => result(f, index.get(f.rule)!, cwd)),
      },
    ],
  };
  return JSON.stringify(log) + '\n';
}
