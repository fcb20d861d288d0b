import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { intentOf } from '../../src/intent/intent.js';
import { parseLinks } from '../../src/host/facts.js';
import { planDown, planUp } from '../../src/host/plan.js';
import { execute, HostError } from '../../src/host/executor.js';
import type { Plan } from '../../src/host/step.js';
import { fixturesDir } from '../helpers.js';
import { FakeIp } from './host-fake-ip.js';
import type { FailStyle } from './host-fake-ip.js';

const web1 = () => intentOf(DomainDoc.parse(readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8'), 'web1.xml'));
const args = (argv: readonly string[]): string => argv.slice(argv[1] === '-n' ? 3 : 1).join(' ');

/** The full web1 plan with --create-bridge: 16 steps over 5 devices. */
function fullPlan(netns?: string): Plan {
  return planUp([web1()], parseLinks(new FakeIp().json(), netns), { createBridge: true });
}

async function failing(ip: FakeIp, plan: Plan): Promise<HostError> {
  try {
    await execute(plan, { runner: ip.runner });
  } catch (e) {
    if (e instanceof HostError) return e;
    throw e;
  }
  assert.fail('execute should have failed');
}

test('execute: one ip process for the whole plan, the host then has every device', async () => {
  const ip = new FakeIp();
  const plan = fullPlan();
  const r = await execute(plan, { runner: ip.runner });
  assert.equal(r.processes, 1);
  assert.equal(r.done.length, plan.steps.length);
  assert.deepEqual([...ip.links.keys()].sort(), ['br0', 'mvt0', 't0', 'veth0', 'veth1']);
  assert.deepEqual(ip.log, plan.steps.map((s) => args(s.argv)));
});

for (const style of ['named', 'silent'] as FailStyle[]) {
  test(`execute: a failure at every position is undone exactly, in reverse (ip ${style === 'named' ? 'names the line' : 'dies without naming it'})`, async () => {
    const plan = fullPlan('ns1');
    assert.equal(plan.steps.length, 17);
    for (let k = 0; k < plan.steps.length; k++) {
      const ip = new FakeIp();
      ip.style = style;
      const bad = args(plan.steps[k]!.argv);
      ip.failWhen = (line) => (line === bad ? 'RTNETLINK answers: Operation not permitted' : undefined);
      const e = await failing(ip, plan);
      assert.equal(e.exitCode, 1, `position ${k}`);
      assert.equal(e.code, 'E_HOST_FAILED');
      assert.equal(e.failure!.step, plan.steps[k]);
      assert.ok(e.message.includes(`\`ip -n ns1 ${bad}\` failed: RTNETLINK answers: Operation not permitted`), e.message);
      const expectedUndo = plan.steps
        .slice(0, k)
        .filter((s) => s.undo)
        .reverse()
        .map((s) => args(s.undo!));
      assert.deepEqual(ip.log, [...plan.steps.slice(0, k + 1).map((s) => args(s.argv)), ...expectedUndo], `position ${k}`);
      assert.equal(ip.links.size, 0, `position ${k}: the host is as before`);
      assert.equal(ip.processes, (style === 'silent' ? 1 : 0) + 1 + (expectedUndo.length > 1 ? 1 : expectedUndo.length), `position ${k}: processes`);
    }
  });
}

test('execute: a failing undo is exit 4 and lists each leftover with the command that removes it; the other undos still run', async () => {
  const plan = fullPlan();
  const ip = new FakeIp();
  const lastStep = args(plan.steps.at(-1)!.argv);
  ip.failWhen = (line) => (line === lastStep ? 'Error: boom' : line === 'link del dev veth1' ? 'RTNETLINK answers: Device or resource busy' : undefined);
  const e = await failing(ip, plan);
  assert.equal(e.exitCode, 4);
  assert.equal(e.code, 'E_HOST_LEFTOVERS');
  assert.deepEqual(e.leftovers.map((l) => [l.device, l.command]), [['veth1', 'ip link del dev veth1']]);
  assert.match(e.message, /left behind: veth1 \(remove: ip link del dev veth1\)/);
  assert.deepEqual(ip.log.slice(plan.steps.length), ['link del dev mvt0', 'link del dev veth1', 'link del dev t0', 'link del dev br0']);
  assert.deepEqual([...ip.links.keys()].sort(), ['veth0', 'veth1']);
});

test('execute: an aborted up is undone', async () => {
  const plan = fullPlan();
  const ip = new FakeIp();
  const ctl = new AbortController();
  ip.beforeCommand = (line) => {
    if (!line.startsWith('link add dev veth1')) return false;
    ctl.abort();
    return true;
  };
  try {
    await execute(plan, { runner: ip.runner, signal: ctl.signal });
    assert.fail('should fail');
  } catch (e) {
    assert.ok(e instanceof HostError && e.exitCode === 1, String(e));
    assert.match(e.message, /aborted/);
  }
  assert.equal(ip.links.size, 0);
});

test('execute: a step the batch syntax cannot carry runs as its own process, in order', async () => {
  const doc = DomainDoc.parse(`<domain><name>a#b</name><devices><interface type='ethernet'><target dev='t1' managed='no'/></interface></devices></domain>`, 'x.xml');
  const ip = new FakeIp();
  const plan = planUp([intentOf(doc)], parseLinks(ip.json()));
  assert.deepEqual(plan.steps.map((s) => args(s.argv)), ['tuntap add dev t1 mode tap vnet_hdr', 'link set dev t1 alias vnet-virt:name:a#b', 'link set dev t1 up']);
  const r = await execute(plan, { runner: ip.runner });
  assert.equal(r.processes, 3);
  assert.equal(ip.links.get('t1')!.alias, 'vnet-virt:name:a#b');
  assert.equal(ip.links.get('t1')!.up, true);
});

test('execute: a process killed after its command did its work: the probe sees it, and it is undone', async () => {
  const doc = DomainDoc.parse(`<domain><name>a#b</name><devices><interface type='ethernet'><target dev='t1' managed='no'/></interface></devices></domain>`, 'x.xml');
  const ip = new FakeIp();
  const plan = planUp([intentOf(doc)], parseLinks(ip.json()));
  const ctl = new AbortController();
  ip.afterCommand = (line) => {
    if (!line.includes('alias')) return false;
    ctl.abort();
    return true;
  };
  await assert.rejects(execute(plan, { runner: ip.runner, signal: ctl.signal }), (e: unknown) => e instanceof HostError && e.exitCode === 1 && e.failure!.step === plan.steps[2]);
  assert.equal(ip.links.size, 0);
  assert.deepEqual(ip.log.at(-1), 'link del dev t1');
});

test('execute down: every deletion is tried; what is not deleted is a leftover (exit 4) with its removal command', async () => {
  const ip = new FakeIp();
  await execute(fullPlan(), { runner: ip.runner });
  const plan = planDown([web1()], parseLinks(ip.json()));
  const G = '1753514496';
  ip.log.length = 0;
  ip.failWhen = (line) => (line === `link set dev veth1 group ${G}` ? 'RTNETLINK answers: Device or resource busy' : undefined);
  const e = await failing(ip, plan);
  assert.equal(e.exitCode, 4);
  assert.deepEqual(e.leftovers.map((l) => l.command), ['ip link del dev veth1']);
  assert.deepEqual(ip.log, ['mvt0', 'veth1', 't0', 'br0'].map((d) => `link set dev ${d} group ${G}`).concat(`link del group ${G}`));
  assert.deepEqual([...ip.links.keys()].sort(), ['veth0', 'veth1']);
});

test('execute down: a failed group deletion deleted nothing; every device is listed', async () => {
  const ip = new FakeIp();
  await execute(fullPlan('ns1'), { runner: ip.runner });
  const plan = planDown([web1()], parseLinks(ip.json(), 'ns1'));
  ip.failWhen = (line) => (line.startsWith('link del group') ? 'RTNETLINK answers: Operation not supported' : undefined);
  const e = await failing(ip, plan);
  assert.equal(e.exitCode, 4);
  assert.deepEqual(e.leftovers.map((l) => l.command), ['mvt0', 'veth1', 't0', 'br0'].map((d) => `ip -n ns1 link del dev ${d}`));
  assert.equal(ip.links.size, 5);
});

test('execute: an empty plan starts no process', async () => {
  const ip = new FakeIp();
  const r = await execute({ kind: 'up', netns: undefined, steps: [], notes: [] }, { runner: ip.runner });
  assert.equal(r.processes, 0);
  assert.equal(ip.processes, 0);
});
