import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { intentOf } from '../../src/intent/intent.js';
import { parseLinks } from '../../src/host/facts.js';
import type { HostFacts } from '../../src/host/facts.js';
import { planDown, planUp } from '../../src/host/plan.js';
import { VnetError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';
import { FakeIp } from './host-fake-ip.js';

const text = (name: string): string => readFileSync(join(fixturesDir, 'host', name), 'utf8');
const intent = (name: string, edit: (s: string) => string = (s) => s) => intentOf(DomainDoc.parse(edit(text(name)), name));
const facts = (ip: FakeIp, netns?: string): HostFacts => parseLinks(ip.json(), netns);
const lines = (argvs: (string[] | null)[]): (string | null)[] => argvs.map((a) => a && a.join(' '));
const M = 'vnet-virt:c7a5fdbd-edaf-9455-926a-d65c16db1809';

const WEB1_UP = [
  'ip tuntap add dev t0 mode tap vnet_hdr multi_queue',
  `ip link set dev t0 alias ${M}`,
  'ip link set dev t0 address fe:54:00:f2:3a:10',
  'ip link set dev t0 master br0',
  'ip link set dev t0 up',
  'ip link add dev veth1 type veth peer name veth0 address fe:54:00:5e:11:02',
  `ip link set dev veth1 alias ${M}`,
  `ip link set dev veth0 alias ${M}`,
  'ip link set dev veth0 master br0',
  'ip link set dev veth0 up',
  'ip link set dev veth1 up',
  'ip link add link veth1 name mvt0 address 52:54:00:5e:11:02 type macvtap mode vepa',
  `ip link set dev mvt0 alias ${M}`,
  'ip link set dev mvt0 up',
];

function withBridge(): FakeIp {
  const ip = new FakeIp();
  ip.add({ name: 'br0', kind: 'bridge', up: true });
  return ip;
}

/** The host after a successful up of web1 (applied by the fake). */
async function upped(): Promise<FakeIp> {
  const ip = withBridge();
  const plan = planUp([intent('web1.xml')], facts(ip));
  for (const s of plan.steps) await ip.runner(s.argv);
  return ip;
}

test('planUp: exact argv, and each creation undone by deleting the device', () => {
  const plan = planUp([intent('web1.xml')], facts(withBridge()));
  assert.equal(plan.kind, 'up');
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), WEB1_UP);
  assert.deepEqual(lines(plan.steps.map((s) => s.undo)), [
    'ip link del dev t0', null, null, null, null,
    'ip link del dev veth1', null, null, null, null, null,
    'ip link del dev mvt0', null, null,
  ]);
  assert.deepEqual([...new Set(plan.steps.map((s) => s.iface))], ['t0', 'mvt0']);
  assert.ok(plan.steps.every((s) => s.domain === 'web1' && s.file === 'web1.xml'));
});

test('planUp is pure: same inputs, same plan; the inputs are not changed', () => {
  const i = [intent('web1.xml')];
  const f = facts(withBridge());
  const before = JSON.stringify([i, [...f.links]]);
  assert.deepEqual(planUp(i, f), planUp(i, f));
  assert.equal(JSON.stringify([i, [...f.links]]), before);
});

test('planUp: --netns puts every command in the namespace', () => {
  const plan = planUp([intent('web1.xml')], facts(withBridge(), 'ns1'));
  assert.ok(plan.steps.every((s) => s.argv.slice(0, 3).join(' ') === 'ip -n ns1' && (s.undo === null || s.undo.slice(0, 3).join(' ') === 'ip -n ns1')));
  assert.equal(plan.steps.filter((s) => s.undo !== null).length, 3);
});

test('planUp: a missing bridge is exit 3 naming domain, bridge and interface, before any step', () => {
  assert.throws(
    () => planUp([intent('web1.xml')], facts(new FakeIp())),
    (e: unknown) =>
      e instanceof VnetError && e.exitCode === 3 && e.code === 'E_BRIDGE_MISSING' && e.message.startsWith('web1: bridge br0 does not exist (interface t0)') && e.file === 'web1.xml',
  );
});

