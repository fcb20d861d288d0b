import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCidr,
  checkIfname,
  checkMac,
  checkMode,
  defaultHostEnd,
  defaultMacvlanName,
  planMacvlan,
  planRemove,
  planVeth,
  targetOf,
} from '../../src/host/container-plan.js';
import type { ContainerFacts } from '../../src/host/container-plan.js';
import type { Link, LinkKind } from '../../src/host/facts.js';
import { VnetError } from '../../src/errors.js';

const link = (name: string, kind: LinkKind, alias?: string): Link => ({
  name, index: 1, kind, mac: undefined, up: true, lowerUp: true, mtu: 1500, master: undefined, alias, link: undefined, mode: undefined, multiQueue: undefined, vnetHdr: undefined,
});
const map = (...links: Link[]): Map<string, Link> => new Map(links.map((l) => [l.name, l]));
const facts = (host: Link[], container: Link[] | undefined, netns?: string): ContainerFacts => ({ netns, host: map(...host), container: container && map(...container) });
const lines = (argvs: (string[] | null)[]): (string | null)[] => argvs.map((a) => a && a.join(' '));
const M = 'vnet-virt:container:ct1';
const ct1 = targetOf('ct1');
const pid = targetOf('4242');

function refused(fn: () => unknown, code: string, exitCode: number, where?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VnetError);
    assert.equal(e.code, code);
    assert.equal(e.exitCode, exitCode);
    if (where) assert.equal(e.where, where);
    return true;
  });
}

test('veth into a named namespace: exact argv; the host end is deleted to undo, which takes the pair', () => {
  const plan = planVeth({ target: ct1, hostEnd: 've-ct1', containerEnd: 'host0', bridge: 'br0', mac: '02:00:00:00:00:02', address: '192.0.2.2/24' }, facts([link('br0', 'bridge')], []));
  assert.equal(plan.kind, 'up');
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), [
    'ip link add dev ve-ct1 address fe:00:00:00:00:02 type veth peer name host0 address 02:00:00:00:00:02 netns ct1',
    `ip link set dev ve-ct1 alias ${M}`,
    'ip link set dev ve-ct1 master br0',
    'ip link set dev ve-ct1 up',
    `ip -n ct1 link set dev host0 alias ${M}`,
    'ip -n ct1 addr add 192.0.2.2/24 dev host0',
    'ip -n ct1 link set dev host0 up',
  ]);
  assert.deepEqual(lines(plan.steps.map((s) => s.undo)), ['ip link del dev ve-ct1', null, null, null, null, null, null]);
});

test('veth into a PID with the host side in a namespace: ip -n for the host, nsenter for the container', () => {
  const plan = planVeth({ target: pid, hostEnd: defaultHostEnd(pid), containerEnd: 'host0' }, facts([], [], 'ns1'));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), [
    'ip -n ns1 link add dev ve-4242 type veth peer name host0 netns 4242',
    'ip -n ns1 link set dev ve-4242 alias vnet-virt:container:4242',
    'ip -n ns1 link set dev ve-4242 up',
    'nsenter -t 4242 -n ip link set dev host0 alias vnet-virt:container:4242',
    'nsenter -t 4242 -n ip link set dev host0 up',
  ]);
  assert.deepEqual(plan.steps[0]!.undo, ['ip', '-n', 'ns1', 'link', 'del', 'dev', 've-4242']);
});

test('macvlan: created straight into the container, undone by deleting it there', () => {
  const plan = planMacvlan({ target: pid, parent: 'eth0', name: defaultMacvlanName('eth0'), mode: 'bridge', address: '192.0.2.11/24' }, facts([link('eth0', 'other')], []));
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), [
    'ip link add link eth0 name mv-eth0 netns 4242 type macvlan mode bridge',
    'nsenter -t 4242 -n ip link set dev mv-eth0 alias vnet-virt:container:4242',
    'nsenter -t 4242 -n ip addr add 192.0.2.11/24 dev mv-eth0',
    'nsenter -t 4242 -n ip link set dev mv-eth0 up',
  ]);
  assert.deepEqual(plan.steps[0]!.undo, ['nsenter', '-t', '4242', '-n', 'ip', 'link', 'del', 'dev', 'mv-eth0']);
});

