// Shared by the lint tests: the fixtures of each rule, their expect markers,
// and linting them in-process with the recorded host devices when asked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseLinks } from '../../src/host/facts.js';
import type { HostFacts } from '../../src/host/facts.js';
import { lint } from '../../src/lint/engine.js';
import type { LintOptions } from '../../src/lint/engine.js';
import { expandInputs } from '../../src/lint/inputs.js';
import type { LintResult, Severity } from '../../src/lint/types.js';
import { fixturesDir } from '../helpers.js';

export const lintFixturesDir = join(fixturesDir, 'lint');

/** `ip -j -d link show` of a namespace with tap0, tapmq (multi_queue), br0, veth0/veth1, macvtap mvt0 on veth1, and vhp0/vhp1 (vhp0 on br0 with hairpin on). */
export function recordedHost(): HostFacts {
  return parseLinks(readFileSync(join(lintFixturesDir, 'host-links.json'), 'utf8'), 'vnet-fixture');
}

export interface Fixture {
  rule: string;
  /** bad* or good*: a file, or a folder whose files are linted together. */
  name: string;
  kind: 'bad' | 'good';
  path: string;
  /** Linted with the recorded host devices (name contains "-host"). */
  host: boolean;
}

export function fixturesOf(rule: string): Fixture[] {
  const dir = join(lintFixturesDir, rule);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names
    .filter((n) => /^(bad|good)/.test(n) && (n.endsWith('.xml') || statSync(join(dir, n)).isDirectory()))
    .map((name) => ({
      rule,
      name,
      kind: name.startsWith('bad') ? 'bad' : 'good',
      path: join(dir, name),
      host: name.replace(/\.xml$/, '').endsWith('-host'),
    }));
}

export interface Expectation {
  file: string;
  line: number;
  severity: Severity | undefined;
}

const MARKER = /<!-- expect(?: (error|warning|info))?(?::.*?)? -->/;

/** The lines marked `<!-- expect -->` (optionally `<!-- expect warning -->`) in a fixture's files. */
export function expectations(files: string[]): Expectation[] {
  const out: Expectation[] = [];
  for (const file of files)
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const m = MARKER.exec(text);
        if (m) out.push({ file, line: i + 1, severity: m[1] as Severity | undefined });
      });
  return out;
}

export async function lintFixture(f: Fixture, opts: LintOptions = {}): Promise<{ result: LintResult; files: string[] }> {
  const items = expandInputs([f.path]);
  const result = await lint(items, { workers: 0, host: f.host ? recordedHost() : undefined, ...opts });
  return { result, files: items.map((i) => i.file) };
}
