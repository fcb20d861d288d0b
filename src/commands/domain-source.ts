// Domains by name: which domain a command works on (--domain, -c), and the
// definition it reads. Commands call this instead of reading a file.
import { inputError, usageError } from '../errors.js';
import { DomainDoc } from '../domain/doc.js';
import { isActive, LibvirtDomain } from '../libvirt/domain.js';
import type { LibvirtConn } from '../libvirt/conn.js';
import { defaultUri, VirshError } from '../libvirt/virsh.js';

export interface DomainSourceOptions {
  connect?: string | undefined;
  domain?: string | undefined;
  allDomains?: boolean | undefined;
  /** attach/detach: also the running guest. lint: read the live definition. */
  live?: boolean | undefined;
  /** attach/detach: only the running guest; the persistent definition stays. */
  liveOnly?: boolean | undefined;
  /** check: the persistent definition even while the domain runs. */
  inactive?: boolean | undefined;
  output?: string | undefined;
  inPlace?: boolean | undefined;
}

export type Definition = 'persistent' | 'live';

/** Which definition a domain's doc came from, and why: the line check and lint print. */
export interface NamedDoc {
  doc: DomainDoc;
  dom: LibvirtDomain;
  definition: Definition;
}

export const byName = (o: DomainSourceOptions): boolean => o.domain !== undefined || o.allDomains === true;

/**
 * Usage checks: a file or --domain (or --all-domains), not both; options that
 * only make sense by name. `inputs` are the file arguments given.
 */
export function checkSource(inputs: readonly string[], o: DomainSourceOptions, allowed: { all?: boolean } = {}): boolean {
  const named = byName(o);
  if (o.allDomains && !allowed.all) throw usageError('E_USAGE', '--all-domains is for lint and check', { where: '--all-domains' });
  if (o.allDomains && o.domain !== undefined)
    throw usageError('E_USAGE', '--domain and --all-domains exclude each other', { where: '--all-domains', hint: 'give one of them' });
  if (named && inputs.length > 0)
    throw usageError('E_USAGE', `give --domain or a file, not both (got '${inputs[0]}')`, { where: '--domain', hint: 'leave out the file argument' });
  if (!named) {
    for (const [flag, set] of [['--connect', o.connect !== undefined], ['--live', o.live], ['--live-only', o.liveOnly], ['--inactive', o.inactive]] as const)
      if (set) throw usageError('E_USAGE', `${flag} works on domains by name`, { where: flag, hint: 'add --domain NAME' });
    if (inputs.length === 0)
      throw usageError('E_USAGE', 'no domain given', { where: '--domain', hint: "name a domain XML file, '-' for stdin, or a libvirt domain with --domain NAME" });
    return false;
  }
  if (o.output !== undefined || o.inPlace)
    throw usageError('E_USAGE', `${o.inPlace ? '--in-place' : '-o'} is for files: by name, the change is defined into libvirt`, {
      where: o.inPlace ? '--in-place' : '-o',
      hint: 'leave it out (add --print-diff to see the change)',
    });
  if (o.live && o.liveOnly) throw usageError('E_USAGE', '--live and --live-only exclude each other', { where: '--live-only', hint: 'give one of them' });
  if (o.domain === '') throw usageError('E_USAGE', '--domain needs a name or UUID', { where: '--domain' });
  return true;
}

export const uriOf = (o: DomainSourceOptions): string => o.connect ?? defaultUri();

/** The connection to libvirt for -c (RPC on a local socket, else virsh). */
export async function connectFor(o: DomainSourceOptions): Promise<LibvirtConn> {
  const { openLibvirt } = await import('../libvirt/conn.js');
  return openLibvirt(uriOf(o));
}

export async function readDefinition(dom: LibvirtDomain, which: Definition): Promise<DomainDoc> {
  return DomainDoc.parse(await dom.dumpxml(which), dom.label);
}

/**
 * The definition a read-only command uses: `prefer`, else the one that exists
 * (a transient domain has only the live one, a stopped one only the persistent).
 */
export async function readNamed(dom: LibvirtDomain, prefer: Definition, strict: boolean): Promise<NamedDoc> {
  const active = isActive(dom.info);
  let definition: Definition = prefer;
  if (prefer === 'live' && !active) {
    if (strict)
      throw inputError('E_NOT_RUNNING', `${dom.info.name} is ${dom.info.state}: it has no live definition`, {
        file: dom.label,
        where: '--live',
        hint: `start it (virsh -c ${dom.conn.uri} start ${dom.info.name}), or leave out --live`,
      });
    definition = 'persistent';
  }
  if (prefer === 'persistent' && !dom.info.persistent) definition = 'live';
  return { doc: await readDefinition(dom, definition), dom, definition };
}

export const definitionNote = (n: NamedDoc): string =>
  `${n.dom.label}: read the ${n.definition} definition (${n.dom.info.persistent ? '' : 'transient, '}${n.dom.info.state})`;

/** The domains of --domain or --all-domains, each with the definition `prefer` says (see readNamed; strict: no fallback). */
export async function namedDocs(o: DomainSourceOptions, prefer: Definition, note?: (line: string) => void, strict = false): Promise<NamedDoc[]> {
  const conn = await connectFor(o);
  const refs = o.allDomains ? await LibvirtDomain.names(conn) : [o.domain!];
  const out: NamedDoc[] = [];
  for (const ref of refs) {
    let dom: LibvirtDomain;
    try {
      dom = await LibvirtDomain.lookup(conn, ref);
    } catch (e) {
      // Undefined between the listing and the lookup: nothing to read.
      if (o.allDomains && e instanceof VirshError && e.kind === 'unknown-domain') continue;
      throw e;
    }
    const n = await readNamed(dom, prefer, strict);
    note?.(definitionNote(n));
    out.push(n);
  }
  return out;
}
