// The hook entry on real devices in a throwaway namespace: run via `ip netns
// exec NS node entry.js`, as libvirt would run it inside libvirtd's namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, ipIn, linksIn, repoRoot, requireRoot, runCli, tempDir, withNetns } from '../helpers.js';
import type { LinkInfo } from '../helpers.js';

const entry = join(repoRoot, 'dist/src/hook/entry.js');
const web1 = readFileSync(join(fixturesDir, 'hook/web1.xml'), 'utf8');
const UUID1 = '6f1c2a8e-5b0d-4c1e-9a53-0c7e1d2b3a41';
const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p))!;

interface HookRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function hookEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VNET_VIRT_HOOK_CONFIG: join(dir, 'hook.conf'),
    VNET_VIRT_HOOK_LOG: join(dir, 'hook.log'),
    VNET_VIRT_HOOK_LOCK: join(dir, 'hook.lock'),
    ...extra,
  };
}

/** A throwaway namespace holding br0, and a temporary folder for the hook's config, log and lock, with their env. */
async function withHookHost(fn: (ns: string, dir: string, env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
      await fn(ns, dir, hookEnv(dir));
    });
  } finally {
    cleanup();
  }
}

function hookIn(ns: string, args: string[], input: string, env: NodeJS.ProcessEnv): HookRun {
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, entry, ...args], { input, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

function hookInAsync(ns: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<HookRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, entry, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - t0 }));
    c.stdin.end(input);
  });
}

/** Links other than lo and the bridges the test made itself. */
const ours = (ns: string, keep: string[] = ['br0']): LinkInfo[] => linksIn(ns).filter((l) => l.ifname !== 'lo' && !keep.includes(l.ifname));
const link = (ns: string, name: string): LinkInfo | undefined => linksIn(ns).find((l) => l.ifname === name);

/**
 * An `ip` first in PATH that fails or hangs at the first command containing
 * `match`, after running the commands before it (also inside `ip -batch -`,
 * where it answers like ip does: "Command failed -:N"). Fault injection only.
 */