test('planUp --create-bridge: the bridge first, marked as ours', () => {
  const plan = planUp([intent('web1.xml')], facts(new FakeIp()), { createBridge: true });
  assert.deepEqual(lines(plan.steps.slice(0, 3).map((s) => s.argv)), ['ip link add name br0 type bridge', `ip link set dev br0 alias ${M}`, 'ip link set dev br0 up']);
  assert.deepEqual(lines(plan.steps.slice(3).map((s) => s.argv)), WEB1_UP);
});

test('planUp: a name that is not a bridge is refused', () => {
  const ip = new FakeIp();
  ip.add({ name: 'br0', kind: 'tap' });
  assert.throws(() => planUp([intent('web1.xml')], facts(ip), { createBridge: true }), (e: unknown) => e instanceof VnetError && e.code === 'E_NOT_A_BRIDGE' && e.exitCode === 3);
});

test('planUp: idempotent (nothing when all exists as wanted); convergent (only the deleted device)', async () => {
  const ip = await upped();
  assert.deepEqual(planUp([intent('web1.xml')], facts(ip)).steps, []);
  await ip.runner(['ip', 'link', 'del', 'dev', 't0']);
  assert.deepEqual(lines(planUp([intent('web1.xml')], facts(ip)).steps.map((s) => s.argv)), WEB1_UP.slice(0, 5));
  await ip.runner(['ip', 'link', 'del', 'dev', 'mvt0']);
  await ip.runner(['ip', 'tuntap', 'add', 'dev', 't0', 'mode', 'tap', 'multi_queue']);
  await ip.runner(['ip', 'link', 'set', 'dev', 't0', 'alias', M, 'master', 'br0', 'up']);
  assert.deepEqual(lines(planUp([intent('web1.xml')], facts(ip)).steps.map((s) => s.argv)), WEB1_UP.slice(11));
});

test('planUp: drift of a device not ours is refused (exit 3, E_DEVICE_DRIFT) unless --adopt, which fixes it with exact undo', async () => {
  const ip = await upped();
  ip.add({ name: 'br1', kind: 'bridge' });
  await ip.runner(['ip', 'link', 'set', 'dev', 't0', 'master', 'br1', 'down']);
  await ip.runner(['ip', 'link', 'set', 'dev', 'mvt0', 'address', '52:54:00:00:00:99', 'alias', 'someone']);
  assert.throws(
    () => planUp([intent('web1.xml')], facts(ip)),
    (e: unknown) =>
      e instanceof VnetError &&
      e.exitCode === 3 &&
      e.code === 'E_DEVICE_DRIFT' &&
      e.message.startsWith("web1: mvt0 does not carry web1's marker (alias: 'someone') (and 1 more difference) (interface mvt0)") &&
      /--adopt/.test(e.hint ?? ''),
  );
  const plan = planUp([intent('web1.xml')], facts(ip), { adopt: true });
  assert.deepEqual(
    plan.steps.map((s) => [s.argv.join(' '), s.undo!.join(' ')]),
    [
      ['ip link set dev t0 master br0', 'ip link set dev t0 master br1'],
      ['ip link set dev t0 up', 'ip link set dev t0 down'],
      [`ip link set dev mvt0 alias ${M}`, 'ip link set dev mvt0 alias someone'],
      ['ip link set dev mvt0 address 52:54:00:5e:11:02', 'ip link set dev mvt0 address 52:54:00:00:00:99'],
    ],
  );
});

