// lint --host against real devices in a throwaway namespace: the live variants
// of the rules see what `ip -j -d link show` sees there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, requireRoot, runCli, tempDir, withNetns } from '../helpers.js';

const MVT_MAC = '52:54:00:5e:11:02';

function setUp(ns: string): void {
  ipIn(ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
  ipIn(ns, 'tuntap', 'add', 'dev', 'tapmq', 'mode', 'tap', 'multi_queue');
  ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
  ipIn(ns, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
  ipIn(ns, 'link', 'set', 'veth0', 'master', 'br0');
  ipIn(ns, 'link', 'add', 'link', 'veth1', 'name', 'mvt0', 'address', MVT_MAC, 'type', 'macvtap', 'mode', 'bridge');
  ipIn(ns, 'link', 'add', 'link', 'veth1', 'name', 'mvt1', 'type', 'macvtap', 'mode', 'bridge');
}

const iface = (body: string): string => `    <interface type='ethernet'>\n${body}\n      <model type='virtio'/>\n    </interface>`;

function domain(name: string, interfaces: string[], record = ''): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='KiB'>262144</memory>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>${record}
  <devices>
${interfaces.join('\n')}
  </devices>
</domain>
`;
}

interface Finding {
  rule: string;
  severity: string;
  line: number;
  message: string;
}

/** 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** Lines of the finding of `rule` (with its severity), to compare with where the file puts the element. */
const found = (findings: Finding[], rule: string): string[] =>
  findings.filter((f) => f.rule === rule).map((f) => `${f.line} ${f.severity}`);

test('host rules fire on the live devices they are about', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      setUp(ns);
      const record = `
  <metadata>
    <vnet:record xmlns:vnet="http://vnet-virt.dev/xmlns/record/1">
      <vnet:tap dev="t-later" mac="52:54:00:30:00:02"/>
    </vnet:record>
  </metadata>`;
      const file = join(dir, 'bad.xml');
      const text = domain(
        'host-bad',
        [
          iface("      <mac address='52:54:00:30:00:01'/>\n      <target dev='t-absent' managed='no'/>"),
          iface("      <mac address='52:54:00:30:00:02'/>\n      <target dev='t-later' managed='no'/>"),
          iface("      <mac address='52:54:00:30:00:03'/>\n      <target dev='tap0' managed='no'/>\n      <driver queues='4'/>"),
          iface("      <mac address='52:54:00:30:00:04'/>\n      <target dev='mvt0' managed='no'/>"),
          iface("      <mac address='52:54:00:30:00:05'/>\n      <target dev='veth0' managed='no'/>"),
          iface("      <target dev='mvt1' managed='no'/>"),
        ],
        record,
      );
      writeFileSync(file, text);
      const at = (needle: string, severity: string): string => `${lineOf(text, needle)} ${severity}`;
      const r = runCli(['lint', '--no-schema', '--host', '--netns', ns, '--format', 'json', file]);
      assert.equal(r.code, 3, r.stderr);
      const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
      assert.deepEqual(found(findings, 'target-missing'), [at("dev='t-absent'", 'error'), at("dev='t-later' managed", 'warning')]);
      assert.deepEqual(found(findings, 'multiqueue-tap'), [at("<driver queues='4'/>", 'warning')]);
      assert.deepEqual(found(findings, 'macvtap-mac-mismatch'), [at('52:54:00:30:00:04', 'error')]);
      assert.match(findings.find((f) => f.rule === 'macvtap-mac-mismatch')!.message, new RegExp(MVT_MAC));
      assert.deepEqual(found(findings, 'target-is-veth'), [at("dev='veth0'", 'error')]);
      assert.deepEqual(found(findings, 'unmanaged-macvtap-without-mac'), [at("dev='mvt1'", 'error')]);

      // Without --host none of the live checks can say anything about these devices.
      const offline = runCli(['lint', '--no-schema', '--format', 'json', file]);
      const rules = new Set((JSON.parse(offline.stdout) as { findings: Finding[] }).findings.map((f) => f.rule));
      for (const rule of ['target-missing', 'multiqueue-tap', 'macvtap-mac-mismatch', 'target-is-veth', 'unmanaged-macvtap-without-mac'])
        assert.ok(!rules.has(rule), `${rule} needs --host here`);

      const good = join(dir, 'good.xml');
      writeFileSync(
        good,
        domain('host-good', [
          iface(`      <mac address='${MVT_MAC}'/>\n      <target dev='mvt0' managed='no'/>`),
          iface("      <mac address='52:54:00:30:00:06'/>\n      <target dev='tapmq' managed='no'/>\n      <driver queues='4'/>"),
          iface("      <mac address='52:54:00:30:00:07'/>\n      <target dev='tap0' managed='no'/>"),
        ]),
      );
      const ok = runCli(['lint', '--no-schema', '--host', '--netns', ns, good]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    });
  } finally {
    cleanup();
  }
});

test('--host --netns of a namespace that does not exist is a usage error', (t) => {
  if (!requireRoot(t)) return;
  const r = runCli(['lint', '--no-schema', '--host', '--netns', 'vnet-test-nonexistent', '-'], { input: domain('x', []) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--netns/);
});
