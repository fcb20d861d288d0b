// The collection without SSH: ansible-doc renders every module and the role
// (ansible-doc exits 0 even for a module that does not exist, so the text is
// checked), and the interface module run locally on a file keeps Ansible's
// contract: check mode writes nothing, diff mode shows the XML diff, a second
// run changes nothing, a failure's msg is vnet-virt's one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, fixturesDir, repoRoot, requireOrSkip, tempDir } from '../helpers.js';

const MODULES = ['interface', 'devices', 'hook'];
const haveAnsible = existsSync('/usr/bin/ansible-doc') && existsSync('/usr/bin/ansible');

function ansible(bin: string, args: string[], home: string, env: Record<string, string> = {}): { code: number; out: string } {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', HOME: home, ANSIBLE_HOME: home, ANSIBLE_COLLECTIONS_PATH: join(repoRoot, 'ansible'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False', ...env },
    timeout: 180_000,
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('ansible-doc renders every module with its options, and the role', (t) => {
  if (!requireOrSkip(t, haveAnsible, 'needs ansible-core (scripts/install-deps.sh)')) return;
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const r = ansible('ansible-doc', ['--json', ...MODULES.map((m) => `vnet_virt.libvirt.${m}`)], tmp.dir);
  assert.equal(r.code, 0, r.out);
  const docs = JSON.parse(r.out.slice(r.out.indexOf('{'))) as Record<string, { doc: { options: Record<string, { description: unknown }> }; examples: string; return: object }>;
  for (const m of MODULES) {
    const d = docs[`vnet_virt.libvirt.${m}`];
    assert.ok(d, `ansible-doc did not find vnet_virt.libvirt.${m}`);
    assert.ok(Object.keys(d.doc.options).length >= 3, `${m}: options`);
    for (const [k, o] of Object.entries(d.doc.options)) assert.ok(o.description, `${m}: option ${k} has no description`);
    assert.match(d.examples, new RegExp(`vnet_virt\\.libvirt\\.${m}:`), `${m}: examples`);
  }
  for (const opt of ['tap', 'bridge', 'mac', 'model', 'lower', 'macvtap', 'veth_peer', 'mode', 'source', 'queues', 'mtu', 'path', 'domain', 'uri']) {
    assert.ok(docs['vnet_virt.libvirt.interface']!.doc.options[opt], `interface: option ${opt}`);
  }
  // The text form renders too (a broken DOCUMENTATION block prints an error and no header).
  const text = ansible('ansible-doc', ['vnet_virt.libvirt.devices'], tmp.dir);
  assert.match(text.out, /^> VNET_VIRT\.LIBVIRT\.DEVICES\s/m);
  assert.match(text.out, /checked/);
  const missing = ansible('ansible-doc', ['vnet_virt.libvirt.nope'], tmp.dir);
  assert.doesNotMatch(missing.out, /^> VNET_VIRT\.LIBVIRT\.NOPE/m, 'the check above would pass for a missing module');
  const role = ansible('ansible-doc', ['-t', 'role', 'vnet_virt.libvirt.install'], tmp.dir);
  assert.match(role.out, /ENTRY POINT: main/);
  assert.match(role.out, /vnet_virt_package/);
  for (const play of ['fleet.yml', 'install.yml']) {
    const r2 = ansible('ansible-playbook', ['-i', join(repoRoot, 'ansible', 'examples', 'inventory.ini'), '--syntax-check', join(repoRoot, 'ansible', 'examples', play)], tmp.dir);
    assert.equal(r2.code, 0, `${play}: ${r2.out}`);
  }
});

test('interface module on a local file: check, diff, idempotence, replace, absent, failure msg', (t) => {
  if (!requireOrSkip(t, haveAnsible, 'needs ansible-core (scripts/install-deps.sh)')) return;
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const bin = join(tmp.dir, 'vnet-virt');
  writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`, { mode: 0o755 });
  const file = join(tmp.dir, 'web1.xml');
  const original = readFileSync(join(fixturesDir, 'quickstart', 'web1.xml'), 'utf8');
  writeFileSync(file, original);
  const mod = (args: string, ...flags: string[]) => {
    const r = ansible('ansible', ['localhost', '-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3', '-m', 'vnet_virt.libvirt.interface', '-a', args, ...flags], tmp.dir, { VNET_VIRT_BIN: bin });
    return { ...r, changed: /localhost \| CHANGED/.test(r.out), failed: /localhost \| FAILED/.test(r.out) };
  };
  const tap = `path=${file} kind=tap tap=t-web1-9 bridge=br0`;
  const check = mod(tap, '--check', '--diff');
  assert.ok(check.changed, check.out);
  assert.match(check.out, /^\+\s+<target dev='t-web1-9' managed='no'\/>/m, 'diff mode shows the XML diff');
  assert.equal(readFileSync(file, 'utf8'), original, 'check mode wrote the file');
  assert.ok(mod(tap).changed);
  const after = readFileSync(file, 'utf8');
  assert.ok(after.includes("t-web1-9"));
  const again = mod(tap);
  assert.ok(!again.changed && !again.failed, again.out);
  assert.equal(readFileSync(file, 'utf8'), after);
  const moved = mod(`path=${file} kind=tap tap=t-web1-9 bridge=br1`, '--diff');
  assert.ok(moved.changed, moved.out);
  assert.match(moved.out, /"action": "replaced"/);
  assert.match(moved.out, /^\+.*bridge='br1'/m);
  assert.ok(mod(`${tap} state=absent`).changed);
  assert.equal(readFileSync(file, 'utf8'), original, 'attach + absent gives back the file');
  const gone = mod(`${tap} state=absent`);
  assert.ok(!gone.changed && !gone.failed, gone.out);
  const bad = mod(`path=${file} kind=tap tap=t-web1-9 bridge=br0 mac=01:00:00:00:00:01`);
  assert.ok(bad.failed, bad.out);
  const msg = /"msg": "([^"]*)"/.exec(bad.out)?.[1] ?? '';
  const cli = spawnSync(process.execPath, [cliPath, 'attach-tap', file, '--tap', 't-web1-9', '--bridge', 'br0', '--mac', '01:00:00:00:00:01'], { encoding: 'utf8' });
  assert.equal(msg, cli.stderr.trim(), "msg is vnet-virt's own line");
  assert.equal(readFileSync(file, 'utf8'), original);
});
