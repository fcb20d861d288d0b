// Each output format against its contract: JSON against schemas/lint-result.json,
// SARIF against the SARIF 2.1.0 JSON Schema, GitHub annotations and text by shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { formatGithub } from '../../src/lint/format/github.js';
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
