// The installed hook script as libvirt runs it (`ip netns exec NS SCRIPT dom op sub -`):
// it starts `ip -j -d -batch -` beside node, and node sends the probe and the
// plan to that ip through FIFOs (src/hook/script-ip.ts), starting none itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cliPath, fixturesDir, ipIn, linksIn, requireRoot, scriptShells, seededRandom, tempDir, withNetns } from '../helpers.js';

const web1 = readFileSync(join(fixturesDir, 'hook/web1.xml'), 'utf8');
const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p))!;
const WEB1 = ['mvt-web1', 't-web1-0', 'vl-web1', 'vp-web1'];
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const SHELLS = scriptShells();

interface Host {
  ns: string;
  dir: string;
  script: string;
  env: NodeJS.ProcessEnv;
  /** Every ip started (by the script or by node), one line of arguments each. */
  calls: () => string[];
}

/**
 * A throwaway namespace with br0, the hook installed in a temporary hooks
 * folder, and an `ip` first in PATH that records its arguments and runs the real
 * one. `fault`: in `-batch` mode it runs line by line (the real ip once per
 * line, answering as ip -batch does) and fails, or hangs, at the line containing the text.
 */
async function withScriptHost(fn: (h: Host) => Promise<void>, fault?: { match: string; action: 'fail' | 'hang' }): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const calls = join(dir, 'calls');
      const act = fault?.action === 'hang' ? `echo $$ > ${shq(join(dir, 'hung'))}; sleep 30 </dev/null >/dev/null 2>&1; exit 0` : 'echo "RTNETLINK answers: injected failure" >&2; echo "Command failed -:$n" >&2; exit 1';
      writeFileSync(
        join(bin, 'ip'),
        `#!/bin/sh
printf '%s\\n' "$*" >> ${shq(calls)}
case " $* " in *" -batch "*) ;; *) exec ${realIp} "$@" ;; esac
${
  fault
    ? `opts=; for a in "$@"; do case "$a" in -batch|-) ;; *) opts="$opts $a" ;; esac; done
n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in *${shq(fault.match)}*) ${act} ;; esac
  ${realIp} $opts $line || { echo "Command failed -:$n" >&2; exit 1; }
done
exit 0`
    : `exec ${realIp} "$@"`
}
`,
      );
      chmodSync(join(bin, 'ip'), 0o755);
      const hooks = join(dir, 'hooks');
      const lock = `vnet-test-${randomBytes(4).toString('hex')}`;
      const r = spawnSync(process.execPath, [cliPath, 'hook', 'install', '--hooks-dir', hooks, '--log', join(dir, 'hook.log'), '--lock', lock, '--config', join(dir, 'none.conf')], {
        env: { ...process.env, VNET_VIRT_ALLOW_TEMPORARY_HOOK: '1' },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      mkdirSync(join(dir, 'tmp'));
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: join(dir, 'tmp') };
      const read = (): string[] => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : []);
      await fn({ ns, dir, script: join(hooks, 'qemu.d', 'vnet-virt'), env, calls: read });
    });
  } finally {
    cleanup();
  }
}

