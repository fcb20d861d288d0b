// Benchmark (not a test): provisioning at fleet scale. Needs root; works in a
// throwaway network namespace. For N domains (half a tap on a bridge, half
// veth + macvtap), at each size:
//   - `up` + `down` of all N (two vnet-virt processes) against one raw
//     `ip -batch` of the very same commands for up and one for down (the
//     group assignments and the single `ip link del group G`);
//   - `check` and `lint --host` of the N, with the node process's own CPU
//     (JavaScript, GC, start-up; not its ip child) as the JS share;
//   - 20 concurrent hook `prepare begin`s (20 one-tap domains), as a host
//     booting 20 autostart guests: p50 / p99 against one prepare alone.
//   node dist/bench/provision/run.js [--sizes 100,1000,5000|none] [--rounds 3] [--settle-ms 2000]
// A bridge takes at most 1,024 ports: 500 domains a bridge (br0, br1, ...).
// VNET_BENCH_CLI=path/to/main.js measures another build (a before/after pair);
// VNET_BENCH_BEFORE=path/to/main.js measures that build too, interleaved
// round by round with this one, in the same namespace, and prints both.
// The floor row: two bare `node -e 0` start-ups plus the raw batch, the least
// two node processes that run the same batch can take (at 100 domains the
// start-ups alone are about the raw batch's time, so 1.2x is out of reach).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgesFor, makeDomains } from './domains.js';
import { benchLine, median, percentile } from '../table.js';
import type { BenchRow } from '../table.js';

const repo = new URL('../../../', import.meta.url).pathname;
const cli = process.env['VNET_BENCH_CLI'] ?? join(repo, 'dist/src/cli/main.js');
const before = process.env['VNET_BENCH_BEFORE'];
/** The builds measured, in the order each round runs them. */
const builds: { label: string; cli: string }[] = [...(before ? [{ label: 'before', cli: before }] : []), { label: before ? 'after' : 'vnet-virt', cli }];
const cpuProbe = new URL('./cpu-probe.js', import.meta.url).href;
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
// --sizes none: only the concurrent hook prepares.
const SIZES = arg('--sizes', '100,1000,5000').split(',').map(Number).filter((n) => n > 0);
const ROUNDS = Number(arg('--rounds', '3'));
const CONCURRENT = 20;

interface Timed {
  ms: number;
  stdout: string;
  /** CPU of the node process itself (user + system), when it ran under the probe. */
  cpuMs: number | undefined;
}

function timed(argv: string[], input?: string, allowExit: number[] = [0]): Timed {
  const cpuFile = join(tmpdir(), `vnet-bench-cpu-${process.pid}-${randomBytes(3).toString('hex')}`);
  const node = argv[0] === process.execPath;
  const full = node ? [process.execPath, '--import', cpuProbe, ...argv.slice(1)] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, input, env: { ...process.env, VNET_BENCH_CPU_FILE: cpuFile } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!allowExit.includes(r.status ?? -1)) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  let cpuMs: number | undefined;
  try {
    const u = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
    cpuMs = (u.user + u.system) / 1000;
    rmSync(cpuFile);
  } catch {
    cpuMs = undefined;
  }
  return { ms, stdout: r.stdout, cpuMs };
}

/** An untimed pause before each contestant, for the kernel's work left from the last one's down. */
const SETTLE_MS = Number(arg('--settle-ms', '2000'));
const settle = (): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
};

const deviceCount = (ns: string): number => (JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 256 << 20 })) as unknown[]).length;

/** The dry-run's commands as one ip batch file (without the `ip -n NS` prefix). */
function batchOf(script: string, ns: string): string {
  const prefix = `ip -n ${ns} `;
  return (
    script
      .trim()
      .split('\n')
      .map((l) => {
        if (!l.startsWith(prefix)) throw new Error(`not an ip -n ${ns} command: ${l}`);
        return l.slice(prefix.length);
      })
      .join('\n') + '\n'
  );
}

const rows: BenchRow[] = [];
const say = (s: string): void => console.log(s);
/** The median start-up of a bare node (`node -e 0`), measured once at the start. */
let bareNode = NaN;

