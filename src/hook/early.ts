// The hook's head start: once there is work, settings are read and the host
// probe (`ip -j -d link show`) is started before the parser and the
// provisioner load, so the two overlap (module loading is most of the cost).
import { ipArgv, run } from '../host/run.js';
import type { RunResult } from '../host/run.js';
import type { HookOverrides } from './dispatch.js';
import { loadSettings } from './settings.js';
import type { HookSettings } from './settings.js';

export interface EarlyProbe {
  argv: string[];
  startedAt: number;
  result: Promise<RunResult>;
}

export type Early = { settings: HookSettings; probe?: EarlyProbe | undefined } | { error: unknown };

export function startEarly(env: Readonly<Record<string, string | undefined>>, overrides: HookOverrides): Early {
  let settings: HookSettings;
  try {
    settings = loadSettings(env);
  } catch (error) {
    return { error };
  }
  // With create-bridge the host must be read under the lock: no head start.
  if (settings.createBridge && !overrides.dryRun) return { settings };
  const argv = ipArgv(overrides.netns ?? settings.netns, ['-j', '-d', 'link', 'show']);
  return { settings, probe: { argv, startedAt: performance.now(), result: run(argv) } };
}
