// Crashes and races while provisioning: kill -9 during up, racing ups, our own
// device set down, hand-made macvtaps for check, a hand-edited macvtap <mac>.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { down, up } from '../../src/host/provision.js';
import { cliPath, ipIn, linksIn, repoRoot, requireRoot, runCli, seededRandom, tempDir, withNetns } from '../helpers.js';
import { attach, domainFile, link, MARK, names } from './host-lib.js';

const hookEntry = join(repoRoot, 'dist/src/hook/entry.js');

const exited = (c: ChildProcess): Promise<number | null> => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code))));

/** Whether a child of `pid` runs `ip ... -batch`, read from /proc. */
function batchRunning(pid: number): boolean {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.some((c) => {
      try {
        return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('-batch');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `up` in its own process group and kills the group (node and its ip
 * child) with SIGKILL: at a random moment of the whole run, or a random few
 * milliseconds after the ip batch started.
 */
async function killedUp(args: string[], rand: () => number, wholeRunMs: number): Promise<string> {
  const c = spawn(process.execPath, [cliPath, 'up', ...args], { detached: true, stdio: 'ignore' });
  const done = exited(c);
  let when: string;
  if (rand() < 0.5) {
    const ms = rand() * wholeRunMs;
    when = `${ms.toFixed(0)} ms after the start`;
    await sleep(ms);
  } else {
    const t0 = Date.now();
    while (!batchRunning(c.pid!) && c.exitCode === null && Date.now() - t0 < 10_000) await new Promise((r) => setImmediate(r));
    const ms = rand() * 8;
    when = `${ms.toFixed(1)} ms into the ip batch`;
    await sleep(ms);
  }
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // it had ended
  }
  await done;
  return when;
}

/** web1 with a tap tk0 and a macvtap mk0 on veth vl0/vp0, both on bridge brk (vnet-virt creates it). */
function crashDomain(t: TestContext): string {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-tap', file, '--tap', 'tk0', '--bridge', 'brk');
  attach('attach-macvtap', file, '--lower', 'vl0', '--veth-peer', 'vp0', '--bridge', 'brk', '--macvtap', 'mk0');
  return file;
}

const COMPLETE = ['brk', 'mk0', 'tk0', 'vl0', 'vp0'];

function assertComplete(ns: string, why: string): void {
  assert.deepEqual(names(ns), COMPLETE, why);
  for (const n of COMPLETE) {
    const l = link(ns, n)!;
    assert.equal(l.ifalias, MARK, `${n} carries the marker: ${why}`);
    assert.ok(l.flags.includes('UP'), `${n} is up: ${why}`);
  }
  assert.equal(link(ns, 'tk0')!.master, 'brk', why);
  assert.equal(link(ns, 'vp0')!.master, 'brk', why);
}

/** The journal folders of a namespace (none once nothing is pending). */
const journalsOf = (ns: string): string[] => {
  try {
    return readdirSync(join(process.env.VNET_VIRT_STATE_DIR!, 'pending')).filter((d) => d.startsWith(`ns-${ns}-`));
  } catch {
    return [];
  }
};

/** After a killed run: even trials a plain down leaves nothing, odd ones a plain up completes the set; no journal is left. */
async function afterKill(ns: string, doc: DomainDoc, trial: number, why: string): Promise<void> {
  if (trial % 2 === 0) {
    await down([doc], { netns: ns, log: () => {} });
    assert.deepEqual(names(ns), [], `a plain down leaves nothing: ${why}`);
  } else {
    await up([doc], { netns: ns, createBridge: true, log: () => {} });
    assertComplete(ns, `a plain up completes the set: ${why}`);
    await down([doc], { netns: ns, log: () => {} });
    assert.deepEqual(names(ns), [], `down after up: ${why}`);
  }
  assert.deepEqual(journalsOf(ns), [], `no journal is left once down is done: ${why}: ${journalsOf(ns).map((d) => readdirSync(join(process.env.VNET_VIRT_STATE_DIR!, 'pending', d)).join(' '))}`);
}

test('kill -9 of up (and its ip child) at 50 seeded moments: a plain down leaves nothing, a plain up completes the set', async (t) => {
  if (!requireRoot(t)) return;
  const file = crashDomain(t);
  const doc = DomainDoc.parse(readFileSync(file, 'utf8'), file);
  const seed = Number(process.env.VNET_KILL_SEED ?? 20261130);
  const rand = seededRandom(seed);
  await withNetns(async (ns) => {
    const args = [file, '--netns', ns, '--create-bridge'];
    // How long a whole up takes here, to spread the kills over it.
    const t0 = Date.now();
    assert.equal(runCli(['up', ...args]).code, 0);
    const wholeRunMs = Date.now() - t0;
    await down([doc], { netns: ns });
    assert.deepEqual(names(ns), []);
    for (let trial = 0; trial < 50; trial++) {
      const when = await killedUp(args, rand, wholeRunMs);
      await afterKill(ns, doc, trial, `trial ${trial} (seed ${seed}), killed ${when}`);
    }
  });
});

/** The children of `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Runs the hook's `prepare begin` (as libvirt would, the XML on stdin) and
 * kills it with SIGKILL at a random moment of a whole run: its process group
 * (node and its ip children: the probe, and the ip -batch started beside it),
 * or node alone, as when libvirt kills the hook; orphaned ip children then
 * read the end of their input and exit, and they are waited for.
 */
async function killedHook(xml: string, env: NodeJS.ProcessEnv, rand: () => number, wholeRunMs: number): Promise<string> {
  const c = spawn(process.execPath, [hookEntry, 'web1', 'prepare', 'begin', '-'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  c.stdin!.end(xml);
  const done = exited(c);
  const ms = rand() * wholeRunMs;
  const group = rand() < 0.5;
  await sleep(ms);
  const orphans = childrenOf(c.pid!);
  try {
    process.kill(group ? -c.pid! : c.pid!, 'SIGKILL');
  } catch {
    // it had ended
  }
  await done;
  for (const pid of orphans) for (let i = 0; i < 400 && existsSync(`/proc/${pid}`); i++) await sleep(25);
  return `${group ? 'node and its children' : 'node alone'}, ${ms.toFixed(0)} ms after the start`;
}

test('kill -9 of a hook prepare (node alone, or with its ip children) at 24 seeded moments: a plain down leaves nothing, a plain up completes the set', async (t) => {
  if (!requireRoot(t)) return;
  const file = crashDomain(t);
  const xml = readFileSync(file, 'utf8');
  const doc = DomainDoc.parse(xml, file);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const seed = Number(process.env.VNET_KILL_SEED ?? 20261130);
  const rand = seededRandom(seed);
  await withNetns(async (ns) => {
    const env = {
      ...process.env,
      VNET_VIRT_HOOK_CONFIG: join(dir, 'none.conf'),
      VNET_VIRT_HOOK_LOG: join(dir, 'hook.log'),
      VNET_VIRT_HOOK_LOCK: join(dir, 'hook.lock'),
      VNET_VIRT_HOOK_NETNS: ns,
      VNET_VIRT_HOOK_CREATE_BRIDGE: 'yes',
    };
    const t0 = Date.now();
    const whole = spawnSync(process.execPath, [hookEntry, 'web1', 'prepare', 'begin', '-'], { input: xml, env, encoding: 'utf8' });
    assert.equal(whole.status, 0, whole.stderr);
    const wholeRunMs = Date.now() - t0;
    assertComplete(ns, 'a whole hook prepare');
    // The batch started beside the probe took the plan's commands.
    assert.match(readFileSync(join(dir, 'hook.log'), 'utf8'), /run ip -n \S+ -batch - <<< .* -> exit 0 \(\d+ ms, started early\)/);
    await down([doc], { netns: ns, log: () => {} });
    for (let trial = 0; trial < 24; trial++) {
      const when = await killedHook(xml, env, rand, wholeRunMs);
      await afterKill(ns, doc, trial, `trial ${trial} (seed ${seed}), killed ${when}`);
    }
  });
});

test('racing ups of one domain: each sees its own devices and succeeds, none advises --adopt', async (t) => {
  if (!requireRoot(t)) return;
  const file = crashDomain(t);
  await withNetns(async (ns) => {
    const doc = DomainDoc.parse(readFileSync(file, 'utf8'), file);
    for (let round = 0; round < 4; round++) {
      const racers = Array.from({ length: 2 + (round % 2) }, () => {
        const c = spawn(process.execPath, [cliPath, 'up', file, '--netns', ns, '--create-bridge'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        return exited(c).then((code) => ({ code, stderr }));
      });
      const results = await Promise.all(racers);
      for (const r of results) {
        assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /--adopt/, `round ${round}`);
      }
      assertComplete(ns, `round ${round}`);
      await down([doc], { netns: ns });
      assert.deepEqual(names(ns), []);
    }
  });
});

test('up fixes a device carrying this domain\'s marker that someone set down or took off its bridge, without --adopt, and says so', async (t) => {
  if (!requireRoot(t)) return;
  const file = crashDomain(t);
  await withNetns(async (ns) => {
    assert.equal(runCli(['up', file, '--netns', ns, '--create-bridge']).code, 0);
    ipIn(ns, 'link', 'set', 'dev', 'tk0', 'down');
    ipIn(ns, 'link', 'set', 'dev', 'mk0', 'down');
    ipIn(ns, 'link', 'set', 'dev', 'vp0', 'nomaster');
    const r = runCli(['up', file, '--netns', ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /fixing web1's own device: tk0 is down \(interface tk0\)/);
    assert.match(r.stderr, /fixing web1's own device: vp0 is not on bridge brk \(on no bridge\) \(interface mk0\)/);
    assert.match(r.stderr, /fixing web1's own device: mk0 is down \(interface mk0\)/);
    assertComplete(ns, 'after the fix');
    // A device of the same name without our marker is still not ours to touch.
    ipIn(ns, 'link', 'set', 'dev', 'tk0', 'down', 'alias', 'someone');
    const refused = runCli(['up', file, '--netns', ns]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /--adopt/);
  });
});

test('check: a hand-made macvtap target without record is fine (a note, exit 0); a MAC that differs is MAC drift (exit 3)', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'hand.xml');
  const mac = '52:54:00:0a:0b:0c';
  writeFileSync(
    file,
    `<domain type='qemu'><name>hand</name><devices><interface type='ethernet'><mac address='${mac}'/><target dev='mvh0' managed='no'/><model type='virtio'/></interface></devices></domain>\n`,
  );
  await withNetns(async (ns) => {
    ipIn(ns, 'link', 'add', 'vh1', 'type', 'veth', 'peer', 'name', 'vh0');
    ipIn(ns, 'link', 'add', 'link', 'vh1', 'name', 'mvh0', 'address', mac, 'type', 'macvtap', 'mode', 'vepa');
    ipIn(ns, 'link', 'set', 'dev', 'mvh0', 'up');
    const ok = runCli(['check', file, '--netns', ns]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.doesNotMatch(ok.stdout, /wrong-kind/);
    assert.match(ok.stdout, /note: hand: mvh0 does not carry hand's marker \(alias: none\): down will leave it \(interface mvh0\) \[not-ours\]/);
    assert.equal(runCli(['lint', '--host', '--netns', ns, '--no-schema', file]).code, 0, 'lint --host agrees');

    ipIn(ns, 'link', 'set', 'dev', 'mvh0', 'address', '52:54:00:0a:0b:0d');
    const drift = runCli(['check', file, '--netns', ns]);
    assert.equal(drift.code, 3);
    assert.match(drift.stdout, /hand: macvtap mvh0 has MAC 52:54:00:0a:0b:0d, but the interface's <mac> is 52:54:00:0a:0b:0c \(interface mvh0\) \[mac\]/);
    assert.equal(runCli(['lint', '--host', '--netns', ns, '--no-schema', file]).code, 3, 'lint --host agrees');
    assert.ok(linksIn(ns).some((l) => l.ifname === 'mvh0'), 'check changed nothing');
  });
});

test('a hand-edited macvtap <mac>: up refuses with lint\'s rule (exit 3, nothing created), lint reports it', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = domainFile(dir, 'web1.xml');
  attach('attach-macvtap', file, '--lower', 'vl0', '--veth-peer', 'vp0', '--bridge', 'brk', '--macvtap', 'mk0', '--mac', '52:54:00:00:00:01');
  writeFileSync(file, readFileSync(file, 'utf8').replace("<mac address='52:54:00:00:00:01'/>", "<mac address='52:54:00:00:00:02'/>"));
  await withNetns(async (ns) => {
    const r = runCli(['up', file, '--netns', ns, '--create-bridge']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /MAC 52:54:00:00:00:02 of the guest differs from the recorded macvtap MAC 52:54:00:00:00:01 of target 'mk0' \[macvtap-mac-mismatch\]/);
    assert.deepEqual(names(ns), [], 'nothing created');
    const lint = runCli(['lint', '--no-schema', file]);
    assert.equal(lint.code, 3);
    assert.match(lint.stdout, /macvtap-mac-mismatch: MAC 52:54:00:00:00:02 of the guest differs from the recorded macvtap MAC 52:54:00:00:00:01 of target 'mk0'/);
  });
});
