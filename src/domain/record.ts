// vnet-virt's record in <metadata>: per managed interface, what the host must
// have. libvirt keeps namespaced metadata untouched, so the domain XML carries
// the host half too. The namespace URI carries the record's version.
import type { DomainDoc } from './doc.js';
import { attr, childElements, escapeAttr, localName, namespaceOf } from './xml.js';
import type { XmlElement } from './xml.js';
import type { MacvtapMode } from './names.js';

export const RECORD_NS = 'http://vnet-virt.dev/xmlns/record/1';
export const RECORD_PREFIX = 'vnet';

export interface TapEntry {
  kind: 'tap';
  dev: string;
  mac: string;
  bridge?: string | undefined;
  queues?: number | undefined;
  mtu?: number | undefined;
}

export interface MacvtapEntry {
  kind: 'macvtap';
  dev: string;
  mac: string;
  lower: string;
  mode: MacvtapMode;
  /** The other end of a veth pair whose end `lower` carries the macvtap. */
  vethPeer?: string | undefined;
  /** The bridge `vethPeer` is enslaved to. */
  bridge?: string | undefined;
}

export type RecordEntry = TapEntry | MacvtapEntry;

export interface RecordView {
  el: XmlElement;
  entries: { entry: RecordEntry; el: XmlElement }[];
}

const FIELDS: Record<RecordEntry['kind'], [keyof TapEntry | keyof MacvtapEntry, string][]> = {
  tap: [
    ['dev', 'dev'],
    ['mac', 'mac'],
    ['bridge', 'bridge'],
    ['queues', 'queues'],
    ['mtu', 'mtu'],
  ],
  macvtap: [
    ['dev', 'dev'],
    ['mac', 'mac'],
    ['lower', 'lower'],
    ['mode', 'mode'],
    ['vethPeer', 'veth-peer'],
    ['bridge', 'bridge'],
  ],
};

export function findRecord(doc: DomainDoc): RecordView | undefined {
  const metadata = doc.metadata;
  if (!metadata) return undefined;
  const el = childElements(metadata).find((c) => namespaceOf(c) === RECORD_NS);
  if (!el) return undefined;
  const entries: RecordView['entries'] = [];
  for (const c of childElements(el)) {
    const kind = localName(c);
    if (namespaceOf(c) !== RECORD_NS || (kind !== 'tap' && kind !== 'macvtap')) continue;
    const out: Record<string, unknown> = { kind };
    for (const [key, xmlName] of FIELDS[kind]) {
      const v = attr(c, xmlName);
      if (v === undefined) continue;
      out[key] = key === 'queues' || key === 'mtu' ? Number(v) : key === 'mac' ? v.toLowerCase() : v;
    }
    entries.push({ entry: out as unknown as RecordEntry, el: c });
  }
  return { el, entries };
}

export function recordEntries(doc: DomainDoc): RecordEntry[] {
  return findRecord(doc)?.entries.map((e) => e.entry) ?? [];
}

/** The entry element of a record, written with `prefix`, as one line. */
export function entryXml(entry: RecordEntry, prefix: string): string {
  const attrs = FIELDS[entry.kind]
    .map(([key, xmlName]) => [xmlName, (entry as unknown as Record<string, unknown>)[key]] as const)
    .filter(([, v]) => v !== undefined)
    .map(([n, v]) => `${n}="${escapeAttr(String(v))}"`)
    .join(' ');
  return `<${prefix ? prefix + ':' : ''}${entry.kind} ${attrs}/>`;
}

export function recordPrefix(record: XmlElement): string {
  const colon = record.name.indexOf(':');
  return colon === -1 ? '' : record.name.slice(0, colon);
}

export function sameEntry(a: RecordEntry, b: RecordEntry): boolean {
  return entryXml(a, 'x') === entryXml(b, 'x');
}
