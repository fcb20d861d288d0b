// Shared test plumbing: running the CLI, root and corpus gates, throwaway namespaces.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';

export const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
export const cliPath = join(repoRoot, 'dist/src/cli/main.js');
export const fixturesDir = join(repoRoot, 'fixtures');
export const inCI = process.env.CI === 'true';
/** VNET_UPDATE_GOLDEN=1 (npm run golden:update): golden files are rewritten instead of compared. */
export const updateGolden = process.env.VNET_UPDATE_GOLDEN === '1';

// Journals of runs in progress (src/host/journal.ts) go to this test process's own folder, never the machine's /run.
if (!process.env.VNET_VIRT_STATE_DIR) {
  const state = mkdtempSync(join(tmpdir(), 'vnet-state-'));
  process.env.VNET_VIRT_STATE_DIR = state;
  process.on('exit', () => rmSync(state, { recursive: true, force: true }));
}
/** libvirt's and virt-manager's domain XML (../shared/corpus, read in place); from a worktree under wt/, two levels up. */
export const corpusDir =
  process.env.VNET_CORPUS ??
  [join(repoRoot, '..', 'shared', 'corpus'), join(repoRoot, '..', '..', 'shared', 'corpus')].find((d) => existsSync(join(d, 'manifest.json'))) ??
  join(repoRoot, '..', 'shared', 'corpus');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    input: opts.input ?? '',
    cwd: opts.cwd ?? repoRoot,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Gate for tests that need something this machine may lack. Outside CI the
 * test is skipped with the reason; in CI a missing prerequisite is a failure.
 */
export function requireOrSkip(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (inCI) throw new Error(`cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * The shells a distribution's /bin/sh may be (dash, bash, busybox sh): the installed hook script must work in
 * each. Outside CI a missing one is left out; in CI every one must be there (install-deps.sh installs them).
 */
export function scriptShells(): string[][] {
  const all = [['/bin/sh'], ['bash'], ['busybox', 'sh']];
  const there = all.filter((s) => spawnSync(s[0]!, [...s.slice(1), '-c', 'exit 0']).status === 0);
  if (inCI && there.length < all.length) throw new Error(`cannot run in CI: missing shell(s) ${all.filter((s) => !there.includes(s)).map((s) => s.join(' ')).join(', ')}`);
  return there;
}

export function requireRoot(t: TestContext): boolean {
  return requireOrSkip(t, isRoot(), 'needs root to create network namespaces and devices (CI runs it as root)');
}

export function requireCorpus(t: TestContext): boolean {
  return requireOrSkip(t, existsSync(join(corpusDir, 'manifest.json')), `corpus not found at ${corpusDir} (set VNET_CORPUS)`);
}

export function tempDir(prefix = 'vnet-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `ip` inside a namespace; throws with ip's stderr on failure. */
export function ipIn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface LinkInfo {
  ifname: string;
  address?: string;
  flags: string[];
  operstate?: string;
  master?: string;
  ifalias?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
}

export function linksIn(ns: string): LinkInfo[] {
  return JSON.parse(ipIn(ns, '-j', '-d', 'link', 'show')) as LinkInfo[];
}

/** A fresh network namespace for one test, removed afterwards even when the test fails. */
export async function withNetns<T>(fn: (ns: string) => Promise<T> | T): Promise<T> {
  const ns = `vnet-test-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return await fn(ns);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Compares with an expected file, or writes it when it is missing (or when updating). */
export function golden(t: { diagnostic: (s: string) => void }, dir: string, name: string, actual: string, same?: (a: string, e: string) => void): void {
  const file = join(dir, name);
  if (updateGolden || !existsSync(file)) {
    if (!updateGolden && inCI) assert.fail(`${file} is missing; run npm run golden:update and review it`);
    writeFileSync(file, actual);
    t.diagnostic(`wrote ${file}`);
    return;
  }
  const expected = readFileSync(file, 'utf8');
  if (same) same(actual, expected);
  else assert.equal(actual, expected, `${file} differs (npm run golden:update rewrites it)`);
}

/** A seeded generator (mulberry32) of numbers in [0, 1): the same sequence on every machine, so a failing seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
