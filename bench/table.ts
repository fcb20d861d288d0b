// The contract between bench scripts and `npm run bench` (bench/all.ts): a
// bench script may end its output with one line
//   BENCH {"name": "...", "rows": [BenchRow, ...]}
// and the runner prints every script's rows in one table, anchors side by side.

export interface BenchRow {
  /** What was measured, e.g. "up+down, 1000 domains". */
  what: string;
  value: number;
  unit: string;
  /** What it is compared with, e.g. "raw ip -batch"; empty when nothing. */
  anchor: string;
  anchorValue: number | null;
  /** value / anchorValue (or another ratio the aim speaks of); null when none. */
  ratio: number | null;
  /** The aim, as text, e.g. "<= 1.20x". */
  aim: string;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
}

export const BENCH_PREFIX = 'BENCH ';

export function benchLine(name: string, rows: BenchRow[]): string {
  const round = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);
  return BENCH_PREFIX + JSON.stringify({ name, rows: rows.map((r) => ({ ...r, value: round(r.value), anchorValue: round(r.anchorValue), ratio: round(r.ratio) })) });
}

/** The last BENCH line of a script's output, or undefined. */
export function parseBenchLine(stdout: string): BenchResult | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(BENCH_PREFIX));
  if (!line) return undefined;
  const r = JSON.parse(line.slice(BENCH_PREFIX.length)) as BenchResult;
  return typeof r.name === 'string' && Array.isArray(r.rows) ? r : undefined;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const fmt = (x: number | null, unit = ''): string => (x === null || !Number.isFinite(x) ? '-' : `${x >= 100 ? x.toFixed(0) : x.toFixed(x >= 10 ? 1 : 2)}${unit}`);

/** One markdown table: bench, what, value, anchor, anchor's value, ratio, aim. */
export function renderTable(results: readonly BenchResult[]): string {
  const lines = ['| bench | measured | value | anchor | anchor value | ratio | aim |', '| --- | --- | ---: | --- | ---: | ---: | --- |'];
  for (const r of results)
    for (const row of r.rows)
      lines.push(`| ${r.name} | ${row.what} | ${fmt(row.value, ` ${row.unit}`)} | ${row.anchor || '-'} | ${fmt(row.anchorValue)} | ${row.ratio === null ? '-' : `${fmt(row.ratio)}x`} | ${row.aim || '-'} |`);
  return lines.join('\n');
}