test('refusals: names taken (ours or not), a missing or wrong bridge, a missing parent, passthru on a shared parent', () => {
  const spec = { target: ct1, hostEnd: 've-ct1', containerEnd: 'host0' };
  refused(() => planVeth(spec, facts([link('ve-ct1', 'veth', 'someone')], [])), 'E_DEVICE_NOT_OURS', 3, '--host-end');
  refused(() => planVeth(spec, facts([link('ve-ct1', 'veth', M)], [])), 'E_DEVICE_EXISTS', 3, '--host-end');
  refused(() => planVeth(spec, facts([], [link('host0', 'other')])), 'E_DEVICE_NOT_OURS', 3, '--container-end');
  refused(() => planVeth({ ...spec, bridge: 'br0' }, facts([], [])), 'E_BRIDGE_MISSING', 3, '--bridge');
  refused(() => planVeth({ ...spec, bridge: 'eth0' }, facts([link('eth0', 'other')], [])), 'E_NOT_A_BRIDGE', 3, '--bridge');
  const mv = { target: ct1, parent: 'eth0', name: 'mv-eth0', mode: 'bridge' as const };
  refused(() => planMacvlan(mv, facts([], [])), 'E_PARENT_MISSING', 3, '--parent');
  refused(() => planMacvlan(mv, facts([link('eth0', 'other')], [link('mv-eth0', 'macvlan', 'x')])), 'E_DEVICE_NOT_OURS', 3, '--name');
  const shared = { ...link('mv9', 'macvlan'), link: 'eth0' };
  refused(() => planMacvlan({ ...mv, mode: 'passthru' }, facts([link('eth0', 'other'), shared], [])), 'E_DEVICE_CONFLICT', 3, '--mode');
});

test('remove: only marked devices; gone is a note; a foreign one refuses the whole plan', () => {
  const f = facts([link('ve-ct1', 'veth', M), link('ve-x', 'veth', 'vnet-virt:container:other')], [link('host0', 'veth', M), link('mv-eth0', 'macvlan', M)]);
  const plan = planRemove({ target: ct1, hostEnds: ['ve-ct1', 've-gone'], names: ['host0', 'mv-eth0'] }, f);
  assert.equal(plan.kind, 'down');
  assert.deepEqual(lines(plan.steps.map((s) => s.argv)), ['ip link del dev ve-ct1', 'ip -n ct1 link del dev mv-eth0']);
  assert.deepEqual(plan.notes.map((n) => n.message), [
    'container ct1: ve-gone is already gone from the host namespace',
    'container ct1: host0 goes with the host end of its pair',
  ]);
  refused(() => planRemove({ target: ct1, hostEnds: ['ve-ct1', 've-x'], names: [] }, f), 'E_DEVICE_NOT_OURS', 3, '--host-end');
  const gone = planRemove({ target: ct1, hostEnds: [], names: ['mv-eth0'] }, facts([], undefined));
  assert.equal(gone.steps.length, 0);
  assert.match(gone.notes[0]!.message, /namespace no longer exists/);
});

test('names: nspawn-like defaults within 15 bytes, deterministic', () => {
  assert.equal(defaultHostEnd(ct1), 've-ct1');
  assert.equal(defaultHostEnd(pid), 've-4242');
  const long = defaultHostEnd(targetOf('a-very-long-container-name'));
  assert.match(long, /^ve-a-very--[0-9a-f]{4}$/);
  assert.equal(long, defaultHostEnd(targetOf('a-very-long-container-name')));
  assert.notEqual(long, defaultHostEnd(targetOf('a-very-long-container-name2')));
  assert.ok(Buffer.byteLength(defaultHostEnd(targetOf('ünïcødé-ünïcødé'))) <= 15);
  assert.equal(defaultMacvlanName('enp0s31f6'), 'mv-enp0s31f6');
  assert.equal(defaultMacvlanName('a-fifteen-bytes'), 'mv-a-fifteen-by');
});

