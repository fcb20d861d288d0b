// The hook's front door. Decides from argv and a substring test whether there
// is work; only then loads the parser and the provisioner (start-up is the cost).
import { readFileSync } from 'node:fs';

/** The record namespace (src/domain/record.ts RECORD_NS), repeated so the fast path imports nothing. */
export const RECORD_MARK = 'http://vnet-virt.dev/xmlns/record/1';

export type HookAction = 'up' | 'down';

export function actionFor(op: string | undefined, sub: string | undefined): HookAction | undefined {
  if (op === 'prepare' && sub === 'begin') return 'up';
  if (op === 'release' && sub === 'end') return 'down';
  return undefined;
}

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

export const USAGE_LINE = 'vnet-virt: hook: usage: <domain> <operation> <sub-operation> [extra], domain XML on stdin\n';

export async function hookMain(args: readonly string[], io: HookIO, overrides: HookOverrides = {}): Promise<HookResult> {
  const [domain, op, sub] = args;
  if (!domain || !op || !sub) {
    io.stderr(USAGE_LINE);
    return { code: 2, outcome: 'usage' };
  }
  if (op === 'migrate' && sub === 'begin') return (await import('./migrate.js')).hookMigrateBegin(domain, io, overrides);
  const action = actionFor(op, sub);
  // Exit before reading stdin: libvirt ignores EPIPE on the hook's input.
  if (!action) return { code: 0, outcome: 'ignored-operation' };
  const xml = await io.stdin();
  if (!xml.includes(RECORD_MARK)) return { code: 0, outcome: 'no-record' };
  // The probe starts as soon as early.js is in; action.js's graph loads meanwhile.
  const actionModule = import('./action.js');
  const { startEarly } = await import('./early.js');
  const early = startEarly(io.env, overrides, `${domain} ${op}/${sub}`);
  const { runHookAction } = await actionModule;
  return runHookAction({ domain, op, sub, action, xml }, io, overrides, early);
}

/** All of stdin; synchronous for a pipe or file, the stream API when the fd is non-blocking. */
export async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