function faultyIp(dir: string, match: string, action: 'fail' | 'hang'): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const act =
    action === 'fail'
      ? 'echo "RTNETLINK answers: injected failure" >&2; [ -n "$batch" ] && echo "Command failed -:$n" >&2; exit 2'
      : 'sleep 30 </dev/null >/dev/null 2>&1; exit 0';
  writeFileSync(
    join(bin, 'ip'),
    `#!/bin/sh
real=${realIp}
pat=${shq(match)}
case " $* " in
  *" -batch "*)
    batch=1; n=0; pre=""
    while IFS= read -r line; do
      n=$((n + 1))
      case "$line" in *"$pat"*)
        if [ -n "$pre" ]; then printf '%s' "$pre" | "$real" "$@" || exit $?; fi
        ${act} ;;
      esac
      pre="$pre$line
"
    done
    printf '%s' "$pre" | exec "$real" "$@" ;;
  *"$pat"*) batch=""; ${act} ;;
esac
exec "$real" "$@"
`,
  );
  chmodSync(join(bin, 'ip'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

/** Waits (15 s at most) until the hook log has a line matching `re`. */
async function logged(file: string, re: RegExp): Promise<void> {
  for (let i = 0; i < 300 && !(existsSync(file) && re.test(readFileSync(file, 'utf8'))); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(existsSync(file) ? readFileSync(file, 'utf8') : '(no log)', re);
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

test('prepare begin creates the recorded devices; release end removes them; stdout stays empty', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
      ipIn(ns, 'link', 'set', 'br0', 'up');
      const env = hookEnv(dir);
      const up = hookIn(ns, ['web1', 'prepare', 'begin', '-'], web1, env);
      assert.equal(up.status, 0, up.stderr);
      assert.equal(up.stdout, '');
      assert.equal(up.stderr, '');
      const tap = link(ns, 't-web1-0')!;
      assert.equal(tap.linkinfo?.info_kind, 'tun');
      assert.equal(tap.master, 'br0');
      assert.equal(tap.ifalias, `vnet-virt:${UUID1}`);
      const mvt = link(ns, 'mvt-web1')!;
      assert.equal(mvt.linkinfo?.info_kind, 'macvtap');
      assert.equal(mvt.address, '52:54:00:a1:00:02');
      assert.equal(mvt.link, 'vl-web1');
      assert.equal(link(ns, 'vp-web1')?.master, 'br0');
      assert.ok(mvt.flags.includes('UP'));

      // The other calls of a start do nothing, also with the record present.
      for (const [op, sub] of [['start', 'begin'], ['started', 'begin'], ['stopped', 'end']]) {
        const r = hookIn(ns, ['web1', op!, sub!, '-'], web1, env);
        assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', ''], `${op} ${sub}`);
      }
      // prepare again (libvirt retries a start): idempotent.
      assert.equal(hookIn(ns, ['web1', 'prepare', 'begin', '-'], web1, env).status, 0);

      const down = hookIn(ns, ['web1', 'release', 'end', '-'], web1, env);
      assert.deepEqual([down.status, down.stdout, down.stderr], [0, '', '']);
      assert.deepEqual(ours(ns).map((l) => l.ifname), []);
      assert.ok(link(ns, 'br0'), 'the bridge we did not create stays');
      assert.equal(hookIn(ns, ['web1', 'release', 'end', '-'], web1, env).status, 0, 'release twice is fine');

      const log = readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n');
      const prep = log.filter((l) => l.includes(' web1 prepare/begin '));
      assert.match(prep[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z web1 prepare\/begin \[\d+\] up begins \(netns current, limit 10 s\)$/);
      // The batch was started beside the probe and waited for its commands.
      assert.ok(prep.some((l) => /run ip -batch - <<< tuntap add dev t-web1-0 .* -> exit 0 \(\d+ ms, started early\)$/.test(l)), prep.join('\n'));
      assert.match(prep.find((l) => / up done/.test(l)) ?? '', /up done: 14 steps, 2 processes \(\d+ ms\)$/);
      // down deletes through a device group when it has several devices: t-web1-0 joins it, then the group goes.
      assert.ok(log.some((l) => / web1 release\/end .*t-web1-0.*link del (dev t-web1-0|group \d+) .*-> exit 0/.test(l)), log.join('\n'));
      assert.equal(log.filter((l) => l.includes('start/begin')).length, 0, 'no-op calls log nothing');
    });
  } finally {
    cleanup();
  }
});

test('a prepare whose bridge is missing fails with one line, exit non-zero, and creates nothing', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      const r = hookIn(ns, ['web1', 'prepare', 'begin', '-'], web1, hookEnv(dir));
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^vnet-virt: web1: bridge br0 does not exist \(interface t-web1-0\)[^\n]*\n$/);
      assert.deepEqual(ours(ns, []).map((l) => l.ifname), []);
    });
  } finally {
    cleanup();
  }
});

test('a command failing half-way: everything done so far is undone, one line names the interface', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
      // The macvtap comes after the tap: fail its creation.
      const env = hookEnv(dir, { PATH: faultyIp(dir, 'name mvt-web1', 'fail') });
      const r = hookIn(ns, ['web1', 'prepare', 'begin', '-'], web1, env);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.match(r.stderr, /^vnet-virt: web1: .*injected failure.*mvt-web1/);
      assert.deepEqual(ours(ns).map((l) => l.ifname), [], 'tap and veth pair were removed');
    });
  } finally {
    cleanup();
  }
});

test('the time limit: a hanging command is abandoned, what was done is undone, exit non-zero', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
      const env = hookEnv(dir, { PATH: faultyIp(dir, 'name mvt-web1', 'hang'), VNET_VIRT_HOOK_TIMEOUT: '1', VNET_VIRT_HOOK_GRACE: '5' });
      const r = hookIn(ns, ['web1', 'prepare', 'begin', '-'], web1, env);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^vnet-virt: web1: timed out after 1 s[^\n]*\n$/);
      assert.ok(r.ms < 5000, `took ${Math.round(r.ms)} ms`);
      assert.deepEqual(ours(ns).map((l) => l.ifname), []);
      assert.match(readFileSync(join(dir, 'hook.log'), 'utf8'), /time limit of 1 s reached: aborting and undoing/);
    });
  } finally {
    cleanup();
  }
});

