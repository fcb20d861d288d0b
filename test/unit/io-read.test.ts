// Reading input is bounded: every command stops reading at the 10 MiB limit,
// on stdin, FIFOs and devices alike, and says so in one line (exit 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, repoRoot, tempDir } from '../helpers.js';
import { MAX_XML_BYTES, readBounded, readXmlText } from '../../src/domain/read.js';

const FEED = 64 * 1024 * 1024;

/** Runs argv with an endless-looking stdin (64 MiB of '<'); resolves with how much it took before it stopped reading. */
function feed(argv: string[], into: 'stdin' | string = 'stdin'): Promise<{ code: number | null; stderr: string; fed: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...argv], { stdio: [into === 'stdin' ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let fed = 0;
    const chunk = Buffer.alloc(1024 * 1024, '<');
    const sink = into === 'stdin' ? p.stdin! : undefined;
    const fifo = into === 'stdin' ? undefined : spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(into)},'w');const b=Buffer.alloc(1<<20,60);let n=0;try{while(n<${FEED}){fs.writeSync(fd,b);n+=b.length}}catch{}process.stdout.write(String(n))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let fifoFed = '';
    fifo?.stdout!.on('data', (c: Buffer) => (fifoFed += c.toString()));
    const fifoDone = new Promise((r) => (fifo ? fifo.on('close', r) : r(undefined)));
    const pump = (): void => {
      while (sink && fed < FEED) {
        fed += chunk.length;
        if (!sink.write(chunk)) return void sink.once('drain', pump);
      }
      sink?.end();
    };
    sink?.on('error', () => {});
    pump();
    p.on('close', (code) => {
      sink?.destroy();
      if (!fifo) return resolve({ code, stderr, fed });
      void fifoDone.then(() => resolve({ code, stderr, fed: Number(fifoFed) }));
    });
  });
}

const COMMANDS: string[][] = [
  ['attach-tap', '-'],
  ['detach', '-', '--mac', '52:54:00:00:00:01'],
  ['up', '--dry-run', '-'],
  ['down', '--dry-run', '-'],
  ['check', '-'],
  ['lint', '-'],
  ['hook', 'replay', 'prepare', 'begin', '--dry-run', '--xml', '-'],
  ['hook', 'run', 'dom', 'prepare', 'begin', '-'],
];

test('every command stops reading an endless stdin at the limit: exit 3, one line', { timeout: 120_000 }, async () => {
  const results = await Promise.all(COMMANDS.map((argv) => feed(argv)));
  results.forEach((r, i) => {
    const what = COMMANDS[i]!.join(' ');
    assert.equal(r.code, 3, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /^vnet-virt: .*<stdin>: is over 10485760 bytes, the limit; [^\n]*\n$/, what);
    // Before the limit was enforced while reading, all 64 MiB were read and held.
    assert.ok(r.fed < FEED, `${what}: stopped reading early (${r.fed} bytes fed)`);
  });
});

test('a FIFO fed without end: attach and lint stop at the limit', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const argv of [['attach-tap'], ['lint']]) {
      const fifo = join(dir, `in-${argv[0]}.xml`);
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const r = await feed([...argv, fifo], fifo);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /is over 10485760 bytes, the limit/);
      assert.ok(r.fed < FEED, `${argv[0]}: the writer was cut off (${r.fed} bytes)`);
    }
  } finally {
    cleanup();
  }
});

test('readBounded reads at most limit + 1 bytes, and all of a smaller input', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'big');
    writeFileSync(file, Buffer.alloc(300_000, 'x'));
    const fd = openSync(file, 'r');
    try {
      assert.equal(readBounded(fd, 1000).length, 1001);
      assert.equal(readBounded(fd, 1_000_000).length, 300_000 - 1001, 'the rest, to its end');
    } finally {
      closeSync(fd);
    }
    assert.equal(MAX_XML_BYTES, 10 * 1024 * 1024);
  } finally {
    cleanup();
  }
});

test('readXmlText reuses one read buffer: files of every size, in any order, read whole; a bad one in between changes nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    // Around the reused buffer's 64 KiB: one byte short, exact, one over, and far over; multi-byte characters across the edge.
    const sizes = [10, 65_535, 65_536, 65_537, 200_000, 3, 65_536, 1];
    const texts = sizes.map((n, i) => `<d i="${i}">${'é€x'.repeat(n).slice(0, n)}</d>`);
    const files = texts.map((_, i) => join(dir, `f${i}.xml`));
    texts.forEach((t, i) => writeFileSync(files[i]!, t));
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, Buffer.concat([Buffer.from('<d>'), Buffer.alloc(70_000, 0x61), Buffer.from([0xff]), Buffer.from('</d>')]));
    for (const order of [[0, 1, 2, 3, 4, 5, 6, 7], [7, 4, 0, 3, 1, 6, 2, 5]])
      for (const i of order) {
        assert.equal(readXmlText(files[i]!), texts[i], `file ${i} (${sizes[i]})`);
        assert.throws(() => readXmlText(bad), /is not UTF-8/);
      }
  } finally {
    cleanup();
  }
});

test('the hook refuses stdin that is not UTF-8: exit 3, one line', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/hook/entry.js'), 'dom', 'prepare', 'begin', '-'], { input: Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]), encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.equal(r.stderr, 'vnet-virt: hook: dom: <stdin>: is not UTF-8; convert it to UTF-8 (iconv -t UTF-8), as libvirt writes it\n');
});

test('--version and SARIF tool version come from package.json', () => {
  // A copy of the build next to a package.json with another version: what it prints must follow.
  const { dir, cleanup } = tempDir();
  try {
    cpSync(join(repoRoot, 'dist/src'), join(dir, 'dist/src'), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7-test' }));
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8' });
    assert.equal(cli('--version').stdout, '9.8.7-test\n');
    const log = JSON.parse(cli('lint', '--no-schema', '--format', 'sarif', join(repoRoot, 'fixtures/quickstart/web1.xml')).stdout) as { runs: { tool: { driver: { version: string } } }[] };
    assert.equal(log.runs[0]!.tool.driver.version, '9.8.7-test');
  } finally {
    cleanup();
  }
});

test('lint takes its input limit from the XML-reading layer, not from a command', () => {
  for (const f of readdirSync(join(repoRoot, 'src/lint'))) {
    if (!f.endsWith('.ts')) continue;
    assert.doesNotMatch(readFileSync(join(repoRoot, 'src/lint', f), 'utf8'), /from '\.\.\/commands\//, f);
  }
});