function hook(h: Host, args: string[], input = web1, shell = ['/bin/sh'], env: NodeJS.ProcessEnv = h.env) {
  const t0 = performance.now();
  const r = spawnSync(realIp, ['netns', 'exec', h.ns, ...shell, h.script, ...args], { input, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

const names = (ns: string): string[] =>
  linksIn(ns)
    .map((l) => l.ifname)
    .filter((n) => n !== 'lo' && n !== 'br0')
    .sort();

test('the installed script starts the only ip of a prepare and of a release; node sends it the probe and the plan', async (t) => {
  if (!requireRoot(t)) return;
  for (const shell of SHELLS)
    await withScriptHost(async (h) => {
      const up = hook(h, ['web1', 'prepare', 'begin', '-'], web1, shell);
      assert.deepEqual([up.status, up.stdout, up.stderr], [0, '', ''], shell.join(' '));
      assert.deepEqual(names(h.ns), WEB1);
      assert.equal(linksIn(h.ns).find((l) => l.ifname === 't-web1-0')?.master, 'br0');
      assert.deepEqual(h.calls(), ['-j -d -batch -'], 'one ip, started by the script');
      const down = hook(h, ['web1', 'release', 'end', '-'], web1, shell);
      assert.deepEqual([down.status, down.stderr], [0, ''], shell.join(' '));
      assert.deepEqual(names(h.ns), []);
      assert.deepEqual(h.calls(), ['-j -d -batch -', '-j -d -batch -']);
      const log = readFileSync(join(h.dir, 'hook.log'), 'utf8');
      assert.match(log, /run ip -j -d link show -> exit 0 \(\d+ ms, started early by the hook script\)/);
      assert.match(log, /prepare\/begin .*run ip -batch - <<< tuntap add dev t-web1-0 .* -> exit 0 \(\d+ ms, started early by the hook script\)/);
      assert.deepEqual(readdirSync(join(h.dir, 'tmp')), [], 'the FIFOs\' folder is gone');
      if (shell[0] !== '/bin/sh') return;
      // A plan of one step (the release of one tap): that lone command goes to the script's ip too.
      const tap1 = readFileSync(join(fixturesDir, 'hook/tap1.xml'), 'utf8');
      assert.equal(hook(h, ['bench1', 'prepare', 'begin', '-'], tap1).status, 0);
      assert.equal(hook(h, ['bench1', 'release', 'end', '-'], tap1).status, 0);
      assert.deepEqual(names(h.ns), []);
      assert.deepEqual(h.calls(), Array(4).fill('-j -d -batch -'));
      assert.match(readFileSync(join(h.dir, 'hook.log'), 'utf8'), /release\/end .*run ip link del dev t-bench1-0 -> exit 0 \(\d+ ms, started early by the hook script, as its one line\)/);
    });
});

test('where the shell sees no /proc/self/fd, the script\'s FIFOs serve: real devices, one ip, the FIFOs\' folder removed', async (t) => {
  if (!requireRoot(t)) return;
  for (const shell of SHELLS)
    await withScriptHost(async (h) => {
      const empty = join(h.dir, 'empty');
      mkdirSync(empty);
      // What ip reads from: a FIFO the script made (then removed: "/…/in (deleted)"), or a pipe ("pipe:[…]").
      const stdins = join(h.dir, 'stdins');
      renameSync(join(h.dir, 'bin', 'ip'), join(h.dir, 'bin', 'ip.calls'));
      writeFileSync(join(h.dir, 'bin', 'ip'), `#!/bin/sh\nreadlink /proc/$$/fd/0 >> ${shq(stdins)}\nexec ${shq(join(h.dir, 'bin', 'ip.calls'))} "$@"\n`, { mode: 0o755 });
      // /proc/PID/fd of the shell (and of node, which takes its pid) hidden under an empty folder, in a private mount namespace.
      const noProcFd = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /proc/$$/fd && exec "$@"', empty, ...shell];
      const up = hook(h, ['web1', 'prepare', 'begin', '-'], web1, noProcFd);
      assert.deepEqual([up.status, up.stdout, up.stderr], [0, '', ''], shell.join(' '));
      assert.deepEqual(names(h.ns), WEB1, shell.join(' '));
      const down = hook(h, ['web1', 'release', 'end', '-'], web1, noProcFd);
      assert.deepEqual([down.status, down.stderr], [0, ''], shell.join(' '));
      assert.deepEqual(names(h.ns), [], shell.join(' '));
      assert.deepEqual(h.calls(), ['-j -d -batch -', '-j -d -batch -'], `${shell.join(' ')}: one ip a call, the script's`);
      assert.equal(readFileSync(join(h.dir, 'hook.log'), 'utf8').match(/started early by the hook script/g)?.length, 4, 'probe and plan of both calls went to the script\'s ip');
      assert.match(readFileSync(stdins, 'utf8'), /^(\/\S+\/in \(deleted\)\n){2}$/, `${shell.join(' ')}: each call's ip read a FIFO of the script's`);
      assert.deepEqual(readdirSync(join(h.dir, 'tmp')), [], `${shell.join(' ')}: the FIFOs' folder is gone`);
    });
});

test('a line failing in the script\'s ip: what ran is undone, one line with ip\'s message, exit 1', async (t) => {
  if (!requireRoot(t)) return;
  await withScriptHost(
    async (h) => {
      const r = hook(h, ['web1', 'prepare', 'begin', '-']);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.match(r.stderr, /^vnet-virt: web1: `ip link add link vl-web1 name mvt-web1 .*` failed: RTNETLINK answers: injected failure \(interface mvt-web1\); the 11 steps before it were undone/);
      assert.deepEqual(names(h.ns), [], 'tap and veth pair were removed');
    },
    { match: 'name mvt-web1', action: 'fail' },
  );
});

test('the time limit kills a hanging script ip, undoes what ran, exit 1', async (t) => {
  if (!requireRoot(t)) return;
  await withScriptHost(
    async (h) => {
      const r = hook(h, ['web1', 'prepare', 'begin', '-'], web1, ['/bin/sh'], { ...h.env, VNET_VIRT_HOOK_TIMEOUT: '2', VNET_VIRT_HOOK_GRACE: '5' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^vnet-virt: web1: timed out after 2 s[^\n]*\n$/);
      assert.ok(r.ms < 7000, `took ${Math.round(r.ms)} ms`);
      assert.deepEqual(names(h.ns), []);
      // Killed by the hook (then reaped by init once the hook has exited), not left to run its 30 s.
      const hung = Number(readFileSync(join(h.dir, 'hung'), 'utf8'));
      const alive = (): boolean => existsSync(`/proc/${hung}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${hung}/status`, 'utf8'));
      for (let i = 0; i < 500 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(!alive(), 'the hanging ip was killed');
    },
    { match: 'name mvt-web1', action: 'hang' },
  );
});

test('kill -9 of the hook at any moment of a prepare through the script: the next prepare completes, the release leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const rand = seededRandom(13);
  await withScriptHost(async (h) => {
    const whole = hook(h, ['web1', 'prepare', 'begin', '-']);
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(hook(h, ['web1', 'release', 'end', '-']).status, 0);
    for (let round = 0; round < 8; round++) {
      const c = spawn(realIp, ['netns', 'exec', h.ns, h.script, 'web1', 'prepare', 'begin', '-'], { env: h.env, stdio: ['pipe', 'ignore', 'ignore'] });
      c.stdin.end(web1);
      const ms = rand() * whole.ms;
      await new Promise((r) => setTimeout(r, ms));
      c.kill('SIGKILL');
      await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.on('exit', r)));
      // ip ends when its input does: the devices it made are there once it is gone, and the journal names them.
      for (let i = 0; i < 750 && spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' }).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 20));
      const again = hook(h, ['web1', 'prepare', 'begin', '-']);
      assert.deepEqual([again.status, again.stderr], [0, ''], `round ${round}, killed after ${ms.toFixed(0)} ms`);
      assert.deepEqual(names(h.ns), WEB1, `round ${round}`);
      const down = hook(h, ['web1', 'release', 'end', '-']);
      assert.deepEqual([down.status, down.stderr], [0, ''], `round ${round}`);
      assert.deepEqual(names(h.ns), [], `round ${round}`);
    }
  });
});

test('with a netns setting the script\'s ip goes unused (it works in the hook\'s own namespace): node works in that one', async (t) => {
  if (!requireRoot(t)) return;
  await withScriptHost(async (h) =>
    withNetns(async (other) => {
      ipIn(other, 'link', 'add', 'br0', 'type', 'bridge');
      const r = hook(h, ['web1', 'prepare', 'begin', '-'], web1, ['/bin/sh'], { ...h.env, VNET_VIRT_HOOK_NETNS: other });
      assert.deepEqual([r.status, r.stderr], [0, '']);
      assert.deepEqual(names(other), WEB1);
      assert.deepEqual(names(h.ns), []);
      assert.equal(h.calls()[0], '-j -d -batch -');
      assert.ok(h.calls().includes(`-n ${other} -j -d link show`), h.calls().join('\n'));
      assert.doesNotMatch(readFileSync(join(h.dir, 'hook.log'), 'utf8'), /by the hook script/);
      assert.equal(hook(h, ['web1', 'release', 'end', '-'], web1, ['/bin/sh'], { ...h.env, VNET_VIRT_HOOK_NETNS: other }).status, 0);
      assert.deepEqual(names(other), []);
    }),
  );
});

test("a node that dies before it reads ip's answer leaves no ip behind, even when the answer is over a pipe's 64 KiB", async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      // 200 veth pairs: `link show` answers with about 200 KiB, more than a pipe holds.
      const add = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: Array.from({ length: 200 }, (_, i) => `link add d${i} type veth peer name e${i}\n`).join('') });
      assert.equal(add.status, 0, add.stderr?.toString());
      // A stand-in for the hook's entry that is killed right after it sent the probe: it never reads fd 4.
      const stub = join(dir, 'stub.cjs');
      writeFileSync(stub, "require('fs').writeSync(3, 'link show\\n'); process.stderr.write('ip ' + process.env.VNET_VIRT_EARLY_IP + '\\n');\n");
      const { hookScript } = await import('../../src/hook/script.js');
      const script = join(dir, 'hook');
      writeFileSync(script, hookScript({ node: process.execPath, entry: stub, settings: {} }), { mode: 0o755 });
      const r = spawnSync('ip', ['netns', 'exec', ns, script, 'x', 'prepare', 'begin', '-'], { input: web1, encoding: 'utf8' });
      const pid = Number(/ip \d+:\d+:(\d+)/.exec(r.stderr)?.[1]);
      assert.ok(pid > 0, `the script started ip and said its pid: ${r.stderr}`);
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        alive = existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-batch');
        if (alive) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (alive) process.kill(pid, 'SIGKILL');
      assert.equal(alive, false, 'ip, with nobody left to read its answer, must end (it held a read end of its own output pipe and blocked for ever)');
    });
  } finally {
    cleanup();
  }
});

