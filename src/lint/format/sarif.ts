// SARIF 2.1.0 as GitHub code scanning takes it: one run, every rule described
// (with its docs section as help), one result per finding with its line, its
// element as a logical location and a fingerprint that survives moved lines.
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageInfo, ruleDoc, ruleDocsUrl, ruleName } from '../docs.js';
import { allRules } from '../rules/index.js';
import type { Finding, LintResult, Place, Rule, Severity } from '../types.js';
import { fingerprints, relativePath } from './common.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** The key of partialFingerprints; a new algorithm gets a new version. */
export const FINGERPRINT_KEY = 'vnetVirtFinding/v1';

export interface SarifOptions {
  /** runs[0].automationDetails.id: GitHub tells runs of one tool apart by it (category/run-id). */
  automationId?: string | undefined;
  cwd?: string;
}

function uriOf(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  if (file === '<stdin>') return { uri: 'stdin' };
  const rel = relativePath(file, cwd);
  // encodeURIComponent per segment: encodeURI would leave '#' and '?' in a name, read as fragment and query.
  if (rel !== undefined) return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(resolve(cwd, file)).href };
}

function location(p: Place, cwd: string): object {
  return {
    physicalLocation: { artifactLocation: uriOf(p.file, cwd), region: { startLine: p.line } },
    logicalLocations: [{ fullyQualifiedName: p.xpath, kind: 'element' }],
  };
}

function result(f: Finding, ruleIndex: number, fingerprint: string, cwd: string): object {
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${f.message}. Fix: ${f.hint}` },
    locations: [location(f, cwd)],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint },
    ...(f.related?.length && {
      relatedLocations: f.related.map((r, id) => ({ id, ...location(r, cwd), message: { text: 'the same value is used here' } })),
    }),
  };
}

function descriptor(r: Rule): object {
  const doc = ruleDoc(r.id);
  const helpUri = ruleDocsUrl(r.id);
  const full = doc?.summary || r.description;
  return {
    id: r.id,
    name: ruleName(r.id),
    shortDescription: { text: r.description },
    fullDescription: { text: full },
    help: {
      text: `${full}${doc?.why ? ` Why: ${doc.why}` : ''} See ${helpUri}`,
      markdown: doc ? `${doc.markdown}\n\n[docs/rules.md#${r.id}](${helpUri})` : `${full}\n\n[docs/rules.md#${r.id}](${helpUri})`,
    },
    helpUri,
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: { tags: ['libvirt', 'domain-xml'], precision: 'very-high' },
  };
}

export function formatSarif(res: LintResult, opts: SarifOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const info = packageInfo();
  const index = new Map(allRules.map((r, i) => [r.id, i]));
  const prints = fingerprints(res.findings, cwd);
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: info.name,
            version: info.version,
            semanticVersion: info.version,
            informationUri: info.homepage,
            rules: allRules.map(descriptor),
          },
        },
        ...(opts.automationId !== undefined && { automationDetails: { id: opts.automationId } }),
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd + sep).href } },
        results: res.findings.map((f, i) => result(f, index.get(f.rule)!, prints[i]!, cwd)),
      },
    ],
  };
  return JSON.stringify(log) + '\n';
}
