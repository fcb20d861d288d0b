// Edits of a DomainDoc that vnet-virt makes: an interface in <devices>, an
// entry in the record. Each is the exact inverse of its removal, so attach
// followed by detach gives back the original bytes. Where an attach has to
// create <devices>, or write into an empty <devices>/<metadata> whose form a
// removal cannot rebuild (`<devices/>`, `<metadata></metadata>`), the record
// keeps the element's original text (was-devices, was-metadata) and the
// detach that empties it puts that text back.
import type { DomainDoc } from './doc.js';
import { findRecord, entryXml, recordPrefix, RECORD_NS, RECORD_PREFIX } from './record.js';
import type { RecordEntry } from './record.js';
import { renderTemplate } from './template.js';
import { attr, childElements } from './xml.js';
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

/**
 * The original text of <devices> when adding an interface to it could not be
 * undone by a plain removal: '' when there is none, its text when it is empty
 * and written on one line (`<devices/>`, `<devices></devices>`).
 */
export function devicesToRemember(doc: DomainDoc): string | undefined {
  const devices = doc.devices;
  if (!devices) return '';
  const inner = doc.text.slice(devices.openEnd, devices.closeStart);
  return doc.isEmpty(devices) && !inner.includes('\n') ? doc.text.slice(devices.start, devices.end) : undefined;
}

/**
 * Adds a record entry (or, with `entry` undefined, only a record that keeps
 * `wasDevices`). A new record remembers an empty <metadata> it goes into.
 */
export function addRecordEntry(doc: DomainDoc, entry: RecordEntry | undefined, wasDevices?: string): DomainDoc {
  const record = findRecord(doc);
  if (record) {
    if (!entry) return doc;
    const last = record.entries[record.entries.length - 1]?.el;
    return doc.appendChild(record.el, entryXml(entry, recordPrefix(record.el)), last);
  }
  const raw: Record<string, string> = entry ? { entry: entryXml(entry, RECORD_PREFIX) } : {};
  const metadata = doc.metadata;
  if (metadata) {
    const wasMetadata = doc.isEmpty(metadata) ? doc.text.slice(metadata.start, metadata.end) : undefined;
    return doc.appendChild(metadata, renderTemplate('record', { ns: RECORD_NS, wasDevices, wasMetadata }, raw));
  }
  return doc.appendChild(doc.root, renderTemplate('metadata', { ns: RECORD_NS, wasDevices }, raw), lastOf(doc.root, BEFORE_METADATA));
}

/**
 * Removes the record entry for `dev` (if any). A record left without entries
 * goes, and puts back what it remembers: an emptied <devices> as it was (or
 * away, if attach created it), an emptied <metadata> as it was (or away).
 */
export function removeRecordEntry(doc: DomainDoc, dev: string | undefined): DomainDoc {
  const hit = findRecord(doc)?.entries.find((e) => e.entry.dev === dev);
  let out = hit ? doc.removeElement(hit.el) : doc;
  const record = findRecord(out);
  if (!record || record.entries.length > 0 || !out.isEmpty(record.el)) return out;
  const wasDevices = attr(record.el, 'was-devices');
  const wasMetadata = attr(record.el, 'was-metadata');
  // What it remembers of <devices> is put back only once <devices> is empty: until then the record stays.
  if (wasDevices !== undefined && out.devices && !out.isEmpty(out.devices)) return out;
  out = out.removeElement(record.el);
  const devices = out.devices;
  if (devices && wasDevices !== undefined)
    out = wasDevices === '' ? out.removeElement(devices) : out.splice(devices.start, devices.end, wasDevices);
  const metadata = out.metadata;
  if (metadata && out.isEmpty(metadata))
    out = wasMetadata === undefined ? out.removeElement(metadata) : out.splice(metadata.start, metadata.end, wasMetadata);
  return out;
}

const indent = (block: string): string =>
  block
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
