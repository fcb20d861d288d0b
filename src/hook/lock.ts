// The lock hooks take around their work on the host. It is a listening Unix
// socket in Linux's abstract namespace: binding a name is exclusive, it costs
// no process and no file, and the kernel frees the name the moment the holder
// exits, even by SIGKILL, so a crashed hook can never leave a stale lock.
// Abstract names belong to the network namespace, which is exactly the scope
// of the devices the hook changes. A waiter connects to the holder and tries
// again when that connection closes (release or death): no polling.
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { VnetError, ExitCode } from '../errors.js';
import { fnv1a } from '../host/fnv.js';

export interface HeldLock {
  /** The lock's key (the configured `lock` setting and the namespace). */
  readonly key: string;
  release(): void;
}

export interface LockOptions {
  /** Give up after this long. */
  waitMs: number;
  signal?: AbortSignal | undefined;
  /** Sent to waiters that connect, for people debugging a wait; not used for correctness. */
  holder?: string | undefined;
}

const lockError = (key: string, message: string): VnetError =>
  new VnetError(message, {
    code: 'E_HOOK_LOCK',
    exitCode: ExitCode.hostFailedUndone,
    where: `lock ${key}`,
    hint: 'another vnet-virt hook holds it: see the hook log',
  });

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
function holderGone(name: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const c = createConnection(name);
    const done = (): void => {
      signal.removeEventListener('abort', done);
      c.destroy();
      resolve();
    };
    c.on('data', () => {}).on('close', done).on('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function acquireLock(key: string, opts: LockOptions): Promise<HeldLock> {
  const name = socketName(key);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(lockError(key, `could not take the lock within ${opts.waitMs} ms`)), opts.waitMs);
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
      await holderGone(name, stop.signal);
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
