// The anatomy of every rule: its own file named by its id, fixtures that
// trigger it and ones that must not, and a documented section in docs/rules.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allRules, domainRules } from '../../src/lint/rules/index.js';
import { repoRoot } from '../helpers.js';
import { expectations, fixturesOf, lintFixturesDir } from './lint-fixtures.js';

// The table: ids are a contract (users disable rules by them), never renamed.
const CONTRACT: Record<string, string> = {
  'managed-no-type': 'error',
  'managed-no-without-dev': 'error',
  'reserved-target-prefix': 'warning',
  'direct-mode-passthru': 'error',
  'mac-multicast': 'error',
  'mac-zero': 'error',
  'mac-reserved-fe': 'warning',
  'mac-duplicate': 'error',
  'target-duplicate': 'error',
  'ifname-invalid': 'error',
  'passthrough-shared': 'error',
  'pci-address-conflict': 'error',
  'trust-rx-filters-non-virtio': 'warning',
  'unmanaged-macvtap-without-mac': 'error',
  'macvtap-mac-mismatch': 'error',
  'target-is-veth': 'error',
  'target-missing': 'error',
  'multiqueue-tap': 'warning',
  'record-mismatch': 'error',
  'direct-host-unreachable': 'info',
  'vepa-needs-hairpin': 'info',
  schema: 'error',
  'xml-syntax': 'error',
  'file-unreadable': 'error',
};

const rulesDir = join(repoRoot, 'src/lint/rules');
const docs = readFileSync(join(repoRoot, 'docs/rules.md'), 'utf8');

test('every rule of the contract exists with its severity', () => {
  for (const [id, severity] of Object.entries(CONTRACT)) {
    const rule = allRules.find((r) => r.id === id);
    assert.ok(rule, `rule ${id} exists`);
    assert.equal(rule.severity, severity, `severity of ${id}`);
  }
});

test('every rule file is registered, and its id is its file name', async () => {
  const files = readdirSync(rulesDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  assert.deepEqual(files.map((f) => f.replace(/\.ts$/, '')).sort(), allRules.map((r) => r.id).sort());
  for (const f of files) {
    const mod = (await import(`../../src/lint/rules/${f.replace(/\.ts$/, '.js')}`)) as { id: string };
    assert.equal(mod.id, f.replace(/\.ts$/, ''));
    assert.ok(allRules.includes(mod as never), `${f} is listed in rules/index.ts`);
  }
  assert.equal(new Set(allRules.map((r) => r.id)).size, allRules.length, 'ids are unique');
});

for (const rule of allRules) {
  test(`${rule.id}: description, fixtures and docs`, () => {
    assert.match(rule.description, /^[^\n]{10,160}$/, 'a one-line description');
    assert.match(rule.id, /^[a-z][a-z0-9-]*$/);
    if ('check' in rule) assert.equal(typeof rule.check, 'function');
    const section = docs.split(/^## /m).find((s) => s.startsWith(`${rule.id}\n`));
    assert.ok(section, `docs/rules.md has a section "## ${rule.id}"`);
    assert.match(section, new RegExp(`\\*\\*${rule.severity}\\b`), 'the section states the severity');
    assert.match(section, /^Why: /m, 'why');
    // A file that cannot be read has no XML to show: lint-ci.test.ts makes missing, unreadable and oversized ones.
    if ('stage' in rule && rule.stage === 'read') return;
    const fixtures = fixturesOf(rule.id);
    const bad = fixtures.filter((f) => f.kind === 'bad');
    const good = fixtures.filter((f) => f.kind === 'good');
    assert.ok(bad.length > 0, `fixtures/lint/${rule.id}/bad*.xml exists`);
    assert.ok(good.length > 0, `fixtures/lint/${rule.id}/good*.xml exists`);
    for (const f of bad) {
      const files = f.path.endsWith('.xml') ? [f.path] : readdirSync(f.path).map((n) => join(f.path, n));
      assert.ok(expectations(files).length > 0, `${f.name} marks its findings with <!-- expect -->`);
    }
    assert.match(section, /^Bad\b.*:\n```xml\n/m, 'a bad example');
    assert.match(section, /^Good\b.*:\n```xml\n/m, 'a good example');
  });
}

test('rules that claim keys say how a conflict reads; host-only rules have -host fixtures', () => {
  for (const rule of domainRules) {
    const source = readFileSync(join(rulesDir, `${rule.id}.ts`), 'utf8');
    if (source.includes('r.claim(')) assert.equal(typeof rule.conflict, 'function', `${rule.id} exports conflict`);
    if (rule.hostOnly) assert.ok(fixturesOf(rule.id).some((f) => f.kind === 'bad' && f.host), `${rule.id} has bad*-host fixtures`);
  }
});

test('no stray fixture folders', () => {
  const ids = new Set(allRules.map((r) => r.id));
  for (const name of readdirSync(lintFixturesDir)) if (!name.endsWith('.json')) assert.ok(ids.has(name), `fixtures/lint/${name} names a rule`);
});

test('docs sections are exactly the rules', () => {
  const headings = [...docs.matchAll(/^## (\S+)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(headings, allRules.map((r) => r.id).sort());
});
