// The hook's head start: once there is work, settings are read, the lock is
// taken and the host probe (`ip -j -d link show`) is started before the parser
// and the provisioner load, so they overlap (module loading is most of the cost).
import { ipArgv, run } from '../host/run.js';
import { acquireLock } from './lock.js';
import type { HeldLock } from './lock.js';
import type { RunResult } from '../host/run.js';
import type { HookOverrides } from './dispatch.js';
import { loadSettings } from './settings.js';
import type { HookSettings } from './settings.js';

export interface EarlyProbe {
  argv: string[];
  startedAt: number;
  result: Promise<RunResult>;
}

export type Early = { settings: HookSettings; lock?: Promise<HeldLock> | undefined; probe?: EarlyProbe | undefined } | { error: unknown };

/**
 * Hooks of several domains run at once and share bridges (one may delete a
 * bridge it made while another plans a port on it), so every change to the
 * host happens under the lock, and the host is read under it too.
 */
export function startEarly(env: Readonly<Record<string, string | undefined>>, overrides: HookOverrides, holder: string): Early {
  let settings: HookSettings;
  try {
    settings = loadSettings(env);
  } catch (error) {
    return { error };
  }
  const netns = overrides.netns ?? settings.netns;
  const argv = ipArgv(netns, ['-j', '-d', 'link', 'show']);
  const startedAt = performance.now();
  if (overrides.dryRun) return { settings, probe: { argv, startedAt, result: run(argv) } };
  // The kernel scopes the lock to our network namespace; --netns names another one.
  const lock = acquireLock(`${settings.lockName}@${netns ?? ''}`, { waitMs: settings.timeoutMs, holder });
  lock.catch(() => {});
  const result = lock.then(() => run(argv));
  // A lock that times out is reported once, by runHookAction; its probe must not also be an unhandled rejection.
  result.catch(() => {});
  return { settings, lock, probe: { argv, startedAt, result } };
}
