// The one place that starts processes. node:child_process, not execa: execa's
// import alone costs ~150 ms, which a libvirt hook pays on every VM start.
import { spawn } from 'node:child_process';

export interface RunResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | undefined;
  timeoutMs?: number | undefined;
  /** Aborting kills the process; the result then has a non-zero code. */
  signal?: AbortSignal | undefined;
}

/** How commands are started: `run`, or a stand-in in tests (fault injection). */
export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs, signal: opts.signal });
    // Chunks are decoded once at the end: `ip -j -d link show` of thousands of devices is megabytes.
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const text = (b: Buffer[]): string => Buffer.concat(b).toString('utf8');
    child.on('error', (e) => resolve({ argv, code: 127, stdout: text(out), stderr: text(err) + e.message }));
    child.on('close', (code, signal) => resolve({ argv, code: code ?? (signal ? 128 : 1), stdout: text(out), stderr: text(err) }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Milliseconds on a monotonic clock. Not `performance.now()`: the first touch
 * of the global `performance` loads perf_hooks (nine internal modules), which
 * the hook would pay on every VM start.
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** `ip ARGS`, or `ip -n NS ARGS` inside a namespace. */
export function ipArgv(netns: string | undefined, args: readonly string[]): string[] {
  return netns ? ['ip', '-n', netns, ...args] : ['ip', ...args];
}