async function scale(ns: string, root: string, n: number): Promise<void> {
  const dir = join(root, `d${n}`);
  await makeDomains(dir, n);
  // Bridges other than br0 (made at the start) for sizes beyond one bridge's ports.
  for (const br of bridgesFor(n).slice(1)) {
    if (spawnSync('ip', ['-n', ns, 'link', 'show', br], { stdio: 'ignore' }).status === 0) continue;
    execFileSync('ip', ['-n', ns, 'link', 'add', br, 'type', 'bridge']);
    execFileSync('ip', ['-n', ns, 'link', 'set', br, 'up']);
  }
  const empty = deviceCount(ns);
  const ours = builds.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  const raw: number[] = [];
  let upLines = 0;
  // Deleting thousands of devices leaves the kernel busy for a while after ip exits (RCU, IPv6
  // address teardown), which slows whatever runs next: each round rotates who goes first, and
  // every contestant's up comes after the same untimed pause.
  const contestants: (number | 'raw')[] = [...builds.keys(), 'raw'];
  // Every up, vnet-virt's or the raw batch's, makes the same number of devices.
  let full: number | undefined;
  const sameAsOthers = (who: string): void => {
    const c = deviceCount(ns);
    if (full !== undefined && c !== full) throw new Error(`${who} up made ${c - empty} devices, another up ${full - empty}`);
    full = c;
  };
  for (let i = 0; i < ROUNDS; i++) {
    const upScript = timed([process.execPath, cli, 'up', dir, '--netns', ns, '--dry-run']).stdout;
    upLines = upScript.trim().split('\n').length;
    for (let k = 0; k < contestants.length; k++) {
      const who = contestants[(i + k) % contestants.length]!;
      settle();
      if (who === 'raw') {
        writeFileSync(join(root, 'up.batch'), batchOf(upScript, ns));
        const rawUp = timed(['ip', '-n', ns, '-batch', join(root, 'up.batch')]);
        sameAsOthers('the raw batch');
        // The down the raw batch runs is the one vnet-virt plans for these very devices.
        writeFileSync(join(root, 'down.batch'), batchOf(timed([process.execPath, cli, 'down', dir, '--netns', ns, '--dry-run']).stdout, ns));
        const rawDown = timed(['ip', '-n', ns, '-batch', join(root, 'down.batch')]);
        if (deviceCount(ns) !== empty) throw new Error('the raw down batch left devices');
        raw.push(rawUp.ms + rawDown.ms);
        continue;
      }
      const build = builds[who]!;
      const up = timed([process.execPath, build.cli, 'up', dir, '--netns', ns]);
      sameAsOthers(build.label);
      const down = timed([process.execPath, build.cli, 'down', dir, '--netns', ns]);
      if (deviceCount(ns) !== empty) throw new Error(`${build.label} down left devices`);
      ours[who]!.ms.push(up.ms + down.ms);
      ours[who]!.cpu.push((up.cpuMs ?? NaN) + (down.cpuMs ?? NaN));
    }
  }
  const r = median(raw);
  for (const [b, build] of builds.entries()) {
    const o = median(ours[b]!.ms);
    const cpu = median(ours[b]!.cpu);
    say(`${String(n).padStart(5)} domains: up+down ${build.label.padEnd(9)} ${o.toFixed(0).padStart(6)} ms   raw ip -batch ${r.toFixed(0).padStart(6)} ms   ${(o / r).toFixed(2)}x (aim <= 1.20; ${upLines} up commands; node CPU ${cpu.toFixed(0)} ms)`);
    rows.push({ what: `up+down${before ? ` (${build.label})` : ''}, ${n} domains`, value: o, unit: 'ms', anchor: 'raw ip -batch', anchorValue: r, ratio: o / r, aim: '<= 1.20x' });
  }
  const floor = 2 * bareNode + r;
  say(`${String(n).padStart(5)} domains: floor: 2 bare node start-ups (${(2 * bareNode).toFixed(0)} ms) + raw batch = ${floor.toFixed(0)} ms   ${(floor / r).toFixed(2)}x raw: the best two node processes can do`);
  rows.push({ what: `up+down floor (2 x node -e 0 + raw), ${n} domains`, value: floor, unit: 'ms', anchor: 'raw ip -batch', anchorValue: r, ratio: floor / r, aim: '' });

  // check and lint --host against the devices as up leaves them.
  timed([process.execPath, cli, 'up', dir, '--netns', ns]);
  for (const [what, args] of [
    ['check', ['check', dir, '--netns', ns]],
    ['lint --host', ['lint', '--host', '--netns', ns, '--no-schema', dir]],
  ] as const) {
    const runs = builds.map(() => [] as Timed[]);
    for (let i = 0; i < ROUNDS; i++) for (const [b, build] of builds.entries()) runs[b]!.push(timed([process.execPath, build.cli, ...args], undefined, [0, 3]));
    for (const [b, build] of builds.entries()) {
      const ms = median(runs[b]!.map((x) => x.ms));
      const cpu = median(runs[b]!.map((x) => x.cpuMs ?? NaN));
      const label = before ? `${what} (${build.label})` : what;
      say(`${String(n).padStart(5)} domains: ${label.padEnd(11)} ${ms.toFixed(0).padStart(6)} ms   ${((ms * 1000) / n).toFixed(0).padStart(5)} us/domain   node CPU ${cpu.toFixed(0)} ms (${((100 * cpu) / ms).toFixed(0)}% of wall)`);
      rows.push({ what: `${label}, ${n} domains`, value: ms, unit: 'ms', anchor: 'per domain (us)', anchorValue: (ms * 1000) / n, ratio: cpu / ms, aim: 'flat per domain; JS share (ratio) halved' });
    }
  }
  timed([process.execPath, cli, 'down', dir, '--netns', ns]);
  rmSync(dir, { recursive: true, force: true });
}

