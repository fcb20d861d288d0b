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
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ argv, code: 127, stdout, stderr: stderr + e.message }));
    child.on('close', (code, signal) => resolve({ argv, code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `ip ARGS`, or `ip -n NS ARGS` inside a namespace. */
export function ipArgv(netns: string | undefined, args: readonly string[]): string[] {
  return netns ? ['ip', '-n', netns, ...args] : ['ip', ...args];
}
