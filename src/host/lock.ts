// A lock around work on the host (the hook's, and up/down/check's per
// namespace). It is a listening Unix socket in Linux's abstract namespace: binding a name is exclusive, it costs
// no process and no file, and the kernel frees the name the moment the holder
// exits, even by SIGKILL, so a crashed hook can never leave a stale lock.
// Abstract names belong to the network namespace, which is exactly the scope
// of the devices the hook changes. A waiter connects to the holder and tries
// again when that connection closes (release or death): no polling.
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { VnetError, ExitCode } from '../errors.js';
import { fnv1a } from './fnv.js';

export interface HeldLock {
  /** The lock's key. */
  readonly key: string;
  release(): void;
}

export interface LockOptions {
  /** Give up after this long (default: wait as long as the holder lives). */
  waitMs?: number | undefined;
  /** The error when waitMs passes. */
  timeoutError?: ((key: string, waitMs: number) => Error) | undefined;
  /** Called once when the lock is held by someone else, with what the holder says of itself. */
  onWait?: ((holder: string) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Sent to waiters that connect, for people debugging a wait; not used for correctness. */
  holder?: string | undefined;
}

/** The error a lock wait ends with: one shape, with the caller's code and hint. */
export const lockTimeout =
  (code: string, hint: string) =>
  (key: string, waitMs: number): VnetError =>
    new VnetError(`could not take the lock within ${waitMs} ms`, { code, exitCode: ExitCode.hostFailedUndone, where: `lock ${key}`, hint });

const lockError = lockTimeout('E_LOCK', 'another vnet-virt process holds it');

/** The abstract socket name for a key: at most 107 bytes, as sockaddr_un allows. */
export function socketName(key: string): string {
  const name = `vnet-virt-lock:${key}`;
  if (Buffer.byteLength(name) <= 100) return `\0${name}`;
  return `\0vnet-virt-lock:#${fnv1a(key).toString(16)}:${key.slice(-60)}`;
}

function tryBind(name: string, holder: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s)).on('error', () => {});
      s.end(`${process.pid} ${holder}\n`, () => {});
    });
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    server.listen(name, () => {
      // Waiters learn of the release by their connection closing.
      server.on('close', () => sockets.forEach((s) => s.destroy()));
      server.unref();
      resolve(server);
    });
  });
}

/** Resolves when the holder's side of a connection closes (or the connection fails: the holder is gone). */
function holderGone(name: string, signal: AbortSignal, said?: (text: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const c = createConnection(name);
    let text = '';
    const done = (): void => {
      signal.removeEventListener('abort', done);
      c.destroy();
      resolve();
    };
    c.setEncoding('utf8')
      .on('data', (d: string) => {
        text += d;
        if (said && text.endsWith('\n')) said(text.trim());
      })
      .on('close', done)
      .on('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function acquireLock(key: string, opts: LockOptions): Promise<HeldLock> {
  const name = socketName(key);
  const stop = new AbortController();
  const waitMs = opts.waitMs;
  const timer = waitMs === undefined ? undefined : setTimeout(() => stop.abort((opts.timeoutError ?? lockError)(key, waitMs)), waitMs);
  let told = false;
  const said = (text: string): void => {
    if (told || !opts.onWait) return;
    told = true;
    opts.onWait(text);
  };
  const onAbort = (): void => stop.abort(opts.signal!.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (stop.signal.aborted) throw stop.signal.reason;
      const server = await tryBind(name, opts.holder ?? '');
      if (server) {
        if (stop.signal.aborted) {
          server.close();
          throw stop.signal.reason;
        }
        let held = true;
        return {
          key,
          release: () => {
            if (held) server.close();
            held = false;
          },
        };
      }
      await holderGone(name, stop.signal, said);
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Who holds the lock ("PID holder"), or undefined when it is free. */
export function lockHolder(key: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const c = createConnection(socketName(key));
    c.setEncoding('utf8')
      .on('data', (d: string) => (text += d))
      .on('end', () => resolve(text.trim() || undefined))
      .on('error', () => resolve(undefined));
  });
}
