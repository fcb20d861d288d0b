// bench/hook: the wall time of the installed hook against what users would
// otherwise run. Not a test: it prints medians and ratios. Needs root.
//   node dist/bench/hook/bench.js [--runs N]
// 1. prepare begin, one tap on a bridge, in a throwaway netns (via ip netns
//    exec, as libvirtd's namespace): vnet-virt's hook vs a bash hook running
//    the same ip commands one by one; bare `ip netns exec NS node -e 0` as the floor.
// 2. prepare begin for a domain without a record vs `node -e 0`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('../../../', import.meta.url).pathname;
const cli = join(repo, 'dist/src/cli/main.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const WARMUP = 3;

if (process.getuid?.() !== 0) {
  console.error('bench/hook: needs root (a throwaway network namespace and a tap)');
  process.exit(2);
}

interface Variant {
  name: string;
  argv: string[];
  input: string;
  /** Untimed, before every run: puts the host back as it was. */
  reset?: () => void;
  samples: number[];
  /** CPU time (user + system) of the child and everything it waited for, summed over the timed runs. */
  cpuMs: number;
}

/** CPU time of this process's waited-for children so far (cutime + cstime, clock ticks of 10 ms). */
const childCpuMs = (): number => {
  const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const ns = `vnet-bench-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-'));
try {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);

  // The hook as libvirt runs it: the installed script, logging to a file.
  const hooks = join(dir, 'hooks');
  execFileSync(process.execPath, [cli, 'hook', 'install', '--hooks-dir', hooks, '--log', join(dir, 'hook.log'), '--lock', join(dir, 'hook.lock'), '--config', join(dir, 'none.conf')]);
  const hook = join(hooks, 'qemu.d', 'vnet-virt');
  const tapXmlFile = join(repo, 'fixtures/hook/tap1.xml');
  const tapXml = readFileSync(tapXmlFile, 'utf8');
  const plainXml = readFileSync(join(repo, 'fixtures/hook/plain.xml'), 'utf8');

  // The bash hook gets exactly the commands the hook's plan has, one process each.
  const plan = JSON.parse(
    execFileSync(process.execPath, [cli, 'hook', 'replay', '--xml', tapXmlFile, 'prepare', 'begin', '--dry-run', '--netns', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
  ) as { steps: { argv: string[] }[] };
  const q = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const commands = [['ip', '-j', '-d', 'link', 'show'], ...plan.steps.map((s) => s.argv.filter((_, i) => !(i === 1 && s.argv[1] === '-n') && !(i === 2 && s.argv[1] === '-n')))];
  const bash = join(dir, 'bash-hook');
  writeFileSync(
    bash,
    ['#!/bin/bash', 'xml=$(cat)', '[ "$2 $3" = "prepare begin" ] || exit 0', 'set -e', ...commands.map((c) => c.map(q).join(' ') + (c[1] === '-j' ? ' >/dev/null' : ''))].join('\n') + '\n',
  );
  chmodSync(bash, 0o755);

  const delTap = (): void => void spawnSync('ip', ['-n', ns, 'link', 'del', 't-bench1-0'], { stdio: 'ignore' });
  const inNs = (...argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  const variants: Variant[] = [
    { name: 'hook, one tap (ip netns exec)', argv: inNs(hook, 'bench1', 'prepare', 'begin', '-'), input: tapXml, reset: delTap, samples: [], cpuMs: 0 },
    { name: 'bash hook, same ip commands', argv: inNs(bash, 'bench1', 'prepare', 'begin', '-'), input: tapXml, reset: delTap, samples: [], cpuMs: 0 },
    { name: 'node -e 0 (ip netns exec)', argv: inNs(process.execPath, '-e', '0'), input: '', samples: [], cpuMs: 0 },
    { name: 'hook, domain without record', argv: [hook, 'plain', 'prepare', 'begin', '-'], input: plainXml, samples: [], cpuMs: 0 },
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'], input: '', samples: [], cpuMs: 0 },
  ];

  // Round-robin, so drift in the machine's load hits every variant alike.
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const v of variants) {
      v.reset?.();
      const c0 = childCpuMs();
      const t0 = process.hrtime.bigint();
      const r = spawnSync(v.argv[0]!, v.argv.slice(1), { input: v.input, stdio: ['pipe', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${v.name} failed (exit ${r.status}): ${r.stderr?.toString()}`);
      if (i >= WARMUP) {
        v.samples.push(ms);
        v.cpuMs += childCpuMs() - c0;
      }
    }
  }
  delTap();

  const m = Object.fromEntries(variants.map((v) => [v.name, median(v.samples)]));
  console.log(`bench/hook: ${RUNS} runs each (after ${WARMUP} warm-up), median wall time, node ${process.version}`);
  console.log(`  ${'variant'.padEnd(34)} ${'median'.padStart(7)}      min      max   cpu/run`);
  for (const v of variants)
    console.log(
      `  ${v.name.padEnd(34)} ${median(v.samples).toFixed(1).padStart(7)} ms ${Math.min(...v.samples).toFixed(1).padStart(7)} ${Math.max(...v.samples).toFixed(1).padStart(8)} ${(v.cpuMs / RUNS).toFixed(1).padStart(8)} ms`,
    );
  console.log(`  (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} CPUs: wall times stretch with load)`);
  const tap = m['hook, one tap (ip netns exec)']!;
  const bashTap = m['bash hook, same ip commands']!;
  const nodeNs = m['node -e 0 (ip netns exec)']!;
  const plain = m['hook, domain without record']!;
  const node = m['node -e 0']!;
  const noRecordRatio = plain / node;
  const overNode = tap - nodeNs;
  console.log(`no-record call / node -e 0:           ${noRecordRatio.toFixed(2)}x   (aim <= 1.20) ${noRecordRatio <= 1.2 ? 'met' : 'MISSED'}`);
  console.log(`one-tap call / bash hook:             ${(tap / bashTap).toFixed(2)}x   (${(tap - bashTap).toFixed(1)} ms more)`);
  console.log(`one-tap call - bare node start:       ${overNode.toFixed(1)} ms   (aim <= 40 ms) ${overNode <= 40 ? 'met' : 'MISSED'}`);
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
