import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { check, down, up } from '../../src/host/provision.js';
import { domainFiles } from '../../src/commands/up.js';
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

test('up, down and check over files: the lock is held and the probe started before the first file is read, each file read once', async () => {
  const ip = host();
  const text = readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8');
  const started: number[] = [];
  const order: string[] = [];
  let other: Promise<unknown> | undefined;
  const files = {
    files: ['a.xml'],
    read: (file: string): DomainDoc => {
      started.push(ip.processes);
      // A run over documents for the same namespace, begun while this one reads: it must wait for the lock.
      other ??= check([DomainDoc.parse(text, 'b.xml')], { runner: ip.runner, netns: 'ns1' }).then(() => order.push('other'));
      return DomainDoc.parse(text, file);
    },
  };
  const r = await up(files, { runner: ip.runner, netns: 'ns1' });
  order.push('up');
  await other;
  assert.deepEqual(order, ['up', 'other'], 'the run held the lock while it read its files');
  assert.deepEqual(started, [1], 'one read, after the probe started');
  assert.equal(r.steps.length, 14);
  assert.deepEqual(r.domains, [{ name: 'web1', uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809', file: 'a.xml' }]);
  started.length = 0;
  assert.deepEqual((await check(files, { runner: ip.runner, netns: 'ns1' })).drift, []);
  assert.equal(started.length, 1);
  const d = await down(files, { runner: ip.runner, netns: 'ns1' });
  assert.ok(d.steps.length > 0);
  assert.deepEqual([...ip.links.keys()], ['br0']);
});

test('over files, the first file that is not well-formed is reported before any refused intent, as when all are parsed first', async () => {
  const ip = host();
  const good = readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8');
  const texts: Record<string, string> = {
    '1-bad-mac.xml': good.replaceAll('52:54:00:f2:3a:10', '52:54:00:f2:3a:1g'),
    '2-good.xml': good,
    '3-broken.xml': '<domain><name>x</name>',
    '4-broken.xml': '<domain',
  };
  const files = { files: Object.keys(texts), read: (f: string) => DomainDoc.parse(texts[f]!, f) };
  for (const run of [() => up(files, { runner: ip.runner }), () => check(files, { runner: ip.runner })])
    await assert.rejects(run(), (e: unknown) => e instanceof VnetError && e.code === 'E_XML_SYNTAX' && e.file === '3-broken.xml');
  const refused = { files: ['2-good.xml', '1-bad-mac.xml'], read: files.read };
  await assert.rejects(up(refused, { runner: ip.runner }), (e: unknown) => e instanceof VnetError && e.code === 'E_MAC_INVALID' && e.file === '1-bad-mac.xml');
  assert.deepEqual([...ip.links.keys()], ['br0'], 'nothing was created');
});

test('files are read during the run (under the lock) only when every one is a regular file: a FIFO or stdin could keep the lock waiting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-files-'));
  try {
    writeFileSync(join(dir, 'b.xml'), '<domain/>');
    writeFileSync(join(dir, 'a.xml'), '<domain/>');
    writeFileSync(join(dir, 'notes.txt'), '');
    symlinkSync(join(dir, 'a.xml'), join(dir, 'c.xml'));
    assert.deepEqual(domainFiles([dir]), { files: ['a.xml', 'b.xml', 'c.xml'].map((f) => join(dir, f)), regular: true });
    assert.deepEqual(domainFiles([join(dir, 'a.xml'), join(dir, 'c.xml')]).regular, true);
    assert.equal(domainFiles(['-']).regular, false);
    assert.equal(domainFiles([join(dir, 'missing.xml')]).regular, false, 'a missing file is reported by the read, before any lock');
    const fifos = join(dir, 'fifos');
    mkdirSync(fifos);
    writeFileSync(join(fifos, 'a.xml'), '<domain/>');
    execFileSync('mkfifo', [join(fifos, 'f.xml')]);
    assert.deepEqual(domainFiles([fifos]), { files: [join(fifos, 'a.xml'), join(fifos, 'f.xml')], regular: false });
    assert.equal(domainFiles([join(fifos, 'f.xml')]).regular, false);
    const links = join(dir, 'links');
    mkdirSync(links);
    symlinkSync(join(fifos, 'f.xml'), join(links, 'l.xml'));
    assert.equal(domainFiles([links]).regular, false, 'a link to a FIFO');
    assert.equal(domainFiles([dir, links]).regular, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
