// lint as CI runs it: results that cannot pass by mistake (unreadable inputs,
// no domain found, xml-syntax always on), scope of the cross-file rules,
// suppression, --ignore, the config file, --quiet and --list-rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir } from '../helpers.js';
import type { CliResult } from '../helpers.js';

const domain = (name: string, mac: string, before = ''): string =>
  `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='KiB'>262144</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='ethernet'>
      ${before}
      <mac address='${mac}'/>
      <target dev='t-${name}' managed='no'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
`;

interface Finding {
  rule: string;
  severity: string;
  file: string;
  helpUri: string;
}
const findings = (r: CliResult): Finding[] => (JSON.parse(r.stdout) as { findings: Finding[] }).findings;

/** A temporary folder with the given files; runs lint there (no schema: these are about lint's own plumbing). */
function inFolder(files: Record<string, string | Buffer>, fn: (lint: (...args: string[]) => CliResult, dir: string) => void): void {
  const { dir, cleanup } = tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    fn((...args) => runCli(['lint', '--no-schema', ...args], { cwd: dir }), dir);
  } finally {
    cleanup();
  }
}

const GOOD = domain('web1', '52:54:00:00:00:01');
const ZERO = domain('web2', '00:00:00:00:00:00');

test('one missing or oversized input is a finding on it; the other files are still reported, in every format', () => {
  const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
  inFolder({ 'good.xml': GOOD, 'zero.xml': ZERO, 'big.xml': big }, (lint) => {
    const args = ['good.xml', 'missing.xml', 'zero.xml', 'big.xml'];
    const json = lint('--format', 'json', ...args);
    assert.equal(json.code, 3);
    const f = findings(json);
    assert.deepEqual(
      f.map((x) => `${x.file} ${x.rule}`),
      ['missing.xml file-unreadable', 'zero.xml mac-zero', 'big.xml file-unreadable'],
    );
    assert.equal((JSON.parse(json.stdout) as { files: number }).files, 4);
    const sarif = JSON.parse(lint('--format', 'sarif', ...args).stdout) as { runs: { results: { ruleId: string }[] }[] };
    assert.deepEqual(sarif.runs[0]!.results.map((r) => r.ruleId), ['file-unreadable', 'mac-zero', 'file-unreadable']);
    const cc = JSON.parse(lint('--format', 'codeclimate', ...args).stdout) as { check_name: string }[];
    assert.equal(cc.length, 3);
    const junit = lint('--format', 'junit', ...args);
    assert.match(junit.stdout, /<testsuites name="vnet-virt lint" tests="\d+" failures="3"/);
    assert.equal(spawnSync('xmllint', ['--noout', '-'], { input: junit.stdout }).status, 0, 'the JUnit XML is well-formed');
    const text = lint(...args);
    assert.equal(text.code, 3);
    assert.match(text.stdout, /^missing\.xml:1: error file-unreadable: no such file$/m);
    assert.match(text.stdout, /^big\.xml:1: error file-unreadable: is over 10485760 bytes/m);
  });
});

test('inputs with no domain XML exit 2: an empty folder, a folder of other XML, other roots only', () => {
  inFolder({ 'empty/.keep': '', 'nets/default.xml': '<network><name>default</name></network>\n', 'good.xml': GOOD }, (lint) => {
    for (const args of [['empty'], ['nets'], ['nets/default.xml'], ['good.xml', 'empty']]) {
      const r = lint('--format', 'sarif', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^vnet-virt: no domain XML found in \S+/m);
    }
    assert.equal(lint('good.xml', 'nets').code, 0, 'a folder of other XML next to a domain is fine');
    const allowed = lint('--allow-empty', '--format', 'json', 'nets', 'empty');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal((JSON.parse(allowed.stdout) as { files: number }).files, 0);
  });
});

test('xml-syntax and file-unreadable cannot be turned off: not by --disable, the config or a comment', () => {
  const broken = `<!-- vnet-virt-disable-next-line -->\n<domain type='qemu'><name>x</name>\n`;
  inFolder({ 'broken.xml': broken }, (lint, dir) => {
    for (const rule of ['xml-syntax', 'file-unreadable']) {
      const r = lint('--disable', rule, 'broken.xml');
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`${rule} cannot be disabled`));
    }
    const r = lint('--format', 'json', 'broken.xml');
    assert.equal(r.code, 3);
    assert.deepEqual(findings(r).map((f) => f.rule), ['xml-syntax']);
    writeFileSync(join(dir, '.vnet-virt.json'), JSON.stringify({ rules: { 'xml-syntax': 'warning' } }));
    const c = lint('broken.xml');
    assert.equal(c.code, 2);
    assert.match(c.stderr, /\.vnet-virt\.json: rules\.xml-syntax: xml-syntax cannot be turned off or lowered/);
  });
});

