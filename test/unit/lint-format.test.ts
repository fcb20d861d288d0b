// Each output format against its contract: JSON against schemas/lint-result.json,
// SARIF against the SARIF 2.1.0 JSON Schema, GitHub annotations and text by shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { formatCodeclimate } from '../../src/lint/format/codeclimate.js';
import { formatGithub } from '../../src/lint/format/github.js';
import { formatJunit } from '../../src/lint/format/junit.js';
import { formatJson } from '../../src/lint/format/json.js';
import { formatSarif } from '../../src/lint/format/sarif.js';
import { formatText } from '../../src/lint/format/text.js';
import { lint } from '../../src/lint/engine.js';
import { expandInputs } from '../../src/lint/inputs.js';
import { allRules } from '../../src/lint/rules/index.js';
import { ruleDocsUrl } from '../../src/lint/docs.js';
import type { LintResult } from '../../src/lint/types.js';
import { repoRoot } from '../helpers.js';
import { lintFixturesDir, recordedHost } from './lint-fixtures.js';

// CommonJS packages: under NodeNext their ESM default import is module.exports, whose .default is the export.
const Ajv04 = Ajv04Module.default;
const addFormats = addFormatsModule.default;

const schema = (name: string): object => JSON.parse(readFileSync(join(repoRoot, 'schemas', name), 'utf8')) as object;

/** Every fixture of every rule at once: all severities, cross-file findings, a file that is not well-formed. */
async function everything(): Promise<LintResult> {
  return lint(expandInputs([lintFixturesDir]), { workers: 0, host: recordedHost() });
}

test('json matches schemas/lint-result.json', async () => {
  const result = await everything();
  const out = formatJson(result);
  assert.ok(out.endsWith('\n') && out.indexOf('\n') === out.length - 1, 'one line');
  const doc = JSON.parse(out) as LintResult;
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema('lint-result.json'));
  assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.ok(doc.findings.some((f) => f.related?.length), 'cross-file findings carry related places');
  assert.deepEqual(new Set(doc.findings.map((f) => f.severity)), new Set(['error', 'warning', 'info']));
  // The schema rejects what it should: a finding without a hint.
  const broken = structuredClone(doc) as unknown as { findings: Record<string, unknown>[] };
  delete broken.findings[0]!.hint;
  assert.equal(validate(broken), false);
});