test('planUp --adopt: a foreign device with the right properties is marked; an unfixable one is still refused', async () => {
  const ip = withBridge();
  ip.add({ name: 't0', kind: 'tap', multiQueue: true, master: 'br0', up: true });
  const i = [intent('web1.xml', (s) => s.replace(/<vnet:macvtap[^>]*>/, '').replace(/<interface type='ethernet'>\s*<mac address='52:54:00:5e:11:02'\/>[\s\S]*?<\/interface>/, ''))];
  assert.throws(() => planUp(i, facts(ip)), (e: unknown) => e instanceof VnetError && /t0 does not carry web1's marker \(alias: none\)/.test(e.message));
  assert.deepEqual(lines(planUp(i, facts(ip), { adopt: true }).steps.map((s) => s.undo)), ['ip link set dev t0 alias ']);
  ip.links.get('t0')!.multiQueue = false;
  assert.throws(
    () => planUp(i, facts(ip), { adopt: true }),
    (e: unknown) => e instanceof VnetError && e.code === 'E_DEVICE_DRIFT' && /tap t0 is not multi_queue, but the interface has 2 queues/.test(e.message) && /ip link del dev t0/.test(e.hint ?? ''),
  );
});

test('planUp: passthru sets the MAC after creating (the kernel gives it the lower MAC); a missing lower is exit 3', () => {
  const ip = new FakeIp();
  assert.throws(() => planUp([intent('passthru.xml')], facts(ip)), (e: unknown) => e instanceof VnetError && e.code === 'E_LOWER_MISSING' && e.message.startsWith('pt1: lower device eth9 does not exist (interface mvt-pt)'));
  ip.add({ name: 'eth9', kind: 'veth' });
  assert.deepEqual(lines(planUp([intent('passthru.xml')], facts(ip)).steps.map((s) => s.argv)), [
    'ip link add link eth9 name mvt-pt address 52:54:00:bb:00:01 type macvtap mode passthru',
    'ip link set dev mvt-pt alias vnet-virt:5a0e1c4b-2d3f-4e5a-8b6c-7d8e9f0a1b2c',
    'ip link set dev mvt-pt address 52:54:00:bb:00:01',
    'ip link set dev mvt-pt up',
  ]);
  ip.add({ name: 'other', kind: 'macvtap', link: 'eth9', mode: 'bridge' });
  assert.throws(() => planUp([intent('passthru.xml')], facts(ip)), (e: unknown) => e instanceof VnetError && e.code === 'E_DEVICE_CONFLICT');
});

test('planUp: taps from an unmanaged interface carry mtu and multi_queue; two domains wanting one device conflict', () => {
  const plan = planUp([intent('db1.xml')], facts(new FakeIp()));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), [
    'ip tuntap add dev t-db1 mode tap vnet_hdr',
    'ip link set dev t-db1 alias vnet-virt:name:db1',
    'ip link set dev t-db1 up',
    'ip tuntap add dev t-db1-b mode tap vnet_hdr multi_queue',
    'ip link set dev t-db1-b alias vnet-virt:name:db1',
    'ip link set dev t-db1-b mtu 9000',
    'ip link set dev t-db1-b up',
  ]);
  const other = intent('db1.xml', (s) => s.replace('<name>db1</name>', '<name>db2</name>'));
  assert.throws(() => planUp([intent('db1.xml'), other], facts(new FakeIp())), (e: unknown) => e instanceof VnetError && e.code === 'E_DEVICE_CONFLICT' && /t-db1 is wanted by db1 and by db2/.test(e.message));
});

test('planDown: deletes ours (a veth pair once, macvtap first), reports foreign devices, removes an empty bridge we made', async () => {
  const ip = new FakeIp();
  const up = planUp([intent('web1.xml')], facts(ip), { createBridge: true });
  for (const s of up.steps) await ip.runner(s.argv);
  let plan = planDown([intent('web1.xml')], facts(ip));
  // Two or more deletions go through one group: one kernel grace period instead of one per device.
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), [
    'ip link set dev mvt0 group 1753514496',
    'ip link set dev veth1 group 1753514496',
    'ip link set dev t0 group 1753514496',
    'ip link set dev br0 group 1753514496',
    'ip link del group 1753514496',
  ]);
  assert.equal(plan.steps.at(-1)!.description, 'delete mvt0, veth1, t0, br0 at once');
  assert.deepEqual(plan.notes, []);

  ip.add({ name: 'guest', kind: 'tap', master: 'br0' });
  ip.links.get('t0')!.alias = 'vnet-virt:someone-else';
  ip.links.get('guest')!.group = '1753514496';
  plan = planDown([intent('web1.xml')], facts(ip));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), ['ip link set dev mvt0 group 1753514497', 'ip link set dev veth1 group 1753514497', 'ip link del group 1753514497'], 'a group in use is skipped');
  assert.deepEqual(
    plan.notes.map((n) => n.message),
    [
      'web1: t0 is not ours (it carries another marker (vnet-virt:someone-else)); left as it is (interface t0)',
      'web1: bridge br0 is kept: t0, guest still on it (interface t0)',
    ],
  );
});

