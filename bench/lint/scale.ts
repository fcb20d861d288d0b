// Benchmark (not a test): lint's time and peak memory as the corpus grows
// (x1, x10, x100 copies), each against one xmllint batch that does only the
// schema. Aims: lint with every rule and the schema <= 1.0x the xmllint batch,
// --no-schema <= 0.4x; time and peak RSS grow linearly; peak RSS < 300 MB at x100.
// Run: npm run bench:lint:scale   (options: --sizes 1,10,100 --runs N --before OTHER/dist/src/cli/main.js).
// --before measures another build in the same interleaved runs, for a before/after on one machine state.
// Needs GNU time (/usr/bin/time).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchLine } from '../table.js';
import { cliPath, corpusDir } from '../../test/helpers.js';
import type { BenchRow } from '../table.js';

// VNET_BENCH_CLI: another build's main.js, for a before/after comparison.
const cli = process.env.VNET_BENCH_CLI ?? cliPath;
const corpus = corpusDir;
const rng = '/usr/share/libvirt/schemas/domain.rng';

// The floors: what any Node lint pays before parsing (start node, walk, read), and libxml2's C parser alone.
const floorRead = new URL('./floor-read.js', import.meta.url).pathname;

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1,10,100' }, runs: { type: 'string', default: '3' }, before: { type: 'string' } },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);

interface Run {
  /** Wall time, seconds. */
  s: number;
  /** Peak RSS, MB. */
  mb: number;
  /** CPU time (user + sys), seconds: it suffers less from other load than wall time. */
  cpu: number;
}

/** Wall time, CPU time and peak RSS of one run, from GNU time (stderr goes to a file, as a user's `2>log` would). */
function measure(argv: string[], dir: string): Run {
  const report = join(dir, 'time.txt');
  spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %M %U %S', ...argv], { stdio: ['ignore', 'ignore', 'ignore'] });
  const [s, kb, user, sys] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { s: s!, mb: kb! / 1024, cpu: user! + sys! };
}

const cell = (v: Run): string => `${v.s.toFixed(2)} s (cpu ${v.cpu.toFixed(2)} s), ${v.mb.toFixed(0)} MB`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { file: string; root: string | null }[];
const domains = manifest.filter((e) => e.root === 'domain').map((e) => e.file);

