// `npm run bench`: runs every bench script in turn, shows their own output,
// and ends with one table of all their figures, anchors side by side. A script
// takes part in the table by printing a final `BENCH {...}` line (bench/table.ts).
//   node dist/bench/all.js [--only lint,hook,provision] [--quick]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseBenchLine, renderTable } from './table.js';
import type { BenchResult } from './table.js';

const here = new URL('.', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1]!.split(',') : undefined;

/** Each bench: its script and the arguments of a full and of a quick run. */
const BENCHES: { name: string; script: string; full: string[]; quick: string[] }[] = [
  // lint/run.js (verdicts against virt-xml-validate, once per file) is slow and prints no BENCH line: run it by itself.
  { name: 'lint', script: 'lint/scale.js', full: [], quick: ['--sizes', '1,10'] },
  { name: 'hook', script: 'hook/bench.js', full: [], quick: ['--runs', '10'] },
  { name: 'provision', script: 'provision/run.js', full: [], quick: ['--sizes', '100,1000', '--rounds', '1'] },
  // Root only: it starts a private libvirtd and boots a guest.
  ...(process.getuid?.() === 0 ? [{ name: 'libvirt', script: 'libvirt/run.js', full: [], quick: ['--quick'] }] : []),
];

function runOne(script: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [here + script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      process.stdout.write(d);
    });
    c.on('close', (code) => resolve({ code, stdout }));
  });
}

const results: BenchResult[] = [];
const missing: string[] = [];
for (const b of BENCHES) {
  if (only && !only.includes(b.name)) continue;
  console.log(`\n== bench/${b.name} ==`);
  const r = await runOne(b.script, quick ? b.quick : b.full);
  const parsed = parseBenchLine(r.stdout);
  if (parsed) results.push(parsed);
  else missing.push(`${b.name} (exit ${r.code}${r.code === 0 ? ', no BENCH line' : ''})`);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\n== all benches: node ${process.version}, ${availableParallelism()} CPUs, load ${load} ==\n`);
console.log(renderTable(results));
if (missing.length) console.log(`\nnot in the table: ${missing.join('; ')}`);
process.exitCode = missing.length ? 1 : 0;
