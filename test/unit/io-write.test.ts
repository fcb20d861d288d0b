// Where results are written: through to what is not a regular file, in place
// under an edit lock (no lost update), without leftovers, keeping hard links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, openSync, closeSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, fixturesDir, repoRoot, runCli, tempDir } from '../helpers.js';
import { lockForEdit } from '../../src/commands/write-file.js';
import { VnetError } from '../../src/errors.js';

const WEB1 = join(fixturesDir, 'quickstart/web1.xml');
const taps = (xml: string): string[] => [...xml.matchAll(/<target dev='([^']+)'/g)].map((m) => m[1]!);

test('-o to a FIFO writes through it (as cat > FIFO): the FIFO stays, the reader gets the XML', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fifo = join(dir, 'out.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
    const done = new Promise((r) => reader.on('close', r));
    try {
      const r = runCli(['attach-tap', WEB1, '--tap', 'tap-fifo', '-o', fifo]);
      assert.equal(r.code, 0, r.stderr);
      // Checked before waiting for the reader: a FIFO replaced by a file never gets its writer.
      assert.ok(statSync(fifo).isFIFO(), 'still a FIFO');
      await done;
      assert.deepEqual(taps(got), ['tap-fifo']);
    } finally {
      reader.kill();
    }
  } finally {
    cleanup();
  }
});

test('-o /dev/stdout and /proc/self/fd/1 write to what stdout is, never replace the file behind it', () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const target of ['/dev/stdout', '/proc/self/fd/1']) {
      const file = join(dir, 'stdout.txt');
      writeFileSync(file, '');
      const before = statSync(file).ino;
      const fd = openSync(file, 'w');
      const r = spawnSync(process.execPath, [cliPath, 'attach-tap', WEB1, '--tap', 'tap-out', '-o', target], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      closeSync(fd);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(file).ino, before, `${target}: the file behind stdout is the same inode`);
      assert.deepEqual(taps(readFileSync(file, 'utf8')), ['tap-out']);
    }
  } finally {
    cleanup();
  }
});

test('concurrent --in-place edits: 3 processes x 30 edits of one file, every edit is in the file or its process failed', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'web1.xml');
    copyFileSync(WEB1, file);
    const child = join(repoRoot, 'dist/test/unit/io-edit-child.js');
    const runs = [1, 2, 3].map(
      (tag) =>
        new Promise<{ ok: string[]; failed: string[] }>((resolve, reject) => {
          const p = spawn(process.execPath, [child, file, String(tag), '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          p.stdout.on('data', (c: Buffer) => (out += c.toString()));
          p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { ok: string[]; failed: string[] }) : reject(new Error(`child exit ${code}`))));
        }),
    );
    const results = await Promise.all(runs);
    const inFile = taps(readFileSync(file, 'utf8'));
    const ok = results.flatMap((r) => r.ok);
    assert.deepEqual([...inFile].sort(), [...ok].sort(), 'every edit that succeeded is in the file, once');
    for (const r of results) for (const f of r.failed) assert.match(f, /^E_(FILE_BUSY|CHANGED_WHILE_EDITING)$/);
    assert.ok(ok.length >= 45, `most edits succeed (serialised, not refused): ${ok.length} of 90`);
  } finally {
    cleanup();
  }
});

test('an edit whose file was replaced after the read (by a writer that takes no lock) is refused, nothing written', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'd.xml');
    writeFileSync(file, 'old');
    const lock = lockForEdit(file);
    try {
      writeFileSync(join(dir, 'other'), 'theirs');
      renameSync(join(dir, 'other'), file);
      assert.throws(() => lock.verify(), (e: unknown) => e instanceof VnetError && e.code === 'E_CHANGED_WHILE_EDITING' && e.exitCode === 3);
    } finally {
      lock.release();
    }
  } finally {
    cleanup();
  }
});

test('a write removes the temporary files of dead writers (kill -9 mid-write), not those of live ones', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'web1.xml');
    copyFileSync(WEB1, file);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(dir, `.web1.xml.vnet-virt-${dead}-0badc0de.tmp`);
    const live = join(dir, `.web1.xml.vnet-virt-${process.pid}-0badc0de.tmp`);
    const other = join(dir, `.other.xml.vnet-virt-${dead}-0badc0de.tmp`);
    for (const f of [stale, live, other]) writeFileSync(f, 'half');
    const r = runCli(['attach-tap', file, '--tap', 'tap-x', '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(stale), false, 'the dead writer\'s temporary file is gone');
    assert.equal(existsSync(live), true, 'a live writer\'s is kept');
    assert.equal(existsSync(other), true, "another file's is not ours");
  } finally {
    cleanup();
  }
});

test('--in-place keeps hard links: every link sees the edit, mode kept', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'web1.xml');
    const link = join(dir, 'link.xml');
    copyFileSync(WEB1, file);
    linkSync(file, link);
    const ino = statSync(file).ino;
    const r = runCli(['attach-tap', file, '--tap', 'tap-l', '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(file).ino, ino);
    assert.equal(statSync(link).nlink, 2);
    assert.deepEqual(taps(readFileSync(link, 'utf8')), ['tap-l']);
    // A single link still goes through a temporary file and a rename.
    const single = join(dir, 'single.xml');
    copyFileSync(WEB1, single);
    const before = statSync(single).ino;
    assert.equal(runCli(['attach-tap', single, '--tap', 'tap-s', '--in-place']).code, 0);
    assert.notEqual(statSync(single).ino, before);
  } finally {
    cleanup();
  }
});

test('--in-place on a FIFO is refused (exit 2) without waiting for a writer', () => {
  const { dir, cleanup } = tempDir();
  try {
    const fifo = join(dir, 'in.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = runCli(['attach-tap', fifo, '--in-place']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--in-place: --in-place needs a regular file; use -o FILE/);
    assert.ok(statSync(fifo).isFIFO());
  } finally {
    cleanup();
  }
});