/** Per size: medians of lint, --no-schema and xmllint, for the BENCH line. */
const measured: { copies: number; files: number; all: Run; bare: Run; xl: Run; read: Run; parse: Run }[] = [];
const floorRows: string[] = [];
const beforeRows: string[] = [];
console.log('every file is read, parsed, validated and linted on every run: lint keeps no cache and does not skip identical files');
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; medians of ${runs} interleaved runs`);
console.log('cells: median wall time (median CPU time, user + sys), highest peak RSS');
console.log('| copies | files | lint (all rules + schema) | lint --no-schema | xmllint --relaxng batch | lint / xmllint | --no-schema / xmllint |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const copies of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-scale-'));
  try {
    const files: string[] = [];
    for (let c = 0; c < copies; c++)
      for (const f of domains) {
        const to = join(dir, 'tree', `copy${c}`, f);
        mkdirSync(dirname(to), { recursive: true });
        copyFileSync(join(corpus, f), to);
        files.push(to);
      }
    // xmllint gets its files in batches under the argument limit, one after another, as one "batch" in time.
    const lists: string[][] = [];
    for (let i = 0; i < files.length; i += 4000) lists.push(files.slice(i, i + 4000));
    const script = join(dir, 'xmllint.sh');
    writeFileSync(script, lists.map((_, i) => `xmllint --noout --relaxng ${rng} $(cat ${join(dir, `list${i}`)}) 2>/dev/null`).join('\n') + '\n');
    const parseOnly = join(dir, 'xmllint-parse.sh');
    writeFileSync(parseOnly, lists.map((_, i) => `xmllint --noout $(cat ${join(dir, `list${i}`)}) 2>/dev/null`).join('\n') + '\n');
    lists.forEach((l, i) => writeFileSync(join(dir, `list${i}`), l.join('\n')));
    const all: Run[] = [];
    const bare: Run[] = [];
    const xl: Run[] = [];
    const read: Run[] = [];
    const parse: Run[] = [];
    const allBefore: Run[] = [];
    const bareBefore: Run[] = [];
    for (let r = 0; r < runs; r++) {
      all.push(measure([process.execPath, cli, 'lint', '--format', 'text', join(dir, 'tree')], dir));
      bare.push(measure([process.execPath, cli, 'lint', '--no-schema', '--format', 'text', join(dir, 'tree')], dir));
      xl.push(measure(['sh', script], dir));
      read.push(measure([process.execPath, floorRead, join(dir, 'tree')], dir));
      parse.push(measure(['sh', parseOnly], dir));
      if (values.before) {
        allBefore.push(measure([process.execPath, values.before, 'lint', '--format', 'text', join(dir, 'tree')], dir));
        bareBefore.push(measure([process.execPath, values.before, 'lint', '--no-schema', '--format', 'text', join(dir, 'tree')], dir));
      }
    }
    const m = (xs: Run[]): Run => ({ s: median(xs.map((x) => x.s)), cpu: median(xs.map((x) => x.cpu)), mb: Math.max(...xs.map((x) => x.mb)) });
    const [a, b, x, rd, ps] = [m(all), m(bare), m(xl), m(read), m(parse)];
    measured.push({ copies, files: files.length, all: a, bare: b, xl: x, read: rd, parse: ps });
    floorRows.push(`| x${copies} | ${cell(rd)} | ${cell(ps)} | ${(rd.s / x.s).toFixed(2)}x | ${(ps.s / x.s).toFixed(2)}x | ${((rd.s + ps.s) / x.s).toFixed(2)}x |`);
    const row = (a: Run, b: Run): string =>
      `| x${copies} | ${files.length} | ${cell(a)} | ${cell(b)} | ${cell(x)} | ${(a.s / x.s).toFixed(2)}x | ${(b.s / x.s).toFixed(2)}x |`;
    console.log(row(a, b));
    if (values.before) beforeRows.push(row(m(allBefore), m(bareBefore)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (values.before) {
  console.log(`\nthe same runs, interleaved, of ${values.before} (before):`);
  console.log('| copies | files | lint (all rules + schema) | lint --no-schema | xmllint --relaxng batch | lint / xmllint | --no-schema / xmllint |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of beforeRows) console.log(r);
}
console.log('\nfloors, in the same interleaved runs: node that only walks and reads every file (no parse, no rule), and');
console.log("libxml2's C parser alone (xmllint --noout, no schema). A Node lint pays the first and parses at best about as fast as");
console.log('the second, so their sum bounds `lint --no-schema` from below:');
console.log('| copies | node: start, walk, read | xmllint --noout (parse only) | read / xmllint batch | parse / batch | read + parse / batch |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of floorRows) console.log(r);
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

// The figures `npm run bench` puts in its table: the x10 ratios (or the largest size's), peak RSS at the largest size.
const at10 = measured.find((r) => r.copies === 10) ?? measured[measured.length - 1];
const largest = measured[measured.length - 1];
const rows: BenchRow[] = [];
if (at10 && largest) {
  rows.push(
    { what: `lint x${at10.copies} (${at10.files} files), every rule + schema`, value: at10.all.s, unit: 's', anchor: 'one xmllint --relaxng batch', anchorValue: at10.xl.s, ratio: at10.all.s / at10.xl.s, aim: '<= 1.00x' },
    { what: `lint --no-schema x${at10.copies}`, value: at10.bare.s, unit: 's', anchor: 'one xmllint --relaxng batch', anchorValue: at10.xl.s, ratio: at10.bare.s / at10.xl.s, aim: '<= 0.40x' },
    // The floor of the 0.40x aim: node's start, walk and reads, plus libxml2's C parser alone.
    { what: `floor x${at10.copies}: node walk + read, plus xmllint --noout`, value: at10.read.s + at10.parse.s, unit: 's', anchor: 'one xmllint --relaxng batch', anchorValue: at10.xl.s, ratio: (at10.read.s + at10.parse.s) / at10.xl.s, aim: '' },
    { what: `lint peak RSS x${largest.copies} (${largest.files} files)`, value: largest.all.mb, unit: 'MB', anchor: 'the aim, 300 MB', anchorValue: 300, ratio: largest.all.mb / 300, aim: '< 1.00x (x100)' },
  );
  // Linear: the time per file at the largest size against x10's (x1 is mostly start-up).
  if (largest !== at10)
    rows.push({
      what: `lint time per file, x${largest.copies} vs x${at10.copies}`,
      value: (largest.all.s / largest.files) * 1e6,
      unit: 'us',
      anchor: `x${at10.copies}, us per file`,
      anchorValue: (at10.all.s / at10.files) * 1e6,
      ratio: largest.all.s / largest.files / (at10.all.s / at10.files),
      aim: '<= 1.20x (linear)',
    });
}
console.log(benchLine('lint', rows));