test('sarif validates against the SARIF 2.1.0 schema and has what GitHub code scanning reads', async () => {
  const result = await everything();
  const log = JSON.parse(formatSarif(result, { cwd: repoRoot })) as {
    version: string;
    runs: {
      tool: { driver: { name: string; rules: { id: string; defaultConfiguration: { level: string } }[] } };
      results: {
        ruleId: string;
        ruleIndex: number;
        level: string;
        message: { text: string };
        locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number } } }[];
      }[];
    }[];
  };
  const ajv = new Ajv04({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema('sarif-schema-2.1.0.json'));
  assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(log.version, '2.1.0');
  const run = log.runs[0]!;
  assert.equal(run.tool.driver.name, 'vnet-virt');
  assert.deepEqual(run.tool.driver.rules.map((r) => r.id), allRules.map((r) => r.id));
  assert.equal(run.results.length, result.findings.length);
  for (const r of run.results) {
    assert.equal(run.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
    assert.ok(['error', 'warning', 'note'].includes(r.level));
    const loc = r.locations[0]!.physicalLocation;
    assert.ok(loc.region.startLine >= 1);
    assert.equal(loc.artifactLocation.uriBaseId, '%SRCROOT%');
    assert.match(loc.artifactLocation.uri, /^fixtures\/lint\//, 'relative to the repository root');
  }
  // A broken log is refused: the schema check is real.
  const bad = structuredClone(log) as unknown as { runs: { results: { level: string }[] }[] };
  bad.runs[0]!.results[0]!.level = 'fatal';
  assert.equal(validate(bad), false);
});

test('github annotations: one workflow command per finding, escaped', async () => {
  const result = await everything();
  const lines = formatGithub(result).trimEnd().split('\n');
  assert.equal(lines.length, result.findings.length);
  for (const line of lines) assert.match(line, /^::(error|warning|notice) file=[^,:]+,line=[1-9]\d*,title=vnet-virt [a-z-]+::[^\n]+$/);
  assert.ok(lines.some((l) => l.startsWith('::notice ')), 'info is a notice');
  const special = formatGithub({
    files: 1,
    findings: [{ rule: 'mac-zero', severity: 'error', file: 'a,b:c.xml', line: 3, xpath: '/domain', message: '100% bad', hint: 'fix\nit' }],
    summary: { error: 1, warning: 0, info: 0, skipped: 0, schema: 'validated' },
  });
  assert.equal(
    special,
    `::error file=a%2Cb%3Ac.xml,line=3,title=vnet-virt mac-zero::100%25 bad%0Ahint: fix%0Ait%0Adocs: ${ruleDocsUrl('mac-zero')}\n`,
  );
});

test('text: file:line: severity rule: message, the hint and the docs below, a summary last', async () => {
  const result = await everything();
  const lines = formatText(result).trimEnd().split('\n');
  const findingLines = lines.filter((l) => !l.startsWith('  hint: ') && !l.startsWith('  docs: ')).slice(0, -1);
  assert.equal(lines.filter((l) => /^  docs: https:\/\/\S+\/docs\/rules\.md#[a-z-]+$/.test(l)).length, result.findings.length);
  assert.equal(findingLines.length, result.findings.length);
  result.findings.forEach((f, i) => assert.equal(findingLines[i], `${f.file}:${f.line}: ${f.severity} ${f.rule}: ${f.message}`));
  assert.match(lines.at(-1)!, /^\d+ files: \d+ errors?, \d+ warnings?, \d+ info$/);
});

test("sarif: a file name with '#', '?', '%' or a leading '..' stays one relative path in its URI", () => {
  const finding = (file: string): LintResult['findings'][number] =>
    ({ rule: 'mac-zero', severity: 'error', file, line: 1, xpath: '/domain', message: 'm', hint: 'h' });
  const result: LintResult = {
    files: 4,
    findings: ['d/a#1.xml', 'b?.xml', '100%.xml', '..x.xml', '../out.xml'].map(finding),
    summary: { error: 5, warning: 0, info: 0, skipped: 0, schema: 'validated' },
  };
  const log = JSON.parse(formatSarif(result, { cwd: '/w' })) as {
    runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[] }[] }[];
  };
  const uris = log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
  assert.deepEqual(uris, [
    { uri: 'd/a%231.xml', uriBaseId: '%SRCROOT%' },
    { uri: 'b%3F.xml', uriBaseId: '%SRCROOT%' },
    { uri: '100%25.xml', uriBaseId: '%SRCROOT%' },
    { uri: '..x.xml', uriBaseId: '%SRCROOT%' },
    { uri: 'file:///out.xml' },
  ]);
});

test('sarif: every rule has a readable name, full description, help with the bad and good examples, an https helpUri; the run says who and which', async () => {
  const result = await everything();
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; homepage: string };
  interface Descriptor {
    id: string;
    name: string;
    fullDescription: { text: string };
    help: { text: string; markdown: string };
    helpUri: string;
  }
  const log = JSON.parse(formatSarif(result, { cwd: repoRoot, automationId: 'vnet-virt/domains/' })) as {
    runs: {
      tool: { driver: { version: string; informationUri: string; rules: Descriptor[] } };
      automationDetails: { id: string };
      results: { partialFingerprints: Record<string, string> }[];
    }[];
  };
  const run = log.runs[0]!;
  assert.equal(run.tool.driver.version, pkg.version);
  assert.equal(run.tool.driver.informationUri, pkg.homepage);
  assert.match(pkg.homepage, /^https:\/\//);
  assert.equal(run.automationDetails.id, 'vnet-virt/domains/');
  for (const r of run.tool.driver.rules) {
    assert.notEqual(r.name.toLowerCase(), r.id.toLowerCase(), `${r.id}: a name that is not the id`);
    assert.match(r.name, /^[A-Z][A-Za-z]+$/);
    assert.ok(r.fullDescription.text.length > 20, `${r.id}: fullDescription`);
    assert.match(r.helpUri, new RegExp(`^https://\\S+/docs/rules\\.md#${r.id}$`));
    assert.ok(r.help.text.includes(r.helpUri));
    if (r.id !== 'file-unreadable') {
      assert.match(r.help.markdown, /^Bad\b.*:\n```xml\n/m, `${r.id}: the bad example`);
      assert.match(r.help.markdown, /^Good\b.*:\n```xml\n/m, `${r.id}: the good example`);
    }
  }
  const prints = run.results.map((r) => r.partialFingerprints['vnetVirtFinding/v1']);
  assert.ok(prints.every((p) => typeof p === 'string' && /^[0-9a-f]{32}$/.test(p)));
  assert.equal(new Set(prints).size, prints.length, 'one fingerprint per finding');
  const plain = JSON.parse(formatSarif(result, { cwd: repoRoot })) as { runs: Record<string, unknown>[] };
  assert.equal(plain.runs[0]!['automationDetails'], undefined);
});

test('sarif fingerprints survive lines moving above a finding', async () => {
  const f = { rule: 'mac-zero', severity: 'error' as const, file: 'a.xml', xpath: '/domain/devices/interface[1]/mac', message: 'm', hint: 'h' };
  const sum = { error: 1, warning: 0, info: 0, skipped: 0, schema: 'validated' as const };
  const print = (line: number): string =>
    (JSON.parse(formatSarif({ files: 1, findings: [{ ...f, line }], summary: sum }, { cwd: '/w' })) as { runs: { results: { partialFingerprints: Record<string, string> }[] }[] }).runs[0]!
      .results[0]!.partialFingerprints['vnetVirtFinding/v1']!;
  assert.equal(print(10), print(14));
});

// GitLab's documented Code Quality report format: an array of issues, each with these fields.
const GITLAB_CODE_QUALITY = {
  type: 'array',
  items: {
    type: 'object',
    required: ['description', 'check_name', 'fingerprint', 'severity', 'location'],
    properties: {
      description: { type: 'string', minLength: 1 },
      check_name: { type: 'string', minLength: 1 },
      fingerprint: { type: 'string', minLength: 1 },
      severity: { enum: ['info', 'minor', 'major', 'critical', 'blocker'] },
      location: {
        type: 'object',
        required: ['path', 'lines'],
        properties: {
          path: { type: 'string', pattern: '^[^/]' },
          lines: { type: 'object', required: ['begin'], properties: { begin: { type: 'integer', minimum: 1 } } },
        },
      },
    },
  },
};

test("codeclimate: GitLab Code Quality's required fields, relative paths, unique fingerprints", async () => {
  const result = await everything();
  const issues = JSON.parse(formatCodeclimate(result, { cwd: repoRoot })) as { fingerprint: string; severity: string; location: { path: string } }[];
  const validate = new Ajv({ allErrors: true, strict: false }).compile(GITLAB_CODE_QUALITY);
  assert.ok(validate(issues), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(issues.length, result.findings.length);
  assert.equal(new Set(issues.map((i) => i.fingerprint)).size, issues.length);
  assert.ok(issues.every((i) => i.location.path.startsWith('fixtures/lint/')));
  assert.deepEqual(new Set(issues.map((i) => i.severity)), new Set(['major', 'minor', 'info']));
  const broken = structuredClone(issues) as unknown as Record<string, unknown>[];
  delete broken[0]!['check_name'];
  assert.equal(validate(broken), false);
});

test('junit: one suite per file, a failure per error, counts that add up, escaped text', async () => {
  const result = await everything();
  const xml = formatJunit(result);
  const count = (re: RegExp): number => xml.match(re)?.length ?? 0;
  assert.equal(count(/<testsuite /g), result.linted!.length);
  assert.equal(count(/<failure /g), result.summary.error);
  assert.match(xml, new RegExp(`<testsuites name="vnet-virt lint" tests="\\d+" failures="${result.summary.error}"`));
  const odd = formatJunit({
    files: 1,
    findings: [{ rule: 'mac-zero', severity: 'error', file: 'a&b<"c>.xml', line: 3, xpath: '/domain', message: 'bad \u0001 "x" & <y>', hint: 'h' }],
    summary: { error: 1, warning: 0, info: 0, skipped: 0, schema: 'validated' },
    linted: ['a&b<"c>.xml'],
  });
  assert.match(odd, /classname="a&amp;b&lt;&quot;c&gt;\.xml"/);
  assert.doesNotMatch(odd, /\u0001/);
});
