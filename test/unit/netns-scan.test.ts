import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsNameProblem, scanNetns } from '../../src/netns/scan.js';
import { tempDir } from '../helpers.js';

/** A fake /proc: each namespace is a file, and processes in it are hard links (same inode). */
function fakeProc(dir: string, layout: Record<string, string>): string {
  const proc = join(dir, 'proc');
  const nsFiles = join(dir, 'ns');
  mkdirSync(nsFiles, { recursive: true });
  for (const [pid, ns] of Object.entries(layout)) {
    mkdirSync(join(proc, pid, 'ns'), { recursive: true });
    const file = join(nsFiles, ns);
    try {
      writeFileSync(file, '', { flag: 'wx' });
    } catch {
      // the namespace's file exists: another process in it
    }
    linkSync(file, join(proc, pid, 'ns', 'net'));
    writeFileSync(join(proc, pid, 'comm'), `proc${pid}\n`);
  }
  return proc;
}

test("without a readable PID 1, the kernel threads' namespace (PID 2) is the host's, not our own", () => {
  const { dir, cleanup } = tempDir();
  try {
    // PID 1 unreadable (absent); we (self) run inside another namespace, as under `ip netns exec`.
    const proc = fakeProc(dir, { '2': 'init', '100': 'init', '200': 'test', self: 'test', '300': 'ctr' });
    const all = scanNetns(proc, join(dir, 'no-run-netns'));
    const byFirst = new Map(all.map((n) => [n.pids[0], n]));
    assert.equal(byFirst.get(2)?.isHost, true);
    assert.deepEqual(byFirst.get(2)?.pids, [2, 100]);
    assert.equal(byFirst.get(200)?.isHost, false, 'our own namespace is not the host\'s');
    assert.equal(byFirst.get(300)?.isHost, false);
    assert.equal(byFirst.get(300)?.comm, 'proc300');
  } finally {
    cleanup();
  }
});

test('names under /run/netns attach to the namespace they point at', () => {
  const { dir, cleanup } = tempDir();
  try {
    const proc = fakeProc(dir, { '2': 'init', '300': 'ctr' });
    mkdirSync(join(dir, 'run'));
    linkSync(join(dir, 'ns', 'ctr'), join(dir, 'run', 'web-ctr'));
    const ctr = scanNetns(proc, join(dir, 'run')).find((n) => n.pids.includes(300));
    assert.deepEqual(ctr?.names, ['web-ctr']);
  } finally {
    cleanup();
  }
});

test('namespace handle names: no slash, white space, . or ..', () => {
  for (const bad of ['', '.', '..', 'a/b', 'a b']) assert.ok(netnsNameProblem(bad), bad);
  assert.equal(netnsNameProblem('nspawn-web1'), undefined);
});
