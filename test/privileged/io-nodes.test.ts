// -o and input on device nodes: private nodes made with mknod in a temporary
// folder (never the machine's /dev). A device is written through, never replaced,
// and read only up to the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, requireRoot, runCli, tempDir } from '../helpers.js';

const WEB1 = join(fixturesDir, 'quickstart/web1.xml');

test('-o onto a character device writes to it and leaves the node; a device as input is read only to the limit', (t) => {
  if (!requireRoot(t)) return;
  const { dir, cleanup } = tempDir();
  try {
    const nul = join(dir, 'null');
    const zero = join(dir, 'zero');
    assert.equal(spawnSync('mknod', [nul, 'c', '1', '3']).status, 0);
    assert.equal(spawnSync('mknod', [zero, 'c', '1', '5']).status, 0);
    const rdev = statSync(nul).rdev;
    for (const args of [['attach-tap', WEB1, '-o', nul], ['attach-tap', WEB1, '-o', zero], ['detach', WEB1, '--mac', '52:54:00:00:00:09', '-o', nul]]) {
      const r = runCli(args);
      assert.ok(r.code === 0 || r.code === 3, r.stderr);
      assert.ok(statSync(args.at(-1)!).isCharacterDevice(), `${args.join(' ')}: still a character device`);
    }
    assert.equal(statSync(nul).rdev, rdev);
    for (const args of [['attach-tap', zero], ['up', '--dry-run', zero], ['lint', '--no-schema', zero], ['hook', 'replay', 'prepare', 'begin', '--xml', zero]]) {
      const r = runCli(args);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^vnet-virt: .*zero: is over 10485760 bytes, the limit; [^\n]*\n$/, args.join(' '));
    }
  } finally {
    cleanup();
  }
});