test('option checks: usage errors (exit 2) naming the option', () => {
  refused(() => checkIfname('this-is-too-long-x', '--host-end'), 'E_IFNAME_INVALID', 2, '--host-end');
  refused(() => checkIfname('a/b', '--name'), 'E_IFNAME_INVALID', 2, '--name');
  refused(() => checkMac('01:00:00:00:00:01'), 'E_MAC_INVALID', 2, '--mac');
  assert.equal(checkMac('02:AA:00:00:00:01'), '02:aa:00:00:00:01');
  for (const bad of ['192.0.2.2', '192.0.2.2/33', '300.0.2.2/24', 'fd00::1/129', 'x/8', '192.0.2.2/24 dev lo'])
    refused(() => checkCidr(bad), 'E_ADDRESS_INVALID', 2, '--address');
  assert.equal(checkCidr('fd00::2/64'), 'fd00::2/64');
  refused(() => checkMode('passthrough'), 'E_MODE_UNKNOWN', 2, '--mode');
  assert.equal(checkMode(undefined), 'bridge');
  refused(() => targetOf('a/b'), 'E_NETNS_NAME', 2, 'TARGET');
  refused(() => targetOf('0'), 'E_PID_INVALID', 2, 'TARGET');
  refused(() => planVeth({ target: targetOf('x'.repeat(240)), hostEnd: 've-x', containerEnd: 'host0' }, facts([], [])), 'E_NAME_TOO_LONG', 2, 'TARGET');
});

test('executor: the host side batches; commands inside the container run one by one', async () => {
  const { execute } = await import('../../src/host/executor.js');
  const calls: { argv: string[]; input: string | undefined }[] = [];
  const plan = planVeth({ target: pid, hostEnd: 've-4242', containerEnd: 'host0', bridge: 'br0' }, facts([link('br0', 'bridge')], [], 'ns1'));
  await execute(plan, {
    runner: async (argv, opts) => {
      calls.push({ argv: [...argv], input: opts?.input });
      return { argv, code: 0, stdout: '', stderr: '' };
    },
  });
  assert.deepEqual(calls.map((c) => c.argv.join(' ')), [
    'ip -n ns1 -batch -',
    'nsenter -t 4242 -n ip link set dev host0 alias vnet-virt:container:4242',
    'nsenter -t 4242 -n ip link set dev host0 up',
  ]);
  assert.equal(calls[0]!.input!.split('\n').filter(Boolean).length, 4);
});

test('veth a second time: the pair is ours, so nothing to do; only what drifted is done; another MAC is refused', () => {
  const spec = { target: ct1, hostEnd: 've-ct1', containerEnd: 'host0', bridge: 'br0', mac: '02:00:00:00:00:02', address: '192.0.2.2/24' };
  const he = { ...link('ve-ct1', 'veth', M), master: 'br0' };
  const ce = { ...link('host0', 'veth', M), mac: '02:00:00:00:00:02' };
  const same = planVeth(spec, { ...facts([link('br0', 'bridge'), he], [ce]), addresses: new Map([['host0', ['192.0.2.2/24']]]) });
  assert.deepEqual(same.steps, []);
  const drifted = planVeth(spec, { ...facts([link('br0', 'bridge'), { ...he, master: undefined }], [{ ...ce, up: false }]), addresses: new Map() });
  assert.deepEqual(lines(drifted.steps.map((s) => s.argv)), [
    'ip link set dev ve-ct1 master br0',
    'ip -n ct1 addr add 192.0.2.2/24 dev host0',
    'ip -n ct1 link set dev host0 up',
  ]);
  refused(() => planVeth({ ...spec, mac: '02:00:00:00:00:09' }, facts([link('br0', 'bridge'), he], [ce])), 'E_DEVICE_EXISTS', 3, '--mac');
  // Only our own pair counts: a foreign host end of that name is still refused.
  refused(() => planVeth(spec, facts([link('br0', 'bridge'), { ...he, alias: 'someone' }], [ce])), 'E_DEVICE_NOT_OURS', 3, '--host-end');
});
