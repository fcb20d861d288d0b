// CLI wiring of domains by name: -c/--connect, --domain, --live and friends,
// and the dispatch of attach-* and detach to their by-name variants.
import type { Command } from 'commander';
import type { LibvirtConn } from '../libvirt/conn.js';

export interface NameOptionSet {
  /** attach/detach: --live, --live-only, --dry-run. */
  change?: boolean;
  /** lint/check: --all-domains. */
  all?: boolean;
}

export function nameOptions(cmd: Command, set: NameOptionSet = {}): Command {
  cmd
    .option('-c, --connect <uri>', 'libvirt URI for --domain (default: LIBVIRT_DEFAULT_URI, else qemu:///system)')
    .option('--domain <name|uuid>', "work on this libvirt domain instead of a file: read its definition, define the change back");
  if (set.all) cmd.option('--all-domains', 'every domain defined at the URI; findings name URI/NAME');
  if (set.change)
    cmd
      .option('--live', 'with --domain: also change the running guest (host devices, hot-plug or unplug) and its persistent definition')
      .option('--live-only', 'with --domain: change only the running guest; the persistent definition stays as it is')
      .option('--dry-run', 'with --domain: show the change (--print-diff, --json) and change nothing');
  return cmd;
}

type SpecName = 'tapSpec' | 'macvtapSpec' | 'directSpec';

/**
 * With --domain, the connection to libvirt starts opening before anything
 * else loads (the daemon's open takes a while); the command awaits it.
 */
function connecting(opts: Record<string, unknown>): { conn: Promise<LibvirtConn> } | undefined {
  if (typeof opts.domain !== 'string' || opts.domain === '') return undefined;
  const conn = import('../libvirt/conn.js').then((m) => m.openLibvirt(typeof opts.connect === 'string' ? opts.connect : m.defaultUri()));
  // Awaited by the command; until then a failure must not count as unhandled.
  conn.catch(() => {});
  return { conn };
}

/** Closes an early connection the command turned out not to use (a usage error, a file). */
const drop = (early: { conn: Promise<LibvirtConn> } | undefined): void => {
  early?.conn.then((c) => c.close(), () => {});
};

/** By name, or a file; options that only work by name are refused for a file. */
async function named(input: string | undefined, opts: Record<string, unknown>, byNameOnly: string[]): Promise<boolean> {
  const { checkSource } = await import('../commands/domain-source.js');
  if (checkSource(input === undefined ? [] : [input], opts)) return true;
  const { usageError } = await import('../errors.js');
  for (const flag of byNameOnly) {
    const key = flag.slice(2).replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    if (opts[key] !== undefined) throw usageError('E_USAGE', `${flag} works on domains by name`, { where: flag, hint: 'add --domain NAME' });
  }
  return false;
}

/** attach-* by name; false when the command works on a file. */
export async function attachByName(command: string, input: string | undefined, opts: Record<string, unknown>, spec: SpecName, out: (s: string) => void): Promise<boolean> {
  const early = connecting(opts);
  try {
    if (!(await named(input, opts, ['--dry-run']))) {
      drop(early);
      return false;
    }
  } catch (e) {
    drop(early);
    throw e;
  }
  const [attach, { runAttachByName }] = await Promise.all([import('../commands/attach.js'), import('../commands/by-name.js')]);
  await runAttachByName(command, opts, attach[spec] as never, out, early ?? {});
  return true;
}

export async function detachByName(input: string | undefined, opts: Record<string, unknown>, out: (s: string) => void): Promise<boolean> {
  const early = connecting(opts);
  try {
    if (!(await named(input, opts, ['--dry-run', '--netns']))) {
      drop(early);
      return false;
    }
  } catch (e) {
    drop(early);
    throw e;
  }
  const { runDetachByName } = await import('../commands/by-name.js');
  await runDetachByName(opts, out, early ?? {});
  return true;
}
