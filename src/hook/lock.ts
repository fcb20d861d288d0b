// The lock around anything hooks share (creating a bridge). flock(2) on a file
// we keep open: the kernel drops it when the holder exits, even by SIGKILL, so
// a crashed hook can never leave a stale lock. Node has no flock(), so the
// util-linux `flock` takes it on our descriptor (passed as its fd 3) and exits;
// the lock belongs to the open file description, which stays ours.
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { VnetError, ExitCode } from '../errors.js';

export interface HeldLock {
  readonly file: string;
  release(): void;
}

export interface LockOptions {
  /** Give up after this long. */
  waitMs: number;
  signal?: AbortSignal | undefined;
  /** Written into the lock file for people reading it; not used for correctness. */
  holder?: string | undefined;
}

const lockError = (file: string, message: string): VnetError =>
  new VnetError(message, {
    code: 'E_HOOK_LOCK',
    exitCode: ExitCode.hostFailedUndone,
    where: `lock ${file}`,
    hint: 'another vnet-virt hook holds it; its pid is in the file',
  });

export async function acquireLock(file: string, opts: LockOptions): Promise<HeldLock> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  // O_CLOEXEC (libuv's default) keeps the descriptor out of the `ip` children.
  const fd = openSync(file, 'a', 0o644);
  try {
    const code = await flockOn(fd, opts.waitMs, opts.signal);
    if (code === 1) throw lockError(file, `could not take the lock within ${opts.waitMs} ms`);
    if (code !== 0) throw lockError(file, `flock(1) failed (exit ${code}); is util-linux installed?`);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid} ${opts.holder ?? ''}\n`);
  } catch {
    // Diagnostics only.
  }
  let held = true;
  return {
    file,
    release: () => {
      if (held) closeSync(fd);
      held = false;
    },
  };
}

function flockOn(fd: number, waitMs: number, signal: AbortSignal | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn('flock', ['--exclusive', '--wait', (waitMs / 1000).toFixed(3), '3'], {
      stdio: ['ignore', 'ignore', 'ignore', fd],
    });
    const onAbort = (): void => {
      child.kill('SIGKILL');
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(code ?? 1);
    });
  });
}
