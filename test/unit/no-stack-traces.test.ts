// No stack traces, anywhere: every command, given bad input, says what is wrong
// in one line; given a closed stdout (`vnet-virt ... | head`), ends quietly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cliPath, fixturesDir, runCli, tempDir } from '../helpers.js';

const STACK_FRAME = /^\s+at .*(:\d+:\d+\)?|<anonymous>\)?|\(native\))$|node:internal|^Node\.js v\d|Unhandled 'error' event|^\s*\^$/m;

/** Runs the CLI; with `closed`, our end of its stdout is closed before it writes a byte. */
function cli(args: string[], closed: boolean): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (closed) p.stdout!.destroy();
    else p.stdout!.resume();
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

async function inBatches<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(fn))));
  return out;
}

test('bad input to every command, and a closed stdout: no stack frame, errors in one line each', { timeout: 300_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const missing = join(dir, 'missing.xml');
    const web1 = join(fixturesDir, 'quickstart/web1.xml');
    const withTap = join(dir, 'with-tap.xml');
    assert.equal(runCli(['attach-tap', web1, '--tap', 'tap-st0', '-o', withTap]).code, 0);
    const bad: string[][] = [
      ['attach-tap', missing],
      ['attach-macvtap', missing, '--lower', 'veth1', '--macvtap', 'mvt0'],
      ['attach-direct', web1, '--source', 'eth0', '--mode', 'bogus'],
      ['detach', web1, '--mac', 'not-a-mac'],
      ['up', missing],
      ['down', '--dry-run', missing],
      ['check', missing],
      ['lint', '--format', 'bogus', web1],
      ['hook', 'run'],
      ['hook', 'replay', 'prepare', 'begin', '--xml', missing],
      ['hook', 'status', '--hooks-dir'],
      ['hook', 'install', '--hooks-dir', dir, '--timeout', 'soon'],
      ['netns', 'attach', 'vnet-test-x', 'not-a-pid'],
      ['netns', 'detach', '../etc'],
      ['container', 'veth', 'vnet-test-no-such-ns', '--dry-run'],
      ['container', 'macvlan', 'vnet-test-no-such-ns', '--parent', 'eth0', '--dry-run'],
      ['container', 'remove', 'vnet-test-no-such-ns'],
      ['no-such-command'],
      ['attach-tap', '--no-such-option', web1],
    ];
    const output: string[][] = [
      ['attach-tap', web1],
      ['attach-tap', web1, '--print-diff'],
      ['detach', withTap, '--target', 'tap-st0', '--json'],
      ['up', '--dry-run', withTap],
      ['down', '--dry-run', withTap],
      ['lint', '--no-schema', web1],
      ['lint', '--no-schema', '--format', 'sarif', web1],
      // A missing lint input is a finding on stdout (file-unreadable), not an error line.
      ['lint', missing],
      ['netns', 'list'],
      ['hook', 'status', '--hooks-dir', dir],
      ['--help'],
      ['--version'],
    ];
    // Bad input runs with stdout closed too: an error path that prints to stdout must not crash either.
    const runs = [...bad.map((a) => ({ args: a, closed: true, bad: true })), ...output.map((a) => ({ args: a, closed: true, bad: false }))];
    const results = await inBatches(runs, 4, (r) => cli(r.args, r.closed));
    results.forEach((r, i) => {
      const what = `${runs[i]!.closed ? 'closed stdout: ' : ''}vnet-virt ${runs[i]!.args.join(' ')}`;
      assert.doesNotMatch(r.stderr, STACK_FRAME, what);
      for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^vnet-virt: /, `${what}: every line on stderr is vnet-virt's own`);
      if (runs[i]!.bad) {
        assert.ok(r.code !== 0 && r.code !== null, `${what}: fails (exit ${r.code})`);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${what}: one line\n${r.stderr}`);
      }
    });
  } finally {
    cleanup();
  }
});
