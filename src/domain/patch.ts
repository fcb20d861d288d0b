// Edits of a DomainDoc that vnet-virt makes: an interface in <devices>, an
// entry in the record. Each is the exact inverse of its removal, so attach
// followed by detach gives back the original bytes.
import type { DomainDoc } from './doc.js';
import { findRecord, entryXml, recordPrefix, RECORD_NS, RECORD_PREFIX } from './record.js';
import type { RecordEntry } from './record.js';
import { renderTemplate } from './template.js';
import { childElements } from './xml.js';
import type { XmlElement } from './xml.js';

/** Children of <domain> that libvirt writes before <metadata>. */
const BEFORE_METADATA = new Set(['name', 'uuid', 'genid', 'title', 'description']);
/** Devices that libvirt writes before the interfaces (virsh dumpxml order). */
const BEFORE_INTERFACES = new Set(['emulator', 'disk', 'controller', 'lease', 'filesystem']);

/** The last child of `parent` whose name is in `names`; null (insert first) when there is none. */
function lastOf(parent: XmlElement, names: Set<string>): XmlElement | null {
  return childElements(parent).filter((c) => names.has(c.name)).pop() ?? null;
}

/** Adds an interface after the last one, or where libvirt's own order puts it; creates <devices> if missing. */
export function addInterface(doc: DomainDoc, block: string): DomainDoc {
  const devices = doc.devices;
  if (!devices) return doc.appendChild(doc.root, `<devices>\n${indent(block)}\n</devices>`);
  const interfaces = childElements(devices, 'interface');
  return doc.appendChild(devices, block, interfaces[interfaces.length - 1] ?? lastOf(devices, BEFORE_INTERFACES));
}

/**
 * Removes an interface. An emptied <devices> stays: real files carry empty
 * ones (virt-clone writes them) and those must survive an attach + detach.
 */
export function removeInterface(doc: DomainDoc, index: number): DomainDoc {
  const el = doc.interfaceElements()[index];
  return el ? doc.removeElement(el) : doc;
}

export function addRecordEntry(doc: DomainDoc, entry: RecordEntry): DomainDoc {
  const record = findRecord(doc);
  if (record) {
    const last = record.entries[record.entries.length - 1]?.el;
    return doc.appendChild(record.el, entryXml(entry, recordPrefix(record.el)), last);
  }
  const entryLine = entryXml(entry, RECORD_PREFIX);
  const metadata = doc.metadata;
  if (metadata) return doc.appendChild(metadata, renderTemplate('record', { ns: RECORD_NS }, { entry: entryLine }));
  return doc.appendChild(doc.root, renderTemplate('metadata', { ns: RECORD_NS }, { entry: entryLine }), lastOf(doc.root, BEFORE_METADATA));
}

/** Removes the record entry for `dev`; an emptied record, then an emptied <metadata>, goes too. */
export function removeRecordEntry(doc: DomainDoc, dev: string): DomainDoc {
  const record = findRecord(doc);
  const hit = record?.entries.find((e) => e.entry.dev === dev);
  if (!record || !hit) return doc;
  let out = doc.removeElement(hit.el);
  const rec = findRecord(out);
  if (rec && rec.entries.length === 0 && out.isEmpty(rec.el)) out = out.removeElement(rec.el);
  const metadata = out.metadata;
  if (metadata && out.isEmpty(metadata)) out = out.removeElement(metadata);
  return out;
}

const indent = (block: string): string =>
  block
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
