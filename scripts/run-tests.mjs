#!/usr/bin/env node
// Runs the compiled tests of the named tiers (default: all) in one node --test
// run, so the runner prints one summary. Tiers: unit golden package privileged system fleet.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const ALL = ['unit', 'golden', 'package', 'privileged', 'system', 'fleet'];
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const root = new URL('../dist/test/', import.meta.url).pathname;

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });

const files = tiers.flatMap((t) => {
  try {
    return walk(join(root, t)).sort();
  } catch {
    return [];
  }
});
if (files.length === 0) {
  console.error(`no test files for tiers: ${tiers.join(' ')}`);
  process.exit(1);
}
// One file at a time: privileged and system tests share the kernel and libvirtd's socket.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
