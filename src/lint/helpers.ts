// Small reads the rules share: where an element is, what the record and the
// host say about a device, and how to name the other places of a conflict.
import { xpathOf } from '../domain/xml.js';
import type { XmlElement } from '../domain/xml.js';
import type { InterfaceView } from '../domain/interfaces.js';
import type { MacvtapEntry, RecordEntry } from '../domain/record.js';
import type { Link } from '../host/facts.js';
import type { Claim, FileContext } from './types.js';

export const at = (el: XmlElement): { line: number; xpath: string } => ({ line: el.line, xpath: xpathOf(el) });

/** The place to report something about an interface's target: <target>, else the interface. */
export const targetPlace = (i: InterfaceView): { line: number; xpath: string } =>
  i.targetEl ? at(i.targetEl) : { line: i.line, xpath: i.xpath };

export const macPlace = (i: InterfaceView): { line: number; xpath: string } =>
  i.macEl ? at(i.macEl) : { line: i.line, xpath: i.xpath };

/** Prefixes libvirt treats as its own generated names (src/conf/domain_conf.c, virDomainNetDefParseXML). */
export const RESERVED_PREFIXES = ['vnet', 'vif', 'macvtap', 'macvlan'] as const;

export const reservedPrefixOf = (dev: string): string | undefined => RESERVED_PREFIXES.find((p) => dev.startsWith(p));

export const isUnmanaged = (i: InterfaceView): boolean => i.managed === 'no';

/** libvirt drops such a target at define and generates its own name, so the name cannot clash or matter. */
export const isAutoRenamed = (i: InterfaceView): boolean =>
  i.targetDev !== undefined && !isUnmanaged(i) && reservedPrefixOf(i.targetDev) !== undefined;

export function recordedFor(ctx: FileContext, dev: string | undefined): { entry: RecordEntry; el: XmlElement } | undefined {
  if (dev === undefined || !ctx.record) return undefined;
  return ctx.record.entries.find((e) => e.entry.dev === dev);
}

export function recordedMacvtap(ctx: FileContext, dev: string | undefined): MacvtapEntry | undefined {
  const r = recordedFor(ctx, dev);
  return r?.entry.kind === 'macvtap' ? r.entry : undefined;
}

export function liveLink(ctx: FileContext, dev: string | undefined): Link | undefined {
  return dev === undefined ? undefined : ctx.host?.links.get(dev);
}

export const where = (ctx: FileContext): string => (ctx.host?.netns ? ` in namespace ${ctx.host.netns}` : '');

/** "line 12" in the same file, else "other.xml:12". */
export function placeName(self: { file: string }, other: Claim): string {
  return other.file === self.file ? `line ${other.line}` : `${other.file}:${other.line}`;
}

/** Names the first few others; a value shared by hundreds of files must not make a message of hundreds of names. */
export function othersList(self: Claim, others: Claim[], total: number, max = 3): string {
  const named = others.slice(0, max).map((o) => placeName(self, o)).join(', ');
  return total > max ? `${named} and ${total - max} more` : named;
}
