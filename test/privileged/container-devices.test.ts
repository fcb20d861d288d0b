import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { cliPath, ipIn, linksIn, repoRoot, requireRoot, runCli, withNetns } from '../helpers.js';
import type { CliResult } from '../helpers.js';
import { containerVeth } from '../../src/commands/container.js';
import type { ContainerReport } from '../../src/commands/container.js';
import { HostError } from '../../src/host/executor.js';
import { run } from '../../src/host/run.js';

const Ajv = AjvModule.default;
const validate = new Ajv({ strict: true, allErrors: true }).compile(JSON.parse(readFileSync(join(repoRoot, 'schemas/container-result.json'), 'utf8')));
function report(r: CliResult): ContainerReport {
  assert.equal(r.code, 0, r.stderr);
  const value = JSON.parse(r.stdout) as ContainerReport;
  assert.ok(validate(value), JSON.stringify(validate.errors));
  return value;
}

/** vnet-virt run inside namespace NS, so the host side of everything is NS, never the machine's own. */
function cliIn(ns: string, ...args: string[]): CliResult {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, cliPath, 'container', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** An anonymous namespace like nspawn's, made from inside NS: `ip netns exec NS unshare -n sleep 60`. */
async function withContainer<T>(ns: string, fn: (pid: number) => Promise<T> | T): Promise<T> {
  const outer = execFileSync('ip', ['netns', 'exec', ns, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'unshare', '-n', 'sleep', '60'], { stdio: 'ignore' });
  try {
    // ip and unshare exec in place: child.pid ends up as sleep, in a namespace of its own.
    for (let i = 0; i < 200; i++) {
      let now = '';
      try {
        now = readlinkSync(`/proc/${child.pid}/ns/net`);
      } catch {
        // not there yet
      }
      if (now !== '' && now !== outer && now !== readlinkSync('/proc/self/ns/net')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return await fn(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

const pingFrom = (pid: number, address: string) =>
  spawnSync('nsenter', ['-t', String(pid), '-n', 'busybox', 'ping', '-c', '1', '-W', '2', address], { encoding: 'utf8' });
const linksOfPid = (pid: number) =>
  JSON.parse(execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', '-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; ifalias?: string; address?: string; flags: string[]; linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> } }[];

function bridgeIn(ns: string): void {
  ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
  ipIn(ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0');
  ipIn(ns, 'link', 'set', 'br0', 'up');
}

test('container veth into an unshare -n process: host end on the bridge, vv0 inside, traffic flows; remove twice == once', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns(async (ns) => {
    bridgeIn(ns);
    await withContainer(ns, (pid) => {
      const created = report(cliIn(ns, 'veth', String(pid), '--bridge', 'br0', '--address', '192.0.2.2/24', '--mac', '02:00:00:00:00:02', '--json'));
      assert.deepEqual(created.devices, { host: [`ve-${pid}`], container: ['vv0'] });
      const hostEnd = linksIn(ns).find((l) => l.ifname === `ve-${pid}`);
      assert.equal(hostEnd?.master, 'br0');
      assert.equal(hostEnd?.ifalias, `vnet-virt:container:${pid}`);
      const inside = linksOfPid(pid).find((l) => l.ifname === 'vv0');
      assert.equal(inside?.address, '02:00:00:00:00:02');
      assert.ok(inside?.flags.includes('UP'));
      const ping = pingFrom(pid, '192.0.2.1');
      assert.equal(ping.status, 0, ping.stdout + ping.stderr);

      // Twice is like up twice: nothing to do, exit 0; what drifted since is put right.
      const args = ['veth', String(pid), '--bridge', 'br0', '--address', '192.0.2.2/24', '--mac', '02:00:00:00:00:02', '--json'];
      assert.deepEqual(report(cliIn(ns, ...args)).steps, []);
      ipIn(ns, 'link', 'set', 'dev', `ve-${pid}`, 'nomaster');
      execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', 'addr', 'flush', 'dev', 'vv0']);
      const fixed = report(cliIn(ns, ...args));
      assert.deepEqual(fixed.steps.map((st) => st.description), [`put ve-${pid} on bridge br0`, 'give vv0 the address 192.0.2.2/24']);
      assert.equal(linksIn(ns).find((l) => l.ifname === `ve-${pid}`)?.master, 'br0');
      assert.equal(pingFrom(pid, '192.0.2.1').status, 0);
      const otherMac = cliIn(ns, 'veth', String(pid), '--bridge', 'br0', '--mac', '02:00:00:00:00:09');
      assert.equal(otherMac.code, 3);
      assert.match(otherMac.stderr, /^vnet-virt: --mac: vv0 already exists .* with MAC 02:00:00:00:00:02, not 02:00:00:00:00:09/);

      const removed = report(cliIn(ns, 'remove', String(pid), '--host-end', `ve-${pid}`, '--json'));
      assert.equal(removed.steps.length, 1);
      const twice = report(cliIn(ns, 'remove', String(pid), '--host-end', `ve-${pid}`, '--json'));
      assert.equal(twice.steps.length, 0);
      assert.match(twice.notes[0]!, /already gone/);
      assert.equal(linksIn(ns).some((l) => l.ifname === `ve-${pid}`), false);
      assert.equal(linksOfPid(pid).some((l) => l.ifname === 'vv0'), false, 'the pair went with its host end');
    });
  });
});

test('container veth into a named namespace (from inside NS); dry-run changes nothing', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns((ns) =>
    withNetns((ct) => {
      bridgeIn(ns);
      const dry = report(cliIn(ns, 'veth', ct, '--bridge', 'br0', '--dry-run', '--json'));
      assert.equal(dry.dryRun, true);
      assert.deepEqual(dry.steps.map((s) => s.side), ['host', 'host', 'host', 'host', 'container', 'container']);
      assert.equal(linksIn(ns).some((l) => l.ifname.startsWith('ve-')), false);
      const r = cliIn(ns, 'veth', ct, '--host-end', 've-ct', '--bridge', 'br0', '--address', '192.0.2.3/24');
      assert.equal(r.code, 0, r.stderr);
      const ping = spawnSync('ip', ['netns', 'exec', ct, 'busybox', 'ping', '-c', '1', '-W', '2', '192.0.2.1'], { encoding: 'utf8' });
      assert.equal(ping.status, 0, ping.stdout + ping.stderr);
      assert.equal(linksIn(ct).find((l) => l.ifname === 'vv0')?.ifalias, `vnet-virt:container:${ct}`);
    }),
  );
});

test('container macvlan: two containers on one parent (bridge mode) ping each other; foreign devices untouched', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns(async (ns) => {
    // No dummy module here: a veth end is the parent.
    ipIn(ns, 'link', 'add', 'par0', 'type', 'veth', 'peer', 'name', 'par1');
    ipIn(ns, 'link', 'set', 'par0', 'up');
    ipIn(ns, 'link', 'set', 'par1', 'up');
    await withContainer(ns, (a) =>
      withContainer(ns, (b) => {
        const ra = report(cliIn(ns, 'macvlan', String(a), '--parent', 'par0', '--address', '192.0.2.11/24', '--json'));
        assert.deepEqual(ra.devices.container, ['mv-par0']);
        const rb = cliIn(ns, 'macvlan', String(b), '--parent', 'par0', '--name', 'eth0', '--address', '192.0.2.12/24');
        assert.equal(rb.code, 0, rb.stderr);
        const mv = linksOfPid(b).find((l) => l.ifname === 'eth0');
        assert.equal(mv?.linkinfo?.info_kind, 'macvlan');
        assert.equal(mv?.linkinfo?.info_data?.['mode'], 'bridge');
        const ping = pingFrom(a, '192.0.2.12');
        assert.equal(ping.status, 0, ping.stdout + ping.stderr);

        // A device in the container that is not ours is refused and left.
        execFileSync('nsenter', ['-t', String(b), '-n', 'ip', 'link', 'add', 'foreign0', 'type', 'veth', 'peer', 'name', 'foreign1']);
        const foreign = cliIn(ns, 'remove', String(b), '--name', 'foreign0', '--name', 'eth0');
        assert.equal(foreign.code, 3);
        assert.match(foreign.stderr, /^vnet-virt: --name: foreign0 .* not carry this container's marker/);
        assert.ok(linksOfPid(b).some((l) => l.ifname === 'eth0'), 'a refused remove changes nothing');
        const taken = cliIn(ns, 'macvlan', String(b), '--parent', 'par0', '--name', 'foreign0');
        assert.equal(taken.code, 3);
        assert.match(taken.stderr, /--name: foreign0 already exists in container \d+ and is not vnet-virt's/);

        const ok = report(cliIn(ns, 'remove', String(b), '--name', 'eth0', '--json'));
        assert.equal(ok.steps[0]!.side, 'container');
        assert.equal(cliIn(ns, 'remove', String(b), '--name', 'eth0').code, 0, 'already gone is success');
        assert.deepEqual(linksOfPid(b).map((l) => l.ifname).sort(), ['foreign0', 'foreign1', 'lo']);
      }),
    );
  });
});

test('container refusals: missing parent, missing namespace or process, the host side itself (exit 3, one line)', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns(async (ns) => {
    await withContainer(ns, (pid) => {
      const parent = cliIn(ns, 'macvlan', String(pid), '--parent', 'nope0');
      assert.equal(parent.code, 3);
      assert.match(parent.stderr, /^vnet-virt: --parent: parent device nope0 does not exist.*\n$/);
    });
    const gone = cliIn(ns, 'veth', 'vnet-test-no-such-ns');
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /^vnet-virt: TARGET: no network namespace named 'vnet-test-no-such-ns'; .*netns/);
    const noPid = cliIn(ns, 'veth', '999999999');
    assert.equal(noPid.code, 3);
    assert.match(noPid.stderr, /TARGET: no process 999999999/);
    const self = cliIn(ns, 'veth', ns);
    assert.equal(self.code, 3);
    assert.match(self.stderr, /TARGET: namespace \S+ is (the host's own network namespace|the namespace the host side works in);/);
    // From the test's own namespace, with --dry-run: even a missed refusal could not touch the machine.
    const host = runCli(['container', 'veth', String(process.pid), '--dry-run']);
    assert.equal(host.code, 3);
    assert.match(host.stderr, /^vnet-virt: TARGET: process \d+ is in the host's own network namespace; /);
    // From inside NS, a process of the machine's own namespace is still the host's (found by the kernel threads').
    const hostFromNs = cliIn(ns, 'veth', String(process.pid), '--dry-run');
    assert.equal(hostFromNs.code, 3, hostFromNs.stdout);
    assert.match(hostFromNs.stderr, /^vnet-virt: TARGET: process \d+ is in the host's own network namespace; /);
    assert.deepEqual(linksIn(ns).map((l) => l.ifname), ['lo'], 'no refusal changed anything');
  });
});

test('container veth: a real failure midway (the address taken meanwhile) is undone: exit 1, nothing left', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns((ns) =>
    withNetns(async (ct) => {
      // The runner runs every command for real; just before `addr add`, someone else puts that address on vv0.
      const runner: typeof run = async (argv, opts) => {
        if (argv.join(' ').includes('addr add')) execFileSync('ip', ['-n', ct, 'addr', 'add', '192.0.2.2/24', 'dev', 'vv0']);
        return run(argv, opts);
      };
      const lines: string[] = [];
      await assert.rejects(
        containerVeth(ct, { netns: ns, hostEnd: 've-undo', address: '192.0.2.2/24', runner, log: (l) => lines.push(l) }),
        (e: unknown) => {
          assert.ok(e instanceof HostError);
          assert.equal(e.exitCode, 1);
          assert.match(e.message, /addr add 192\.0\.2\.2\/24 dev vv0` failed: .*already assigned.*undone/);
          return true;
        },
      );
      assert.deepEqual(lines, [`undo: ip -n ${ns} link del dev ve-undo`]);
      assert.deepEqual(linksIn(ns).map((l) => l.ifname), ['lo']);
      assert.deepEqual(linksIn(ct).map((l) => l.ifname), ['lo'], 'the container end went with the pair');
    }),
  );
});

test('container remove: a host end in another namespace than the one looked in is not "gone": exit 3, where it looked, nothing deleted', async (t) => {
  if (!requireRoot(t)) return;
  await withNetns((ns) =>
    withNetns((ct) => {
      const hostEnd = `ve-io${randomBytes(3).toString('hex')}`;
      const made = report(runCli(['container', 'veth', ct, '--netns', ns, '--host-end', hostEnd, '--json']));
      assert.deepEqual(made.devices, { host: [hostEnd], container: ['vv0'] }, "the default container end is not nspawn's host0");
      // Without --netns the host side is looked for in the current namespace (only read here): not there, but in ns.
      const wrong = runCli(['container', 'remove', ct, '--host-end', hostEnd]);
      assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
      assert.equal(wrong.stderr.split('\n').filter(Boolean).length, 1, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`${hostEnd} is not in the current namespace.* is in namespace ${ns}; give --netns ${ns}`));
      assert.ok(linksIn(ns).some((l) => l.ifname === hostEnd), 'nothing deleted');
      const right = report(runCli(['container', 'remove', ct, '--netns', ns, '--host-end', hostEnd, '--json']));
      assert.equal(right.steps.length, 1);
      assert.equal(linksIn(ns).some((l) => l.ifname === hostEnd), false);
      // Gone from everywhere is still success: remove twice == once.
      assert.equal(runCli(['container', 'remove', ct, '--netns', ns, '--host-end', hostEnd]).code, 0);
    }),
  );
});
