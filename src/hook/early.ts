// The lock and the host probe. Hooks of several domains run at once and share
// bridges (one may delete a bridge it made while another plans a port on it),
// so every change to the host happens under the lock, and the host is read
// under it too. The probe (`ip -j -d link show`) starts the moment the lock is
// held, while the provisioner's modules are still loading, and so does the
// `ip -batch -` that later gets the plan's commands (unused, it gets none).
import { ipArgv, now, run, startRun } from '../host/run.js';
import { acquireLock } from './lock.js';
import type { Early, EarlyProbe } from './types.js';

export function startEarly(opts: { lockName: string; timeoutMs: number; netns: string | undefined; dryRun?: boolean | undefined; holder: string }): Early {
  const argv = ipArgv(opts.netns, ['-j', '-d', 'link', 'show']);
  if (opts.dryRun) return { probe: { argv, startedAt: now(), result: run(argv) } };
  // The kernel scopes the lock to our network namespace; --netns names another one.
  const lock = acquireLock(`${opts.lockName}@${opts.netns ?? ''}`, { waitMs: opts.timeoutMs, holder: opts.holder });
  lock.catch(() => {});
  const probe: EarlyProbe = { argv, startedAt: 0, result: lock.then(() => ((probe.startedAt = now()), run(argv))) };
  // The batch's start (fork, exec, ip's own start-up) overlaps the probe and the planning instead of following them.
  probe.batch = lock.then(() => startRun(ipArgv(opts.netns, ['-batch', '-'])));
  // A lock that times out is reported once, by runHookAction; its probe must not also be an unhandled rejection.
  probe.result.catch(() => {});
  probe.batch.catch(() => {});
  return { lock, probe };
}