test('two hooks at once on two domains sharing a bridge the record asks to create: both succeed', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    await withNetns(async (ns) => {
      const env = hookEnv(dir, { VNET_VIRT_HOOK_CREATE_BRIDGE: 'yes' });
      const doms = ['pa', 'pb'].map((n, i) =>
        web1
          .replaceAll('web1', n)
          .replace(/<uuid>.*<\/uuid>/, `<uuid>6f1c2a8e-5b0d-4c1e-9a53-0c7e1d2b3a4${i + 2}</uuid>`)
          .replaceAll('52:54:00:a1:', `52:54:00:a${i + 2}:`)
          .replaceAll('br0', 'brs'),
      );
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all(doms.map((x, i) => hookInAsync(ns, [['pa', 'pb'][i]!, 'prepare', 'begin', '-'], x, env)));
        assert.deepEqual([a!.status, a!.stderr, b!.status, b!.stderr], [0, '', 0, ''], `round ${round}`);
        assert.equal(link(ns, 't-pa-0')?.master, 'brs');
        assert.equal(link(ns, 't-pb-0')?.master, 'brs');
        const [c, d] = await Promise.all(doms.map((x, i) => hookInAsync(ns, [['pa', 'pb'][i]!, 'release', 'end', '-'], x, env)));
        assert.deepEqual([c!.status, c!.stderr, d!.status, d!.stderr], [0, '', 0, ''], `round ${round}`);
        assert.deepEqual(ours(ns, []).map((l) => l.ifname), [], 'the last one out removes the bridge it created');
      }
      assert.match(readFileSync(join(dir, 'hook.log'), 'utf8'), /lock .* taken/);
    });
  } finally {
    cleanup();
  }
});

test('two releases at once, and two CLI downs at once (which take no lock): each deletes only its own devices', async (t) => {
  if (!requireRoot(t)) return;
  await withHookHost(async (ns, dir, env) => {
    const names = ['ra', 'rb'];
    const doms = names.map((n, i) =>
      web1
        .replaceAll('web1', n)
        .replace(/<uuid>.*<\/uuid>/, `<uuid>6f1c2a8e-5b0d-4c1e-9a53-0c7e1d2b3a5${i}</uuid>`)
        .replaceAll('52:54:00:a1:', `52:54:00:b${i}:`),
    );
    for (let round = 0; round < 5; round++) {
      for (const [i, x] of doms.entries()) assert.equal(hookIn(ns, [names[i]!, 'prepare', 'begin', '-'], x, env).status, 0, `round ${round}`);
      assert.equal(ours(ns).length, 8, `round ${round}: four devices per domain`);
      // Both plans are made from the same reading of the host; a shared deletion group would let one take the other's devices.
      const [a, b] = await Promise.all(doms.map((x, i) => hookInAsync(ns, [names[i]!, 'release', 'end', '-'], x, env)));
      assert.deepEqual([a!.status, a!.stderr, b!.status, b!.stderr], [0, '', 0, ''], `round ${round}`);
      assert.deepEqual(ours(ns).map((l) => l.ifname), [], `round ${round}`);
    }
    // The hooks above are serialised by their lock; `vnet-virt down` is not, so there the plans really race.
    const files = doms.map((x, i) => {
      const f = join(dir, `${names[i]}.xml`);
      writeFileSync(f, x);
      return f;
    });
    for (let round = 0; round < 5; round++) {
      for (const [i, x] of doms.entries()) assert.equal(hookIn(ns, [names[i]!, 'prepare', 'begin', '-'], x, env).status, 0, `cli round ${round}`);
      const downs = await Promise.all(
        files.map(
          (f) =>
            new Promise<[number | null, string]>((resolve) => {
              const c = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'down', f, '--netns', ns], { stdio: ['ignore', 'ignore', 'pipe'] });
              let err = '';
              c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
              c.on('close', (code) => resolve([code, err]));
            }),
        ),
      );
      assert.deepEqual(downs, [[0, ''], [0, '']], `cli round ${round}`);
      assert.deepEqual(ours(ns).map((l) => l.ifname), [], `cli round ${round}`);
    }
  });
});