test('planDown: a device already gone is fine; a foreign device stacked on our veth keeps it', async () => {
  const ip = withBridge();
  for (const s of planUp([intent('web1.xml')], facts(ip)).steps) await ip.runner(s.argv);
  await ip.runner(['ip', 'link', 'del', 'dev', 'mvt0']);
  ip.add({ name: 'foreign', kind: 'macvtap', link: 'veth1', mode: 'bridge' });
  const plan = planDown([intent('web1.xml')], facts(ip));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), ['ip link del dev t0']);
  assert.match(plan.notes[0]!.message, /veth1 is left: foreign sits on it/);
  for (const s of plan.steps) await ip.runner(s.argv);
  assert.deepEqual(planDown([intent('web1.xml')], facts(ip)).steps.length, 0);
});

test('planDown: a device created by the CLI from a file without <uuid> is owned by the same domain with <uuid>', async () => {
  const ip = new FakeIp();
  for (const s of planUp([intent('db1.xml')], facts(ip)).steps) await ip.runner(s.argv);
  const plan = planDown([intent('db1-uuid.xml')], facts(ip));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), ['ip link set dev t-db1-b group 1855212856', 'ip link set dev t-db1 group 1855212856', 'ip link del group 1855212856']);
});

test('planDown: two domains torn down at once (libvirt releases several) delete through different groups', async () => {
  const ip = new FakeIp();
  const other = (s: string): string => s.replace(/<uuid>[^<]*<\/uuid>/, '<uuid>11111111-2222-4333-8444-555555555555</uuid>').replaceAll('web1', 'web2').replace(/\b(t0|veth[01]|mvt0)\b/g, '$1b');
  for (const d of [intent('web1.xml'), intent('web1.xml', other)]) for (const s of planUp([d], facts(ip), { createBridge: true }).steps) await ip.runner(s.argv);
  // Both plans are made from the same reading of the host, as two concurrent hooks would.
  const seen = facts(ip);
  const groupOf = (plan: ReturnType<typeof planDown>): string => plan.steps.at(-1)!.argv.at(-1)!;
  const a = planDown([intent('web1.xml')], seen);
  const b = planDown([intent('web1.xml', other)], seen);
  assert.equal(a.steps.at(-1)!.effect.type, 'delete-group');
  assert.equal(b.steps.at(-1)!.effect.type, 'delete-group');
  assert.notEqual(groupOf(a), groupOf(b));
  // Interleaved as the kernel might run them: a's group deletion takes only a's devices.
  for (const s of [...a.steps.slice(0, -1), ...b.steps.slice(0, -1), a.steps.at(-1)!]) await ip.runner(s.argv);
  assert.deepEqual([...ip.links.keys()].filter((n) => n.endsWith('b')).sort(), ['mvt0b', 't0b', 'veth0b', 'veth1b']);
  await ip.runner(b.steps.at(-1)!.argv);
  assert.deepEqual([...ip.links.keys()].sort(), ['br0']);
});

