// Benchmark (not a test): vnet-virt's parser on 10 MiB files of the shapes that
// cost most per byte, against `xmllint --noout` on the same file. Aim: any
// 10 MiB file parses in under a second. Run: npm run bench:xml  (--runs N)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseXml } from '../../src/domain/xml.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const SIZE = 10 * 1024 * 1024 - 200;
const XMLLINT_LIMIT_MS = 60_000;

const fill = (unit: (i: number) => string): string => {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < SIZE; i++) {
    const u = unit(i);
    parts.push(u);
    n += u.length;
  }
  return parts.join('');
};
const domain = (inner: string): string => `<domain type="kvm">\n  <name>big</name>\n  <devices>${inner}</devices>\n</domain>\n`;

const SHAPES: [string, () => string][] = [
  ['empty siblings on one line (<a/>)', () => domain(fill(() => '<a/>'))],
  ['empty siblings, one a line', () => domain(fill(() => '<a/>\n'))],
  ['interfaces', () => domain(fill((i) => `\n    <interface type="ethernet"><mac address="52:54:00:00:${(i >> 8) & 255}:${i & 255}"/><target dev="t${i}" managed="no"/></interface>`))],
  ['attributes on one element', () => domain(`<a ${fill((i) => `a${i}="${i}" `)}/>`)],
  ['text with references', () => domain(`<a>${fill(() => 'x&amp;y&#65;')}</a>`)],
  ['comments', () => domain(fill(() => '<!-- c -->'))],
  ['nesting at the limit, repeated', () => domain(fill(() => '<a>'.repeat(250) + '</a>'.repeat(250)))],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-xml-'));
try {
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${runs} runs each, medians`);
  console.log('| shape | bytes | parse (wall) | parse (CPU) | xmllint --noout | parse / xmllint |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  let worst = 0;
  for (const [name, make] of SHAPES) {
    const text = make();
    const file = join(dir, 'big.xml');
    writeFileSync(file, text);
    const wall: number[] = [];
    const cpu: number[] = [];
    const xl: number[] = [];
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      parseXml(text);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      // libxml2's own duplicate-attribute check is quadratic: xmllint gets a time limit.
      const x0 = performance.now();
      const x = spawnSync('xmllint', ['--noout', '--huge', file], { stdio: 'ignore', timeout: XMLLINT_LIMIT_MS });
      xl.push(x.error || x.signal ? Infinity : performance.now() - x0);
    }
    worst = Math.max(worst, median(wall));
    const ms = (x: number): string => (x === Infinity ? `> ${XMLLINT_LIMIT_MS} ms` : `${x.toFixed(0)} ms`);
    console.log(`| ${name} | ${Buffer.byteLength(text)} | ${ms(median(wall))} | ${ms(median(cpu))} | ${ms(median(xl))} | ${(median(wall) / median(xl)).toFixed(2)}x |`);
  }
  console.log(`slowest shape: ${worst.toFixed(0)} ms (aim: < 1000 ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