test('a plan over 32 KiB goes to an ip node starts itself (a pipe write must never block): the script\'s ip ends unused, every device is made, and the release takes them all', async (t) => {
  if (!requireRoot(t)) return;
  // 180 taps: five lines of about 200 bytes each, some 36 KiB of plan.
  const n = 180;
  const mac = (i: number): string => `52:54:00:b2:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  const xml = [
    '<domain type="qemu">',
    '  <name>many</name>',
    '  <uuid>5d1c9b2e-7a43-4f8e-9b16-2c8e3f5a7b21</uuid>',
    '  <metadata>',
    '    <vnet:record xmlns:vnet="http://vnet-virt.dev/xmlns/record/1">',
    ...Array.from({ length: n }, (_, i) => `      <vnet:tap dev="t-many-${i}" mac="${mac(i)}" bridge="br0"/>`),
    '    </vnet:record>',
    '  </metadata>',
    '  <memory unit="MiB">256</memory>',
    '  <os>',
    '    <type arch="x86_64">hvm</type>',
    '  </os>',
    '  <devices>',
    ...Array.from({ length: n }, (_, i) => `    <interface type="ethernet">\n      <mac address="${mac(i)}"/>\n      <target dev="t-many-${i}" managed="no"/>\n    </interface>`),
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
  const { SCRIPT_IP_MAX_INPUT } = await import('../../src/hook/script-ip.js');
  await withScriptHost(async (h) => {
    const up = hook(h, ['many', 'prepare', 'begin', '-'], xml);
    assert.deepEqual([up.status, up.stderr], [0, '']);
    const made = names(h.ns);
    assert.equal(made.length, n);
    assert.deepEqual(linksIn(h.ns).filter((l) => l.master === 'br0').length, n, 'every tap is on br0');
    assert.deepEqual(h.calls(), ['-j -d -batch -', '-batch -'], 'the script\'s ip (probe), then node\'s own for the plan');
    const log = readFileSync(join(h.dir, 'hook.log'), 'utf8');
    const plan = /prepare\/begin .*run ip -batch - <<< (.*) -> exit 0 \(\d+ ms, in an ip of node's own: the plan is over 32 KiB\)$/m.exec(log);
    assert.ok(plan, `the log says where the plan ran: ${log.replace(/<<< .{200}.*? ->/g, '<<< … ->')}`);
    assert.ok(Buffer.byteLength(plan[1]!.replaceAll(' ; ', '\n')) > SCRIPT_IP_MAX_INPUT, `the plan is over ${SCRIPT_IP_MAX_INPUT} bytes`);
    const down = hook(h, ['many', 'release', 'end', '-'], xml);
    assert.deepEqual([down.status, down.stderr], [0, '']);
    assert.deepEqual(names(h.ns), []);
  });
});