test('--scope: cross-file rules compare one folder (default), one file, or the whole run; one domain always', () => {
  const mac = '52:54:00:aa:bb:cc';
  const twice = domain('web9', mac).replace('</devices>', `<interface type='ethernet'><mac address='${mac}'/><target dev='t-x9' managed='no'/></interface></devices>`);
  inFolder({ 'host1/web1.xml': domain('web1', mac), 'host2/web2.xml': domain('web2', mac), 'host3/a.xml': domain('a', mac), 'host3/b.xml': domain('b', mac), 'one/web9.xml': twice }, (lint) => {
    const dups = (...args: string[]): string[] =>
      findings(lint('--format', 'json', '--disable', 'target-duplicate', ...args)).filter((f) => f.rule === 'mac-duplicate').map((f) => f.file);
    assert.deepEqual(dups('host1', 'host2'), [], 'two hosts: no clash by default');
    assert.deepEqual(dups('--scope', 'run', 'host1', 'host2'), ['host1/web1.xml', 'host2/web2.xml']);
    assert.deepEqual(dups('host3'), ['host3/a.xml', 'host3/b.xml'], 'one folder is one host');
    assert.deepEqual(dups('--scope', 'file', 'host3'), []);
    assert.deepEqual(dups('--scope', 'file', 'one'), ['one/web9.xml', 'one/web9.xml'], 'within one domain always');
    assert.equal(lint('--scope', 'galaxy', 'one').code, 2);
  });
});

test('inline suppression: <!-- vnet-virt-disable-next-line RULE --> silences that rule on the next line only', () => {
  const files = {
    'off.xml': domain('a', '00:00:00:00:00:00', '<!-- vnet-virt-disable-next-line mac-zero: a lab guest, on purpose -->'),
    'other.xml': domain('b', '00:00:00:00:00:00', '<!-- vnet-virt-disable-next-line mac-multicast -->'),
    'all.xml': domain('c', '00:00:00:00:00:00', '<!-- vnet-virt-disable-next-line -->'),
  };
  inFolder(files, (lint) => {
    assert.equal(lint('off.xml').code, 0);
    assert.equal(lint('all.xml').code, 0);
    const r = lint('--format', 'json', 'other.xml');
    assert.equal(r.code, 3);
    assert.deepEqual(findings(r).map((f) => f.rule), ['mac-zero']);
  });
});

test('--ignore and the config file: rules off, severities, scope, ignore; package.json key; --config, --no-config', () => {
  inFolder({ 'domains/web2.xml': ZERO, 'domains/old/web2.xml': ZERO, 'domains/web1.xml': GOOD }, (lint, dir) => {
    assert.equal(lint('domains').code, 3);
    const ignored = lint('--format', 'json', '--ignore', 'old/', '--ignore', 'web2.xml', 'domains');
    assert.equal(ignored.code, 0, ignored.stdout);
    assert.deepEqual(findings(ignored), []);
    writeFileSync(join(dir, '.vnet-virt.json'), JSON.stringify({ rules: { 'mac-zero': 'warning' }, ignore: ['domains/old/**'] }));
    const cfg = lint('--format', 'json', 'domains');
    assert.equal(cfg.code, 0);
    assert.deepEqual(findings(cfg).map((f) => `${f.file} ${f.severity}`), ['domains/web2.xml warning']);
    assert.equal(lint('--no-config', 'domains').code, 3);
    assert.equal(lint('--max-warnings', '0', 'domains').code, 3);
    writeFileSync(join(dir, '.vnet-virt.json'), JSON.stringify({ rules: { 'mac-zero': 'loud' } }));
    const bad = lint('domains');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\.vnet-virt\.json: rules\.mac-zero: 'loud' is not a setting/);
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ rules: { 'mac-zero': 'off' } }));
    assert.equal(lint('--config', 'other.json', 'domains').code, 0);
    writeFileSync(join(dir, '.vnet-virt.json'), '{ not json');
    assert.equal(lint('domains').code, 2);
  });
  inFolder({ 'package.json': JSON.stringify({ name: 'x', 'vnet-virt': { rules: { 'mac-zero': 'off' } } }), 'web2.xml': ZERO }, (lint) => {
    assert.equal(lint('web2.xml').code, 0, 'the "vnet-virt" key of package.json');
  });
});

test('--quiet shows errors only; warnings neither shown nor counted', () => {
  const fe = domain('w', 'fe:54:00:00:00:01');
  inFolder({ 'fe.xml': fe, 'zero.xml': ZERO }, (lint) => {
    assert.equal(lint('--max-warnings', '0', 'fe.xml').code, 3);
    const q = lint('--quiet', '--max-warnings', '0', 'fe.xml');
    assert.equal(q.code, 0);
    assert.doesNotMatch(q.stdout, /warning mac-reserved-fe/);
    const both = lint('-q', '--format', 'json', 'fe.xml', 'zero.xml');
    assert.deepEqual(findings(both).map((f) => f.severity), ['error']);
  });
});

test('--list-rules: every rule with its severity, and a docs URL in json', () => {
  const text = runCli(['lint', '--list-rules']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^mac-zero +error +/m);
  assert.match(text.stdout, /^vepa-needs-hairpin +info +/m);
  const rows = JSON.parse(runCli(['lint', '--list-rules', '--format', 'json']).stdout) as { id: string; helpUri: string }[];
  assert.ok(rows.length >= 24);
  for (const r of rows) assert.match(r.helpUri, new RegExp(`^https://\\S+/docs/rules\\.md#${r.id}$`));
});

test('json and text findings carry the rule docs URL', () => {
  inFolder({ 'zero.xml': ZERO }, (lint) => {
    const [f] = findings(lint('--format', 'json', 'zero.xml'));
    assert.match(f!.helpUri, /^https:\/\/\S+\/docs\/rules\.md#mac-zero$/);
    assert.match(lint('zero.xml').stdout, /^ {2}docs: https:\/\/\S+#mac-zero$/m);
  });
});