/** 20 hook prepares at once, each for its own one-tap domain; then one alone, several times. */
async function concurrentPrepares(ns: string, root: string): Promise<void> {
  const dir = join(root, 'hook');
  await makeDomains(join(dir, 'xml'), CONCURRENT * 2);
  const xmls = Array.from({ length: CONCURRENT }, (_, i) => readFileSync(join(dir, 'xml', `vm${(2 * i).toString().padStart(5, '0')}.xml`), 'utf8'));
  const hooks = join(dir, 'hooks');
  execFileSync(process.execPath, [cli, 'hook', 'install', '--hooks-dir', hooks, '--log', join(dir, 'hook.log'), '--lock', `bench-${ns}`, '--timeout', '300', '--config', join(dir, 'none.conf')]);
  const hook = join(hooks, 'qemu.d', 'vnet-virt');
  const prepare = (i: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const c = spawn('ip', ['netns', 'exec', ns, hook, `vm${2 * i}`, 'prepare', 'begin', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`hook prepare failed (${code}): ${err}`))));
      c.stdin.end(xmls[i]);
    });
  const clear = (): void => {
    for (let i = 0; i < CONCURRENT; i++) spawnSync('ip', ['-n', ns, 'link', 'del', `bt-${2 * i}`], { stdio: 'ignore' });
  };
  const alone: number[] = [];
  for (let i = 0; i < 7; i++) {
    clear();
    alone.push(await prepare(0));
  }
  const all: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    clear();
    all.push(...(await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => prepare(i)))));
  }
  clear();
  const one = median(alone);
  const p50 = percentile(all, 50);
  const p99 = percentile(all, 99);
  say(`${CONCURRENT} concurrent hook prepares: p50 ${p50.toFixed(0)} ms   p99 ${p99.toFixed(0)} ms   one alone ${one.toFixed(0)} ms   p99/one ${(p99 / one).toFixed(1)}x (aim <= 20x)`);
  rows.push({ what: `${CONCURRENT} concurrent hook prepares, p50`, value: p50, unit: 'ms', anchor: 'one prepare alone', anchorValue: one, ratio: p50 / one, aim: '' });
  rows.push({ what: `${CONCURRENT} concurrent hook prepares, p99`, value: p99, unit: 'ms', anchor: 'one prepare alone', anchorValue: one, ratio: p99 / one, aim: '<= 20x' });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/provision: run as root (it creates a network namespace)');
    process.exit(2);
  }
  const root = mkdtempSync(join(tmpdir(), 'vnet-bench-'));
  const ns = `vnet-bench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
    say(`bench/provision: median of ${ROUNDS} rounds, node ${process.version}, ${availableParallelism()} CPUs, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    if (before) say(`before: ${before}; after: ${cli} (interleaved round by round)`);
    // Started as the CLI is started here (with the CPU probe), so the floor compares like with like.
    bareNode = median(Array.from({ length: 7 }, () => timed([process.execPath, '-e', '0']).ms));
    say(`bare node start-up (node -e 0): ${bareNode.toFixed(0)} ms`);
    for (const n of SIZES) await scale(ns, root, n);
    await concurrentPrepares(ns, root);
    say(benchLine('provision', rows));
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
