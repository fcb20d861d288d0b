// The hook's front door. Decides from argv and a substring test whether there
// is work; only then loads the parser and the provisioner (start-up is the cost).
// The installed script makes the same two decisions in sh, before node starts.
import type { HookAction, HookIO, HookOverrides, HookResult } from './types.js';

export type { HookAction, HookIO, HookOverrides, HookOutcome, HookResult } from './types.js';

/** The record namespace (src/domain/record.ts RECORD_NS), repeated so the fast path imports nothing. */
export const RECORD_MARK = 'http://vnet-virt.dev/xmlns/record/1';

export function actionFor(op: string | undefined, sub: string | undefined): HookAction | undefined {
  if (op === 'prepare' && sub === 'begin') return 'up';
  if (op === 'release' && sub === 'end') return 'down';
  return undefined;
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
  let xml: string;
  try {
    xml = await io.stdin();
  } catch (e) {
    // Too large or not UTF-8: not a domain libvirt wrote. One line, and the start fails.
    const { VnetError } = await import('../errors.js');
    if (!(e instanceof VnetError)) throw e;
    io.stderr(`vnet-virt: hook: ${domain}: ${e.oneLine()}\n`);
    return { code: e.exitCode, outcome: 'failed' };
  }
  if (!xml.includes(RECORD_MARK)) return { code: 0, outcome: 'no-record' };
  const { runHookAction } = await import('./action.js');
  return runHookAction({ domain, op, sub, action, xml }, io, overrides);
}

/** All of stdin, bounded and UTF-8 checked as every command's input (see domain/read; loaded only when needed). */
export async function readStdin(): Promise<string> {
  return (await import('../domain/read.js')).readXmlText('-');
}
