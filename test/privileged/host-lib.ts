// Shared setup of the host privileged tests: domain files made with the real attach commands.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, linksIn, runCli } from '../helpers.js';
import type { LinkInfo } from '../helpers.js';

/** A copy of the quick-start domain (web1, with a uuid) as `dir/file`. */
export function domainFile(dir: string, file: string): string {
  const path = join(dir, file);
  copyFileSync(join(fixturesDir, 'quickstart', 'web1.xml'), path);
  return path;
}

/** Runs an attach-* command in place; fails the test when it fails. */
export function attach(command: 'attach-tap' | 'attach-macvtap', file: string, ...args: string[]): void {
  const r = runCli([command, file, '--in-place', ...args]);
  assert.equal(r.code, 0, `${command} ${args.join(' ')}: ${r.stderr}`);
}

export function link(ns: string, name: string): LinkInfo | undefined {
  return linksIn(ns).find((l) => l.ifname === name);
}

export const names = (ns: string): string[] =>
  linksIn(ns)
    .map((l) => l.ifname)
    .filter((n) => n !== 'lo')
    .sort();

export const MARK = 'vnet-virt:c7a5fdbd-edaf-9455-926a-d65c16db1809';
