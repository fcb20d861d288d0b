// bench/hook: the wall time of the installed hook against what users would
// otherwise run. Not a test: it prints medians and ratios. Needs root.
//   npm run bench:hook -- [--runs N]    (or node dist/bench/hook/bench.js after npm run build)
// 1. prepare begin, one tap on a bridge, and one veth + macvtap, in a throwaway
//    netns (via ip netns exec, as libvirtd's namespace): vnet-virt's installed
//    hook vs a bash hook running the same ip commands one by one, and vs the
//    hook as installs before the bundle ran it (`exec node entry.js`, unbundled);
//    bare `ip netns exec NS node -e 0`, and the floor of the design: the installed
//    script with, instead of the hook, a node script that only writes the plan to
//    the ip the script started. VNET_BENCH_BEFORE=an older build's
//    dist/src/hook/hook.bundle.cjs adds that build, run by the script as installs
//    wrote it before the script started ip itself.
// 2. prepare begin for a domain without a record vs `node -e 0`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPT_IP_LINES } from '../../src/hook/script.js';
import { benchLine } from '../table.js';

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
  const env = { ...process.env, VNET_VIRT_ALLOW_TEMPORARY_HOOK: '1' };
  const settings = ['--log', join(dir, 'hook.log'), '--lock', join(dir, 'hook.lock'), '--config', join(dir, 'none.conf')];
  execFileSync(process.execPath, [cli, 'hook', 'install', '--hooks-dir', hooks, ...settings], { env });
  const hook = join(hooks, 'qemu.d', 'vnet-virt');
  const script = readFileSync(hook, 'utf8');
  const bundled = /hook\.bundle\.c?js'/.test(script);
  // What installs wrote before: exec node on the unbundled entry, no sh pre-check.
  const oldHook = join(dir, 'old-hook');
  writeFileSync(
    oldHook,
    ['#!/bin/sh', ...script.split('\n').filter((l) => l.startsWith('export VNET_VIRT_HOOK_')), `exec '${process.execPath}' '${join(repo, 'dist/src/hook/entry.js')}' "$@"`].join('\n') + '\n',
  );
  chmodSync(oldHook, 0o755);
  // VNET_BENCH_BEFORE=path/to/an older build's hook entry (or bundle): the script as installs wrote it before
  // the script started ip itself, run on that entry.
  const before = process.env['VNET_BENCH_BEFORE'];
  const beforeHook = join(dir, 'before-hook');
  const scriptIpBlock = SCRIPT_IP_LINES.join('\n') + '\n';
  if (!script.includes(scriptIpBlock)) throw new Error('bench/hook: the installed script has no ip block: rebuild');
  if (before) {
    writeFileSync(beforeHook, script.replace(scriptIpBlock, '').replace(/^entry=.*$/m, `entry='${before.replace(/'/g, `'\\''`)}'`));
    chmodSync(beforeHook, 0o755);
  }
  const tapXmlFile = join(repo, 'fixtures/hook/tap1.xml');
  const tapXml = readFileSync(tapXmlFile, 'utf8');
  const mvtXml = readFileSync(join(repo, 'fixtures/hook/mvt1.xml'), 'utf8');
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
  // The floor of this design: the installed script (head, mktemp, mkfifo, ip started beside node) running, instead
  // of the hook, a node script that only sends the probe and the plan's lines to that ip and reads its answers.
  const floorEntry = join(dir, 'floor.cjs');
  const batchLines = ['link show', ...commands.slice(1).map((c) => c.slice(1).join(' ')), 'link show dev lo'];
  writeFileSync(
    floorEntry,
    `const fs = require('fs');\nfs.writeSync(3, ${JSON.stringify(batchLines.join('\n') + '\n')});\nfs.closeSync(3);\nconst b = Buffer.alloc(65536);\nwhile (fs.readSync(4, b) > 0);\n`,
  );
  const floorHook = join(dir, 'floor-hook');
  writeFileSync(floorHook, script.replace(/^entry=.*$/m, `entry='${floorEntry}'`));
  chmodSync(floorHook, 0o755);

  const delTap = (): void => void spawnSync('ip', ['-n', ns, 'link', 'del', 't-bench1-0'], { stdio: 'ignore' });
  // Deleting the veth takes its peer and the macvtap on it along.
  const delMvt = (): void => void spawnSync('ip', ['-n', ns, 'link', 'del', 'vl-bench2'], { stdio: 'ignore' });
  const inNs = (...argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  const v = (name: string, argv: string[], input = '', reset?: () => void): Variant => ({ name, argv, input, reset, samples: [], cpuMs: 0 });
  const variants: Variant[] = [
    v('hook, one tap (ip netns exec)', inNs(hook, 'bench1', 'prepare', 'begin', '-'), tapXml, delTap),
    v('hook, veth + macvtap', inNs(hook, 'bench2', 'prepare', 'begin', '-'), mvtXml, delMvt),
    v('old install, one tap', inNs(oldHook, 'bench1', 'prepare', 'begin', '-'), tapXml, delTap),
    ...(before ? [v('before build, one tap', inNs(beforeHook, 'bench1', 'prepare', 'begin', '-'), tapXml, delTap)] : []),
    v('bash hook, same ip commands', inNs(bash, 'bench1', 'prepare', 'begin', '-'), tapXml, delTap),
    v('floor: script, node sends plan', inNs(floorHook, 'bench1', 'prepare', 'begin', '-'), tapXml, delTap),
    v('node -e 0 (ip netns exec)', inNs(process.execPath, '-e', '0')),
    v('hook, domain without record', [hook, 'plain', 'prepare', 'begin', '-'], plainXml),
    v('old install, without record', [oldHook, 'plain', 'prepare', 'begin', '-'], plainXml),
    v('node -e 0', [process.execPath, '-e', '0']),
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
  delMvt();

  const m = Object.fromEntries(variants.map((x) => [x.name, median(x.samples)]));
  console.log(`bench/hook: ${RUNS} runs each (after ${WARMUP} warm-up), median wall time, node ${process.version}, hook ${bundled ? 'bundled' : 'NOT bundled (run npm run build)'}`);
  console.log(`  ${'variant'.padEnd(34)} ${'median'.padStart(7)}      min      max   cpu/run`);
  for (const x of variants)
    console.log(
      `  ${x.name.padEnd(34)} ${median(x.samples).toFixed(1).padStart(7)} ms ${Math.min(...x.samples).toFixed(1).padStart(7)} ${Math.max(...x.samples).toFixed(1).padStart(8)} ${(x.cpuMs / RUNS).toFixed(1).padStart(8)} ms`,
    );
  console.log(`  (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} CPUs: wall times stretch with load)`);
  const nodeNs = m['node -e 0 (ip netns exec)']!;
  const cpu = (name: string): number => variants.find((x) => x.name === name)!.cpuMs / RUNS;
  const tapCpu = cpu('hook, one tap (ip netns exec)');
  const nodeNsCpu = cpu('node -e 0 (ip netns exec)');
  const node = m['node -e 0']!;
  const aim = (label: string, value: string, goal: string, met: boolean): void =>
    console.log(`${label.padEnd(38)} ${value.padStart(9)}   (aim ${goal}) ${met ? 'met' : 'MISSED'}`);
  const ratio = m['hook, domain without record']! / node;
  aim('no-record call / node -e 0:', `${ratio.toFixed(2)}x`, '<= 1.10x', ratio <= 1.1);
  const tap = m['hook, one tap (ip netns exec)']! - nodeNs;
  aim('one-tap prepare - bare node:', `${tap.toFixed(1)} ms`, '<= 25 ms', tap <= 25);
  const mvt = m['hook, veth + macvtap']! - nodeNs;
  aim('veth + macvtap prepare - bare node:', `${mvt.toFixed(1)} ms`, '<= 35 ms', mvt <= 35);
  console.log(`old install, one tap - bare node:      ${(m['old install, one tap']! - nodeNs).toFixed(1).padStart(6)} ms`);
  console.log(`old install, no record / node -e 0:    ${(m['old install, without record']! / node).toFixed(2).padStart(6)}x`);
  const floor = m['floor: script, node sends plan']! - nodeNs;
  console.log(`floor of this design - bare node:      ${floor.toFixed(1).padStart(6)} ms   (sh + ip + node writing the one-tap plan: no hook code)`);
  console.log(`one-tap prepare - floor:               ${(tap - floor).toFixed(1).padStart(6)} ms   (the hook's own JavaScript: parse, lock, plan, journal, log)`);
  console.log(`one-tap prepare / bash hook:           ${(m['hook, one tap (ip netns exec)']! / m['bash hook, same ip commands']!).toFixed(2).padStart(6)}x`);
  const row = (what: string, value: number, anchor: string, anchorValue: number, ratio: number | null, aimText: string) => ({ what, value, unit: 'ms', anchor, anchorValue, ratio, aim: aimText });
  console.log(
    benchLine('hook', [
      row('call without a record', m['hook, domain without record']!, 'node -e 0', node, ratio, '<= 1.10x'),
      // The ratio column of the prepares is the difference to bare node, in ms: the aim is a difference.
      // The prepares' aims are differences: the value is the time over bare node.
      row('one-tap prepare begin, over bare node', tap, 'node -e 0 in the netns', nodeNs, null, '<= 25 ms'),
      row('veth + macvtap prepare begin, over bare node', mvt, 'node -e 0 in the netns', nodeNs, null, '<= 35 ms'),
      row('one-tap prepare, CPU per call', tapCpu, 'bare node CPU', nodeNsCpu, tapCpu / nodeNsCpu, ''),
      row('floor of this design (script + node sending the plan), over bare node', floor, 'node -e 0 in the netns', nodeNs, null, ''),
      ...(before ? [row('one-tap prepare', m['hook, one tap (ip netns exec)']!, 'the build in VNET_BENCH_BEFORE', m['before build, one tap']!, m['hook, one tap (ip netns exec)']! / m['before build, one tap']!, '')] : []),
      row('one-tap prepare', m['hook, one tap (ip netns exec)']!, 'bash hook, same ip commands', m['bash hook, same ip commands']!, m['hook, one tap (ip netns exec)']! / m['bash hook, same ip commands']!, ''),
    ]),
  );
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
