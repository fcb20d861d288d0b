// The one place that starts processes. node:child_process, not execa: execa's
// import alone costs ~150 ms, which a libvirt hook pays on every VM start.
import { spawn } from 'node:child_process';

export interface RunResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
  /** Where it ran, when not where the caller asked (the hook's log says so). */
  ranIn?: string | undefined;
}

export interface RunOptions {
  input?: string | undefined;
  timeoutMs?: number | undefined;
  /** Aborting kills the process; the result then has a non-zero code. */
  signal?: AbortSignal | undefined;
}

/** How commands are started: `run`, or a stand-in in tests (fault injection). */
export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** A process started now whose input comes later: the hook starts its `ip -batch` while it still plans. */
export interface StartedRun {
  readonly argv: readonly string[];
  /** Writes `input`, ends the input, and waits for the exit. Aborting kills the process. Later calls only wait. */
  finish(input?: string, signal?: AbortSignal): Promise<RunResult>;
}

const ABORTED = 'The operation was aborted';

export function startRun(argv: readonly string[], opts: Pick<RunOptions, 'timeoutMs'> = {}): StartedRun {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs });
  // Chunks are decoded once at the end: `ip -j -d link show` of thousands of devices is megabytes.
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const text = (b: Buffer[]): string => Buffer.concat(b).toString('utf8');
  let settle: (r: RunResult) => void = () => {};
  const result = new Promise<RunResult>((resolve) => {
    let settled = false;
    settle = (r) => {
      if (!settled) resolve(r);
      settled = true;
    };
  });
  child.on('error', (e) => settle({ argv, code: 127, stdout: text(out), stderr: text(err) + e.message }));
  child.on('close', (code, signal) => settle({ argv, code: code ?? (signal ? 128 : 1), stdout: text(out), stderr: text(err) }));
  child.stdin.on('error', () => {});
  let finished = false;
  return {
    argv,
    finish(input, signal) {
      if (finished) return result;
      finished = true;
      // As spawn's own `signal` option: kill, and the result is the abort's error.
      const abort = (): void => {
        child.kill();
        settle({ argv, code: 127, stdout: text(out), stderr: text(err) + ABORTED });
      };
      if (signal?.aborted) abort();
      else if (signal) {
        signal.addEventListener('abort', abort, { once: true });
        void result.then(() => signal.removeEventListener('abort', abort));
      }
      child.stdin.end(input ?? '');
      return result;
    },
  };
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return startRun(argv, opts).finish(opts.input, opts.signal);
}

/**
 * Milliseconds on a monotonic clock. Not `performance.now()`: the first touch
 * of the global `performance` loads perf_hooks (nine internal modules), which
 * the hook would pay on every VM start.
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Whether two argvs are the same command, word for word. */
export const sameArgv = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** `ip ARGS`, or `ip -n NS ARGS` inside a namespace. */
export function ipArgv(netns: string | undefined, args: readonly string[]): string[] {
  return netns ? ['ip', '-n', netns, ...args] : ['ip', ...args];
}
