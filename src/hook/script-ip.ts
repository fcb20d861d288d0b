// The `ip` the installed script starts (src/hook/script.ts): `ip -j -d -batch -`
// in the hook's namespace, started in sh beside node's own start-up, so that
// node itself starts no process on the way to a VM start. Its input is one
// pipe and its stdout and stderr come back on another; node holds the other
// ends as inherited file descriptors, named with ip's pid in
// VNET_VIRT_EARLY_IP=IN:OUT:PID (ip is node's child: the script forked it,
// then exec'd node). Once node holds the lock it sends `link show` (the
// probe) and later the plan's lines followed by `link show dev lo`, whose
// answer proves every line before it succeeded (ip stops at the first
// failure and says "Command failed -:N"). Nothing reaches ip before the lock
// is held, and every line is written whole (writes of at most PIPE_BUF bytes
// are atomic), so a kill -9 of node leaves ip complete lines only, then end
// of input; the journal is written before the plan's lines are.
import { closeSync, fstatSync, readFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { run } from '../host/run.js';
import type { RunResult, StartedRun } from '../host/run.js';

export const SCRIPT_IP_ENV = 'VNET_VIRT_EARLY_IP';

/** What ip -batch is told after the plan: its answer (one JSON line) means every line before it succeeded. */
const DONE_LINE = 'link show dev lo';
/** The most written at once: a FIFO write up to PIPE_BUF bytes is atomic, so ip never sees half a line. */
const PIPE_BUF = 4096;
/** A plan larger than this goes to an ip node starts itself: a write to the pipe must never block (nor the time limit with it). */
export const SCRIPT_IP_MAX_INPUT = 32 * 1024;

export interface ScriptIp {
  /** Node's end of ip's input (write-only). */
  input: number;
  /** Node's end of ip's stdout and stderr (read-only). */
  output: number;
  /** ip's pid: the time limit kills it as it kills an ip node started. */
  pid: number;
}

/** The script's ip, when the environment names one and both descriptors are FIFOs. */
export function scriptIpOf(env: Readonly<Record<string, string | undefined>>): ScriptIp | undefined {
  const m = /^(\d+):(\d+):(\d+)$/.exec(env[SCRIPT_IP_ENV] ?? '');
  if (!m) return undefined;
  const ip = { input: Number(m[1]), output: Number(m[2]), pid: Number(m[3]) };
  try {
    return ip.input > 2 && ip.output > 2 && fstatSync(ip.input).isFIFO() && fstatSync(ip.output).isFIFO() ? ip : undefined;
  } catch {
    return undefined;
  }
}

/** Lets the script's ip go unused: it reads end of input and exits 0. */
export function closeScriptIp(ip: ScriptIp): void {
  for (const fd of [ip.input, ip.output])
    try {
      closeSync(fd);
    } catch {
      // Closed already.
    }
}

const ABORTED = 'The operation was aborted';
const failedLine = /^Command failed -:(\d+)$/;

/** The probe (`ip -j -d link show`) and the batch, both answered by the script's ip. */
export interface ScriptIpSession {
  probe(): Promise<RunResult>;
  batch: StartedRun;
}

export function scriptIpSession(ip: ScriptIp, probeArgv: readonly string[], batchArgv: readonly string[]): ScriptIpSession {
  const out = new Socket({ fd: ip.output, readable: true, writable: false, allowHalfOpen: true });
  out.setEncoding('utf8');
  let text = '';
  let ended = false;
  let wake = (): void => {};
  const end = (): void => {
    ended = true;
    wake();
  };
  out.on('data', (d: string) => {
    text += d;
    wake();
  });
  out.on('end', end).on('close', end).on('error', end);
  const until = async (done: () => boolean): Promise<void> => {
    while (!done() && !ended) await new Promise<void>((r) => (wake = r));
  };
  /** Until ip has exited (its output ended): after its input was closed. */
  const ipExited = (): Promise<void> => until(() => false);
  let inputOpen = true;
  const closeInput = (): void => {
    if (inputOpen) closeSync(ip.input);
    inputOpen = false;
  };
  /** Whole lines, at most PIPE_BUF bytes a write; false when ip is gone (EPIPE, with the FIFOs). */
  const send = (lines: string[]): boolean => {
    let chunk = '';
    const flush = (): void => {
      let buf = Buffer.from(chunk);
      while (buf.length > 0) buf = buf.subarray(writeSync(ip.input, buf));
      chunk = '';
    };
    try {
      for (const line of lines) {
        if (chunk && Buffer.byteLength(chunk) + Buffer.byteLength(line) + 1 > PIPE_BUF) flush();
        chunk += `${line}\n`;
      }
      flush();
      return true;
    } catch {
      return false;
    }
  };
  let sent = 0;
  /** Where the probe's answer ended: the batch's answer starts there. */
  let batchFrom = 0;
  const jsonLine = (from: number): { start: number; end: number } | undefined => {
    for (let start = from; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) return undefined;
      if (text[start] === '[') return { start, end: nl + 1 };
      start = nl + 1;
    }
    return undefined;
  };
  const messages = (s: string, before: number): string =>
    s
      .split('\n')
      .filter((l) => l !== '' && !(before < 0 && failedLine.test(l)))
      .map((l) => l.replace(failedLine, (_, n: string) => `Command failed -:${Number(n) - before}`))
      .join('\n');

  const probe = async (): Promise<RunResult> => {
    const ok = send(['link show']);
    sent = 1;
    if (!ok) closeInput();
    await until(() => jsonLine(0) !== undefined);
    const json = jsonLine(0);
    if (!json) return { argv: probeArgv, code: 1, stdout: '', stderr: messages(text, -1) || 'ip ended without an answer' };
    batchFrom = json.end;
    return { argv: probeArgv, code: 0, stdout: text.slice(json.start, json.end), stderr: messages(text.slice(0, json.start), -1) };
  };

  let result: Promise<RunResult> | undefined;
  const batch: StartedRun = {
    argv: batchArgv,
    finish(input = '', signal) {
      if (result) return result;
      const lines = input.split('\n').filter((l) => l !== '');
      result = new Promise<RunResult>((resolve) => {
        if (signal?.aborted) {
          kill(ip.pid);
          resolve({ argv: batchArgv, code: 127, stdout: '', stderr: ABORTED });
          return;
        }
        const onAbort = (): void => {
          kill(ip.pid);
          resolve({ argv: batchArgv, code: 127, stdout: '', stderr: `${messages(text.slice(batchFrom), sent)}\n${ABORTED}`.trim() });
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        if (Buffer.byteLength(input) > SCRIPT_IP_MAX_INPUT) {
          // ip gets end of input and exits; the plan goes to an ip of node's own.
          closeInput();
          void ipExited().then(() => resolve(run(batchArgv, { input, signal }).then((r) => ({ ...r, ranIn: `an ip of node's own: the plan is over ${SCRIPT_IP_MAX_INPUT / 1024} KiB` }))));
          return;
        }
        if (lines.length > 0) send([...lines, DONE_LINE]);
        closeInput();
        void ipExited().then(() => {
          signal?.removeEventListener('abort', onAbort);
          const answer = text.slice(batchFrom);
          const done = jsonLine(batchFrom);
          const rest = done ? answer.slice(0, done.start - batchFrom) + answer.slice(done.end - batchFrom) : answer;
          // Every line ran (the last one answered), or none was sent; anything else failed: ip named the line, or the executor reads the host to tell.
          const code = done || lines.length === 0 ? 0 : 1;
          resolve({ argv: batchArgv, code, stdout: '', stderr: messages(rest, sent) });
        });
      });
      return result;
    },
  };
  return { probe, batch };
}

/** SIGTERM to ip, only while it is still our child (the pid cannot have been reused: node has not reaped it). */
function kill(pid: number): void {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) process.kill(pid, 'SIGTERM');
  } catch {
    // Gone.
  }
}