test('planUp: a device carrying this domain\'s marker that someone set down (or moved off its bridge) is fixed without --adopt, and a note says so', async () => {
  const ip = await upped();
  ip.add({ name: 'br1', kind: 'bridge' });
  await ip.runner(['ip', 'link', 'set', 'dev', 't0', 'master', 'br1', 'down']);
  await ip.runner(['ip', 'link', 'set', 'dev', 'mvt0', 'down']);
  const plan = planUp([intent('web1.xml')], facts(ip));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), ['ip link set dev t0 master br0', 'ip link set dev t0 up', 'ip link set dev mvt0 up']);
  assert.deepEqual(lines(plan.steps.map((s) => s.undo)), ['ip link set dev t0 master br1', 'ip link set dev t0 down', 'ip link set dev mvt0 down']);
  assert.deepEqual(
    plan.notes.map((n) => n.message),
    ["web1: fixing web1's own device: t0 is not on bridge br0 (on br1); t0 is down (interface t0)", "web1: fixing web1's own device: mvt0 is down (interface mvt0)"],
  );
  // Not ours when another domain's marker is on it: refused, with --adopt as the way.
  await ip.runner(['ip', 'link', 'set', 'dev', 'mvt0', 'alias', 'vnet-virt:name:other']);
  assert.throws(() => planUp([intent('web1.xml')], facts(ip)), (e: unknown) => e instanceof VnetError && e.code === 'E_DEVICE_DRIFT' && /mvt0 does not carry web1's marker/.test(e.message) && /--adopt/.test(e.hint ?? ''));
});

test('planUp/planDown: devices a killed up created and could not mark (the journal\'s pending claims) are finished by up and removed by down', async () => {
  const ip = withBridge();
  // As a kill -9 leaves them: t0 created (not marked, down), the veth pair created, veth1 marked, veth0 not.
  await ip.runner(['ip', 'tuntap', 'add', 'dev', 't0', 'mode', 'tap', 'multi_queue']);
  await ip.runner(['ip', 'link', 'add', 'dev', 'veth1', 'type', 'veth', 'peer', 'name', 'veth0']);
  await ip.runner(['ip', 'link', 'set', 'dev', 'veth1', 'alias', M]);
  const pending = new Map([
    ['t0', M],
    ['veth1', M],
    ['veth0', M],
    ['mvt0', M],
  ]);
  const withJournal = (): HostFacts => ({ ...facts(ip), pending });
  // Without the journal, they are someone else's.
  assert.throws(() => planUp([intent('web1.xml')], facts(ip)), (e: unknown) => e instanceof VnetError && /--adopt/.test(e.hint ?? ''));
  assert.deepEqual(planDown([intent('web1.xml')], facts(ip)).notes.length, 2);
  const down = planDown([intent('web1.xml')], withJournal());
  assert.deepEqual(down.notes, []);
  assert.deepEqual(down.steps.at(-1)!.effect, { type: 'delete-group', device: 'veth1', devices: ['veth1', 't0'] });
  const up = planUp([intent('web1.xml')], withJournal());
  // What the killed run had not done yet: t0's marker, port MAC, bridge and up; veth0's marker, bridge and up; veth1 up; the macvtap.
  assert.deepEqual(lines(up.steps.map((s) => s.argv)), [...WEB1_UP.slice(1, 5), ...WEB1_UP.slice(7, 11), ...WEB1_UP.slice(11)]);
  assert.deepEqual(up.creates, [{ device: 'mvt0', kind: 'macvtap', marker: M }]);
  // A claim for another domain's marker gives nothing.
  const foreign = new Map([...pending].map(([k]) => [k, 'vnet-virt:name:other']));
  assert.throws(() => planUp([intent('web1.xml')], { ...facts(ip), pending: foreign }), (e: unknown) => e instanceof VnetError && /--adopt/.test(e.hint ?? ''));
});

test('planUp: the journal lists every device up creates, a veth pair as both ends', () => {
  const plan = planUp([intent('web1.xml')], facts(withBridge()));
  assert.deepEqual(
    plan.creates!.map((c) => `${c.kind} ${c.device}`),
    ['tap t0', 'veth veth1', 'veth veth0', 'macvtap mvt0'],
  );
  assert.ok(plan.creates!.every((c) => c.marker === M));
});
