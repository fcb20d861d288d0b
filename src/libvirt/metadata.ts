// The record as `virsh metadata --set` wants it: the element without its
// prefix and without xmlns (libvirt adds both from --uri and --key).
import type { DomainDoc } from '../domain/doc.js';
import { entryXml, findRecord } from '../domain/record.js';
import { escapeAttr } from '../domain/xml.js';

/** The key libvirt prefixes the element with: the prefix vnet-virt writes in files. */
export { RECORD_NS, RECORD_PREFIX as RECORD_KEY } from '../domain/record.js';

/** The record of `doc` for `virsh metadata --set`, or undefined when it has none. */
export function recordForMetadata(doc: DomainDoc): string | undefined {
  const record = findRecord(doc);
  if (!record) return undefined;
  const attrs = record.el.attrs
    .filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
    .map((a) => ` ${a.name.replace(/^[^:]*:/, '')}="${escapeAttr(a.value)}"`)
    .join('');
  return `<record${attrs}>${record.entries.map((e) => entryXml(e.entry, '')).join('')}</record>`;
}
