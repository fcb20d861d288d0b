// Each rule against its fixtures: bad ones give exactly the marked findings, good ones none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allRules } from '../../src/lint/rules/index.js';
import { schemaExists, DEFAULT_SCHEMA_DIR } from '../../src/schema/libvirt.js';
import { requireOrSkip } from '../helpers.js';
import { expectations, fixturesOf, lintFixture } from './lint-fixtures.js';

for (const rule of allRules) {
  for (const f of fixturesOf(rule.id)) {
    test(`${rule.id}: ${f.name} ${f.kind === 'bad' ? 'is reported where marked' : 'is not reported'}`, async (t) => {
      // Schema findings need libvirt's schema; the other rules run without it.
      const needsSchema = rule.id === 'schema';
      if (needsSchema && !requireOrSkip(t, schemaExists(DEFAULT_SCHEMA_DIR), `no libvirt schema in ${DEFAULT_SCHEMA_DIR}`)) return;
      const { result, files } = await lintFixture(f, { schema: needsSchema });
      const got = result.findings
        .filter((x) => x.rule === rule.id)
        .map((x) => `${x.file}:${x.line}`)
        .sort();
      const marked = expectations(files);
      if (f.kind === 'good') {
        assert.deepEqual(got, [], `${rule.id} must not fire on ${f.name}`);
        assert.equal(marked.length, 0, 'a good fixture has no expect markers');
        return;
      }
      assert.ok(marked.length > 0, `${f.name} marks where ${rule.id} must be reported (<!-- expect -->)`);
      assert.deepEqual(got, marked.map((m) => `${m.file}:${m.line}`).sort());
      for (const m of marked) {
        const finding = result.findings.find((x) => x.rule === rule.id && x.file === m.file && x.line === m.line)!;
        assert.equal(finding.severity, m.severity ?? rule.severity, `severity at ${m.file}:${m.line}`);
        assert.ok(finding.message.length > 0 && finding.hint.length > 0, 'message and hint are not empty');
        assert.match(finding.xpath, /^\//, 'xpath is absolute');
      }
    });
  }
}

test('good fixtures are valid for libvirt (schema) and free of errors of any rule', async (t) => {
  if (!requireOrSkip(t, schemaExists(DEFAULT_SCHEMA_DIR), `no libvirt schema in ${DEFAULT_SCHEMA_DIR}`)) return;
  for (const rule of allRules)
    for (const f of fixturesOf(rule.id).filter((x) => x.kind === 'good')) {
      const { result } = await lintFixture(f);
      const broken = result.findings.filter((x) => x.severity === 'error');
      assert.deepEqual(broken, [], `${rule.id}/${f.name}`);
    }
});

test('macvtap-mac-mismatch: when the live macvtap agrees with the guest, the hint fixes the record, not the guest', async () => {
  const f = fixturesOf('macvtap-mac-mismatch').find((x) => x.name === 'bad-record-host.xml')!;
  const { result } = await lintFixture(f, { schema: false });
  const finding = result.findings.find((x) => x.rule === 'macvtap-mac-mismatch')!;
  assert.match(finding.message, /recorded macvtap MAC 52:54:00:00:00:01/);
  assert.doesNotMatch(finding.message, /live macvtap's MAC/);
  assert.match(finding.hint, /correct the record entry's mac to 52:54:00:5e:11:02/);
  assert.doesNotMatch(finding.hint, /set <mac address="52:54:00:5e:11:02"\/>/, 'not: set the MAC the guest already has');
});
