// What the hook's parts hand each other. Types only: dispatch, action and early
// all import this file and none of them imports another's types (no import circle).
import type { HeldLock } from './lock.js';
import type { RunResult, StartedRun } from '../host/run.js';
import type { HookSettings } from './settings.js';

export type HookAction = 'up' | 'down';

export interface HookIO {
  /** The domain XML libvirt writes on stdin; read only when the operation needs it. */
  stdin: () => string | Promise<string>;
  stderr: (s: string) => void;
  /** Only `migrate begin` writes here: the XML libvirt then uses on the destination (src/hook/migrate.ts). */
  stdout?: ((s: string) => void) | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

/** What a caller other than libvirt (hook replay) may change. */
export interface HookOverrides {
  netns?: string | undefined;
  dryRun?: boolean | undefined;
  /** Replaces the log file (replay logs to stderr). */
  log?: ((line: string) => void) | undefined;
}

export type HookOutcome = 'usage' | 'ignored-operation' | 'no-record' | 'empty-record' | 'done' | 'failed';

export interface HookResult {
  code: number;
  outcome: HookOutcome;
  /** up/down's report, when it ran. */
  report?: unknown;
}

export interface HookRequest {
  domain: string;
  op: string;
  sub: string;
  action: HookAction;
  xml: string;
}

/**
 * The host probe (`ip -j -d link show`), started as soon as the lock is held,
 * and beside it the `ip -batch -` that will take the plan's commands: it
 * starts while the probe runs and the plan is made, and waits for its input.
 */
export interface EarlyProbe {
  argv: string[];
  startedAt: number;
  result: Promise<RunResult>;
  batch?: Promise<StartedRun> | undefined;
  /** Who started the probe and the batch, when not node (the log says so). */
  by?: string | undefined;
}

/** The lock (none for a dry run) and the probe that runs under it. */
export interface Early {
  lock?: Promise<HeldLock> | undefined;
  probe: EarlyProbe;
}

export type { HookSettings };
