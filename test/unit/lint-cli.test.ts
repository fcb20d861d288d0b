// The lint command as users run it: exit codes, options, stdin, folders, notes on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireOrSkip, runCli, tempDir } from '../helpers.js';
import { findXmllint } from '../../src/schema/xmllint.js';
import { lintFixturesDir } from './lint-fixtures.js';

const fx = (rule: string, name: string): string => join(lintFixturesDir, rule, name);
const json = (stdout: string): { files: number; findings: { rule: string; severity: string }[]; summary: Record<string, unknown> } =>
  JSON.parse(stdout);

test('a clean file exits 0', () => {
  const r = runCli(['lint', '--no-schema', fx('record-mismatch', 'good.xml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1 file: 0 errors, 0 warnings, 0 info\n$/);
});

test('an error-level finding exits 3', () => {
  const r = runCli(['lint', '--no-schema', fx('mac-zero', 'bad.xml')]);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /bad\.xml:\d+: error mac-zero: /);
});

test('warnings pass unless --max-warnings is exceeded', () => {
  const file = fx('mac-reserved-fe', 'bad.xml');
  assert.equal(runCli(['lint', '--no-schema', file]).code, 0);
  assert.equal(runCli(['lint', '--no-schema', '--max-warnings', '1', file]).code, 0);
  assert.equal(runCli(['lint', '--no-schema', '--max-warnings', '0', file]).code, 3);
});

test('--disable turns a rule off, by repeated or comma-separated ids', () => {
  const file = fx('mac-zero', 'bad.xml');
  assert.equal(runCli(['lint', '--no-schema', '--disable', 'mac-zero', file]).code, 0);
  const r = runCli(['lint', '--no-schema', '--format', 'json', '--disable', 'mac-zero,target-duplicate', '--disable', 'vepa-needs-hairpin', fx('vepa-needs-hairpin', 'bad.xml')]);
  assert.equal(r.code, 0);
  assert.ok(!json(r.stdout).findings.some((f) => f.rule === 'vepa-needs-hairpin'));
});

for (const [args, why] of [
  [['--disable', 'no-such-rule'], 'an unknown rule id'],
  [['--max-warnings', 'many'], 'a --max-warnings that is not a count'],
  [['--netns', 'x'], '--netns without --host'],
  [['--format', 'xml'], 'an unknown format'],
  [['--no-schema', '--require-schema'], '--no-schema with --require-schema'],
] as const) {
  test(`usage error (exit 2): ${why}`, () => {
    const r = runCli(['lint', ...args, fx('mac-zero', 'good.xml')]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.length > 0);
  });
}

test('lint with no input is a usage error', () => {
  assert.equal(runCli(['lint']).code, 2);
});

test('a missing file is a file-unreadable finding on it: exit 3', () => {
  const r = runCli(['lint', '/nonexistent/x.xml']);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /^\/nonexistent\/x\.xml:1: error file-unreadable: no such file$/m);
});

test("'-' reads stdin, named <stdin>", () => {
  const r = runCli(['lint', '--no-schema', '--format', 'json', '-'], { input: readFileSync(fx('mac-multicast', 'bad.xml'), 'utf8') });
  assert.equal(r.code, 3);
  const doc = JSON.parse(r.stdout) as { findings: { file: string; rule: string }[] };
  assert.ok(doc.findings.some((f) => f.file === '<stdin>' && f.rule === 'mac-multicast'));
});

test('folders are searched recursively for *.xml; other roots are skipped with a note', () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    copyFileSync(fx('mac-zero', 'good.xml'), join(dir, 'a/b/vm.xml'));
    copyFileSync(fx('mac-zero', 'bad.xml'), join(dir, 'vm2.xml'));
    writeFileSync(join(dir, 'a/net.xml'), "<network><name>default</name></network>\n");
    writeFileSync(join(dir, 'a/notes.txt'), 'not xml');
    const r = runCli(['lint', '--no-schema', '--format', 'json', dir]);
    assert.equal(r.code, 3);
    const doc = json(r.stdout);
    assert.equal(doc.files, 2);
    assert.equal(doc.summary['skipped'], 1);
    assert.match(r.stderr, /net\.xml: root element is <network>, not <domain>; skipped/);
  } finally {
    cleanup();
  }
});

test('cross-file findings: both files linted together, each naming the other', () => {
  const r = runCli(['lint', '--no-schema', fx('mac-duplicate', 'bad-across')]);
  assert.equal(r.code, 3);
  const lines = r.stdout.split('\n').filter((l) => l.includes(' mac-duplicate: '));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /web1\.xml:\d+: .*also used by .*web2\.xml:\d+/);
  assert.match(lines[1]!, /web2\.xml:\d+: .*also used by .*web1\.xml:\d+/);
});

test('a missing schema is said once and skipped; --require-schema makes it an error', () => {
  const { dir, cleanup } = tempDir();
  try {
    const files = [fx('managed-no-type', 'good.xml'), fx('direct-mode-passthru', 'good.xml')];
    const r = runCli(['lint', '--format', 'json', '--schema-dir', dir, ...files]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/schema validation skipped/g)?.length, 1);
    assert.equal(json(r.stdout).summary['schema'], 'skipped');
    const strict = runCli(['lint', '--require-schema', '--schema-dir', dir, ...files]);
    assert.equal(strict.code, 3);
    assert.match(strict.stderr, /domain\.rng/);
  } finally {
    cleanup();
  }
});

test('worker threads and both schema engines give the same result', (t) => {
  const args = ['lint', '--format', 'json', lintFixturesDir];
  const run = (threads: string, engine: string): string =>
    runCli(args, { env: { ...process.env, VNET_LINT_THREADS: threads, VNET_LINT_SCHEMA_ENGINE: engine } }).stdout;
  const one = run('1', 'wasm');
  assert.ok(one.includes('"rule":"schema"'), 'the schema ran');
  assert.equal(run('2', 'wasm'), one);
  if (requireOrSkip(t, findXmllint() !== undefined, 'xmllint is not installed (libxml2-utils)')) {
    assert.equal(run('1', 'xmllint'), one);
    assert.equal(run('2', 'xmllint'), one);
  }
});

test('no progress line when stderr is not a terminal', () => {
  const r = runCli(['lint', '--no-schema', fx('mac-zero', 'good.xml')]);
  assert.doesNotMatch(r.stderr, /linting/);
});

test('a UTF-16 file is an xml-syntax error that says to convert it (libvirt reads UTF-8)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'utf16.xml');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<domain type="qemu"><name>x</name></domain>\n', 'utf16le')]));
    const r = runCli(['lint', '--no-schema', '--format', 'json', file]);
    assert.equal(r.code, 3, r.stderr);
    const [f] = JSON.parse(r.stdout).findings as { rule: string; message: string }[];
    assert.equal(f?.rule, 'xml-syntax');
    assert.match(f!.message, /UTF-16\? convert it/);
  } finally {
    cleanup();
  }
});
