// lint over the whole shared corpus: no crash, and libvirt's schema verdict for
// every file equals virt-xml-validate's as recorded in the corpus manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lint } from '../../src/lint/engine.js';
import { expandInputs } from '../../src/lint/inputs.js';
import { DEFAULT_SCHEMA_DIR, schemaExists } from '../../src/schema/libvirt.js';
import { findXmllint } from '../../src/schema/xmllint.js';
import type { SchemaEngine } from '../../src/lint/engine.js';
import type { LintResult } from '../../src/lint/types.js';
import { corpusDir, requireCorpus, requireOrSkip } from '../helpers.js';

interface ManifestEntry {
  file: string;
  root: string | null;
  wellFormed: boolean;
  virtXmlValidate: boolean | null;
}

const results = new Map<SchemaEngine, LintResult>();

for (const engine of ['xmllint', 'wasm'] as const) {
  test(`the corpus with the ${engine} engine: every schema verdict equals virt-xml-validate, nothing crashes`, async (t) => {
    if (!requireCorpus(t)) return;
    if (!requireOrSkip(t, schemaExists(DEFAULT_SCHEMA_DIR), `no libvirt schema in ${DEFAULT_SCHEMA_DIR}`)) return;
    if (engine === 'xmllint' && !requireOrSkip(t, findXmllint() !== undefined, 'xmllint is not installed (libxml2-utils)')) return;
    const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as ManifestEntry[];
    const notes: string[] = [];
    // Workers forced on for wasm: the corpus is small enough that the default would stay on the main thread.
    const result = await lint(expandInputs([corpusDir]), { note: (m) => notes.push(m), schemaEngine: engine, ...(engine === 'wasm' && { workers: 1 }) });
    results.set(engine, result);

    const byFile = new Map<string, Set<string>>();
    for (const f of result.findings) {
      const rel = relative(corpusDir, f.file);
      const rules = byFile.get(rel) ?? new Set<string>();
      rules.add(f.rule);
      byFile.set(rel, rules);
    }
    const mismatches: string[] = [];
    for (const e of manifest) {
      const rules = byFile.get(e.file) ?? new Set<string>();
      if (e.root !== null && e.root !== 'domain') {
        assert.equal(rules.size, 0, `${e.file} (<${e.root}>) is skipped`);
        assert.ok(notes.some((n) => n.includes(e.file) && n.includes('skipped')), `${e.file} skipped with a note`);
        continue;
      }
      if (!e.wellFormed) assert.ok(rules.has('xml-syntax'), `${e.file} is not well-formed`);
      const valid = !rules.has('schema') && !rules.has('xml-syntax');
      if (valid !== e.virtXmlValidate) mismatches.push(`${e.file}: lint says ${valid ? 'valid' : 'invalid'}, virt-xml-validate ${e.virtXmlValidate}`);
    }
    assert.deepEqual(mismatches, []);
    const domains = manifest.filter((e) => e.root === 'domain' || e.root === null);
    assert.equal(result.files, domains.length);
    assert.equal(result.summary.skipped, manifest.length - domains.length);
    assert.equal(result.summary.schema, 'validated');
    // Every finding is well-formed, whatever the rule.
    for (const f of result.findings) {
      assert.ok(f.line >= 1 && f.xpath.startsWith('/') && f.message && f.hint, JSON.stringify(f));
    }
  });
}

test('both engines give the very same findings on the corpus', (t) => {
  const a = results.get('xmllint');
  const b = results.get('wasm');
  if (!requireOrSkip(t, a !== undefined && b !== undefined, 'needs both engine runs above')) return;
  assert.deepEqual(a, b);
});