test('hook replay: --dry-run changes nothing; without it the same path runs in --netns', async (t) => {
  if (!requireRoot(t)) return;
  await withHookHost(async (ns, dir, env) => {
    const xml = join(fixturesDir, 'hook/web1.xml');
    const dry = runCli(['hook', 'replay', '--xml', xml, 'prepare', 'begin', '--dry-run', '--netns', ns], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(dry.stdout.includes('t-web1-0'), dry.stdout);
    assert.match(dry.stderr, /web1 prepare\/begin \[\d+\] up begins \(netns vnet-test-[0-9a-f]+, limit 10 s, dry run\)/);
    assert.deepEqual(ours(ns).map((l) => l.ifname), []);
    assert.equal(existsSync(join(dir, 'hook.log')), false, 'replay logs to stderr, not the hook log');

    const real = runCli(['hook', 'replay', '--xml', xml, 'prepare', 'begin', '--netns', ns], { env });
    assert.equal(real.code, 0, real.stderr);
    assert.ok(link(ns, 't-web1-0'));
    const other = runCli(['hook', 'replay', '--xml', xml, 'start', 'begin', '--netns', ns], { env });
    assert.equal(other.code, 0);
    assert.match(other.stderr, /only "prepare begin" and "release end" do anything/);
    const rel = runCli(['hook', 'replay', '--xml', xml, 'release', 'end', '--netns', ns], { env });
    assert.equal(rel.code, 0, rel.stderr);
    assert.deepEqual(ours(ns).map((l) => l.ifname), []);
  });
});

test('a hook waits for the lock before it reads or changes the host; a killed holder frees it', async (t) => {
  if (!requireRoot(t)) return;
  await withHookHost(async (ns, dir, env) => {
    // Another hook's work in progress: a process in the namespace that holds the same lock.
    const lockModule = join(repoRoot, 'dist/src/hook/lock.js');
    const key = `${env.VNET_VIRT_HOOK_LOCK}@`;
    const holder = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e',
        `const { acquireLock } = await import(${JSON.stringify(lockModule)}); await acquireLock(${JSON.stringify(key)}, { waitMs: 5000, holder: 'web2 release/end' }); console.log('held'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(holder.stdout!, 'data');
      const pending = hookInAsync(ns, ['web1', 'prepare', 'begin', '-'], web1, env);
      await logged(join(dir, 'hook.log'), / web1 prepare\/begin .* up begins/);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(ours(ns).map((l) => l.ifname), [], 'nothing is read or changed while another hook holds the lock');
      holder.kill('SIGKILL');
      const r = await pending;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(link(ns, 't-web1-0'), 'the hook went on once the holder was gone');
      const log = readFileSync(join(dir, 'hook.log'), 'utf8');
      assert.match(log, /web1 prepare\/begin .*lock .* taken \((\d+) ms\)/);
      assert.ok(Number(log.match(/lock .* taken \((\d+) ms\)/)![1]) >= 300, 'it waited for the holder');
    } finally {
      holder.kill('SIGKILL');
    }
    assert.equal(hookIn(ns, ['web1', 'release', 'end', '-'], web1, env).status, 0);
    assert.deepEqual(ours(ns).map((l) => l.ifname), []);
  });
});

test('a domain with 150,000 attributes is parsed before the lock: another domain\'s prepare does not wait for it', async (t) => {
  if (!requireRoot(t)) return;
  await withHookHost(async (ns, dir, env) => {
    // A recorded domain whose one element carries 150,000 attributes (about 1.7 MB, under the size limit).
    const attrs = Array.from({ length: 150_000 }, (_, i) => ` a${i}="${i}"`).join('');
    const hostile = web1.replace(/<name>web1<\/name>/, '<name>huge</name>').replace('<memory unit="MiB">', `<memory${attrs} unit="MiB">`);
    const env2 = { ...env, VNET_VIRT_HOOK_TIMEOUT: '60' };
    const huge = spawn('ip', ['netns', 'exec', ns, process.execPath, entry, 'huge', 'prepare', 'begin', '-'], { env: env2, stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      huge.stdin.on('error', () => {}).end(hostile);
      // Wait until the huge domain's hook has its XML and has begun (its first log line).
      await logged(join(dir, 'hook.log'), / huge prepare\/begin .* up begins/);
      await new Promise((r) => setTimeout(r, 300));
      const r = await hookInAsync(ns, ['web1', 'prepare', 'begin', '-'], web1, { ...env, VNET_VIRT_HOOK_TIMEOUT: '5' });
      assert.equal(r.status, 0, `web1's prepare failed while the huge domain's hook ran: ${r.stderr}`);
      assert.ok(link(ns, 't-web1-0'));
    } finally {
      huge.kill('SIGKILL');
    }
    assert.equal(hookIn(ns, ['web1', 'release', 'end', '-'], web1, env).status, 0);
    assert.deepEqual(ours(ns).map((l) => l.ifname), []);
  });
});
