// The lock and the host probe. Hooks of several domains run at once and share
// bridges (one may delete a bridge it made while another plans a port on it),
// so every change to the host happens under the lock, and the host is read
// under it too. The probe (`ip -j -d link show`) starts the moment the lock is
// held, while the provisioner's modules are still loading, and so does the
// `ip -batch -` that later gets the plan's commands (unused, it gets none).
// When the installed script has started that ip already (script-ip.ts), the
// probe and the batch both go to it, and node starts no process at all.
import { ipArgv, now, run, startRun } from '../host/run.js';
import { acquireLock } from './lock.js';
import { closeScriptIp, scriptIpSession } from './script-ip.js';
import type { ScriptIp } from './script-ip.js';
import type { Early, EarlyProbe } from './types.js';

export function startEarly(opts: {
  lockName: string;
  timeoutMs: number;
  netns: string | undefined;
  dryRun?: boolean | undefined;
  holder: string;
  /** The ip the installed script started, in the hook's own namespace. */
  scriptIp?: ScriptIp | undefined;
}): Early {
  const argv = ipArgv(opts.netns, ['-j', '-d', 'link', 'show']);
  const batchArgv = ipArgv(opts.netns, ['-batch', '-']);
  // The script's ip works in the hook's namespace and changes the host: not for another namespace, nor a dry run.
  const scriptIp = opts.scriptIp && opts.netns === undefined && !opts.dryRun ? opts.scriptIp : undefined;
  if (opts.scriptIp && !scriptIp) closeScriptIp(opts.scriptIp);
  if (opts.dryRun) return { probe: { argv, startedAt: now(), result: run(argv) } };
  // The kernel scopes the lock to our network namespace; --netns names another one.
  const lock = acquireLock(`${opts.lockName}@${opts.netns ?? ''}`, { waitMs: opts.timeoutMs, holder: opts.holder });
  lock.catch(() => {});
  let probe: EarlyProbe;
  if (scriptIp) {
    const session = lock.then(() => scriptIpSession(scriptIp, argv, batchArgv));
    probe = { argv, startedAt: 0, result: session.then((s) => ((probe.startedAt = now()), s.probe())), batch: session.then((s) => s.batch), by: 'the hook script' };
  } else {
    probe = { argv, startedAt: 0, result: lock.then(() => ((probe.startedAt = now()), run(argv))) };
    // The batch's start (fork, exec, ip's own start-up) overlaps the probe and the planning instead of following them.
    probe.batch = lock.then(() => startRun(batchArgv));
  }
  // A lock that times out is reported once, by runHookAction; its probe must not also be an unhandled rejection.
  probe.result.catch(() => {});
  probe.batch?.catch(() => {});
  return { lock, probe };
}
