import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { check, down, up } from '../../src/host/provision.js';
import { parseLinks } from '../../src/host/facts.js';
import { journalDir, writeJournal } from '../../src/host/journal.js';
import { planUp } from '../../src/host/plan.js';
import { intentOf } from '../../src/intent/intent.js';
import { VnetError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';
import { FakeIp } from './host-fake-ip.js';
import { assertSchema } from './host-schema.js';

const doc = (name: string): DomainDoc => DomainDoc.parse(readFileSync(join(fixturesDir, 'host', name), 'utf8'), name);

function host(): FakeIp {
  const ip = new FakeIp();
  ip.add({ name: 'br0', kind: 'bridge', up: true });
  return ip;
}

test('up: one probe and one batch; a second up runs nothing and starts only the probe', async () => {
  const ip = host();
  const first = await up([doc('web1.xml')], { runner: ip.runner, netns: 'ns1' });
  assertSchema('up-result', first);
  assert.equal(first.steps.length, 14);
  assert.equal(first.processes, 2);
  assert.equal(ip.processes, 2);
  assert.equal(first.steps[0]!.command, 'ip -n ns1 tuntap add dev t0 mode tap vnet_hdr multi_queue');
  const second = await up([doc('web1.xml')], { runner: ip.runner, netns: 'ns1' });
  assert.deepEqual(second.steps, []);
  assert.equal(second.processes, 1);
});

test('up --dry-run changes nothing and lists what would run', async () => {
  const ip = host();
  const r = await up([doc('web1.xml')], { runner: ip.runner, dryRun: true });
  assertSchema('up-result', r);
  assert.equal(r.dryRun, true);
  assert.equal(r.steps.length, 14);
  assert.deepEqual([...ip.links.keys()], ['br0']);
});

test('up: interfaces limits the work to the named interfaces (attach --provision)', async () => {
  const ip = host();
  const r = await up([doc('web1.xml')], { runner: ip.runner, interfaces: ['mvt0'] });
  assert.deepEqual([...new Set(r.steps.map((s) => s.interface))], ['mvt0']);
  assert.ok(!ip.links.has('t0'));
});

test('down: notes what is not ours through log and the report; down twice = down once', async () => {
  const ip = host();
  await up([doc('web1.xml')], { runner: ip.runner });
  ip.links.get('t0')!.alias = 'mine';
  const logged: string[] = [];
  const r = await down([doc('web1.xml')], { runner: ip.runner, log: (l) => logged.push(l) });
  assertSchema('up-result', r);
  assert.deepEqual(r.steps.map((s) => s.command), ['ip link set dev mvt0 group 1753514496', 'ip link set dev veth1 group 1753514496', 'ip link del group 1753514496']);
  assert.deepEqual(logged, ["web1: t0 is not ours (its alias is 'mine'); left as it is (interface t0)"]);
  assert.deepEqual(r.notes, logged);
  const again = await down([doc('web1.xml')], { runner: ip.runner });
  assert.deepEqual(again.steps, []);
  assert.deepEqual([...ip.links.keys()].sort(), ['br0', 't0']);
});

test('check: each difference once, with kind, expected and actual', async () => {
  const ip = host();
  await up([doc('web1.xml')], { runner: ip.runner });
  assert.deepEqual(await check([doc('web1.xml')], { runner: ip.runner }), { drift: [], notes: [] });
  ip.links.get('t0')!.up = false;
  ip.links.get('mvt0')!.mode = 'private';
  ip.links.delete('veth0');
  ip.links.delete('veth1');
  const { drift, notes } = await check([doc('web1.xml')], { runner: ip.runner });
  assertSchema('check-result', { command: 'check', netns: null, ok: false, drift, notes });
  assert.deepEqual(
    drift.map((d) => [d.device, d.kind, d.expected, d.actual]),
    [
      ['t0', 'down', 'up', 'down'],
      ['veth1', 'missing', 'veth', null],
      ['mvt0', 'mode', 'vepa', 'private'],
    ],
  );
  assert.equal(drift[2]!.message, 'web1: macvtap mvt0 is in mode private, not vepa (interface mvt0)');
});

test('up: a domain with nothing to provision starts no process', async () => {
  const ip = host();
  const d = DomainDoc.parse('<domain><name>x</name><devices><interface type="network"><source network="default"/></interface></devices></domain>', 'x.xml');
  const r = await up([d], { runner: ip.runner });
  assert.equal(r.processes, 0);
  assert.equal(ip.processes, 0);
});

test('up: a refused plan changes nothing (exit 3)', async () => {
  const ip = new FakeIp();
  await assert.rejects(up([doc('web1.xml')], { runner: ip.runner }), (e: unknown) => e instanceof VnetError && e.exitCode === 3);
  assert.equal(ip.processes, 1);
  assert.equal(ip.links.size, 0);
});

test('check: a hand-made macvtap as an unmanaged target is accepted; its MAC is compared; a device without marker is a note, not drift', async () => {
  const ip = new FakeIp();
  ip.add({ name: 'eth9', kind: 'veth' });
  ip.add({ name: 't-db1', kind: 'tap', up: true });
  ip.add({ name: 't-db1-b', kind: 'macvtap', link: 'eth9', mode: 'vepa', mac: '52:54:00:aa:00:02', up: true });
  const fine = await check([doc('db1.xml')], { runner: ip.runner });
  assertSchema('check-result', { command: 'check', netns: null, ok: true, ...fine });
  assert.deepEqual(fine.drift, []);
  assert.deepEqual(
    fine.notes.map((n) => [n.device, n.kind, n.message]),
    [
      ['t-db1', 'not-ours', "db1: t-db1 does not carry db1's marker (alias: none): down will leave it (interface t-db1)"],
      ['t-db1-b', 'not-ours', "db1: t-db1-b does not carry db1's marker (alias: none): down will leave it (interface t-db1-b)"],
    ],
  );
  ip.links.get('t-db1-b')!.mac = '52:54:00:aa:00:99';
  const drifted = await check([doc('db1.xml')], { runner: ip.runner });
  assert.deepEqual(
    drifted.drift.map((d) => [d.device, d.kind, d.expected, d.actual]),
    [['t-db1-b', 'mac', '52:54:00:aa:00:02', '52:54:00:aa:00:99']],
  );
  // A recorded tap must be a tap; an unrecorded target a tap or a macvtap.
  ip.links.get('t-db1')!.kind = 'macvtap';
  ip.links.get('t-db1-b')!.kind = 'veth';
  const wrong = await check([doc('db1.xml')], { runner: ip.runner });
  assert.deepEqual(
    wrong.drift.map((d) => d.message),
    ['db1: t-db1 is a macvtap, not a tap (interface t-db1)', 'db1: t-db1-b is a veth, not a tap or macvtap (interface t-db1-b)'],
  );
});

test('up: a journal that cannot be written is exit 1 with one line, and nothing runs', async () => {
  const ip = host();
  const dir = mkdtempSync(join(tmpdir(), 'vnet-journal-'));
  try {
    writeFileSync(join(dir, 'pending'), 'a file where the folder must go');
    await assert.rejects(
      up([doc('web1.xml')], { runner: ip.runner, stateDir: dir }),
      (e: unknown) => e instanceof VnetError && e.exitCode === 1 && e.code === 'E_JOURNAL' && /nothing was changed/.test(e.message),
    );
    assert.equal(ip.processes, 1, 'only the probe ran');
    assert.deepEqual([...ip.links.keys()], ['br0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('down after a kill between creating a veth pair and marking it: the pair goes, and so does the journal (deleting one end took the peer)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-journal-'));
  try {
    const ip = host();
    const web1 = doc('web1.xml');
    // What a killed up left: its journal, and the veth pair it created before it could mark either end.
    const plan = planUp([intentOf(web1)], parseLinks(ip.json()));
    writeJournal(journalDir(dir, undefined), plan.creates!);
    await ip.runner(plan.steps.find((s) => s.argv.includes('veth'))!.argv);
    assert.deepEqual([...ip.links.keys()].sort(), ['br0', 'veth0', 'veth1']);
    await down([web1], { runner: ip.runner, stateDir: dir });
    assert.deepEqual([...ip.links.keys()], ['br0']);
    const pending = join(dir, 'pending');
    const left = readdirSync(pending).flatMap((d) => readdirSync(join(pending, d)));
    assert.deepEqual(left, [], 'no journal is left once down is done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run that ends leaves no folder behind under the state dir; a killed run\'s settled journal goes with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-journal-'));
  try {
    const ip = host();
    await up([doc('web1.xml')], { runner: ip.runner, stateDir: dir });
    await down([doc('web1.xml')], { runner: ip.runner, stateDir: dir });
    const pending = join(dir, 'pending');
    assert.deepEqual(existsSync(pending) ? readdirSync(pending) : [], [], 'no empty namespace folder is left');
    // A journal some killed run left (naming a device that does not exist) is kept while its folder is in use, then pruned.
    const ns = journalDir(dir, undefined);
    writeJournal(ns, [{ device: 'ghost0', kind: 'tap', marker: 'vnet-virt:name:ghost' }]);
    await up([doc('web1.xml')], { runner: ip.runner, stateDir: dir });
    assert.deepEqual(readdirSync(pending), [], 'the killed run\'s settled journal and the folder are gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
