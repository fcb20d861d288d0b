// detach: remove an interface, chosen by MAC or target device, and its record entry.
import { inputError, usageError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { interfacesOf } from '../domain/interfaces.js';
import type { InterfaceView } from '../domain/interfaces.js';
import { removeInterface, removeRecordEntry } from '../domain/patch.js';
import { findRecord } from '../domain/record.js';
import type { RecordEntry } from '../domain/record.js';
import { checkIfname, checkMac } from '../domain/names.js';
import { checkOutputOptions, editing, emitDocument, readDomain } from './io.js';
import type { OutputOptions } from './io.js';

export interface DetachOptions extends OutputOptions {
  mac?: string;
  target?: string;
}

export interface DetachResult {
  before: DomainDoc;
  after: DomainDoc;
  /** The interface removed; null when only a record entry without its interface was removed. */
  removed: InterfaceView | null;
  entry: RecordEntry | null;
}

const deviceOf = (i: InterfaceView): string | undefined => (i.type === 'direct' && 'sourceDev' in i ? i.sourceDev : i.targetDev);

/** Removes the one interface with this MAC or target (or direct source) device, and its record entry. */
export function planDetach(doc: DomainDoc, by: { mac?: string | undefined; target?: string | undefined }): DetachResult {
  const { mac, target } = by;
  const ifaces = interfacesOf(doc);
  const hits = ifaces.filter((i) => (mac !== undefined ? i.mac === mac : i.targetDev === target || (i.type === 'direct' && deviceOf(i) === target)));
  const what = mac !== undefined ? `MAC ${mac}` : `target dev '${target}'`;
  const record = findRecord(doc);
  if (hits.length === 0) {
    // A record entry whose interface is gone (edited by hand) is removed on its own.
    const stale = target !== undefined ? record?.entries.find((e) => e.entry.dev === target) : undefined;
    if (stale) return { before: doc, after: removeRecordEntry(doc, target!), removed: null, entry: stale.entry };
    const present = ifaces.map((i) => `${i.mac ?? 'no MAC'} (${deviceOf(i) ?? i.type})`).join(', ');
    throw inputError('E_NOT_FOUND', `no interface with ${what}`, {
      file: doc.file,
      where: '/domain/devices',
      hint: present ? `the interfaces are: ${present}` : 'the domain has no interfaces',
    });
  }
  if (hits.length > 1)
    throw inputError('E_AMBIGUOUS', `${hits.length} interfaces have ${what}`, {
      file: doc.file,
      where: hits[1]!.xpath,
      hint: mac !== undefined ? 'fix the domain: a MAC must be unique' : 'detach by --mac instead',
    });
  const hit = hits[0]!;
  const entry = hit.targetDev !== undefined ? (record?.entries.find((e) => e.entry.dev === hit.targetDev)?.entry ?? null) : null;
  // Also without an entry of its own: the record may remember how <devices> looked.
  const after = removeRecordEntry(removeInterface(doc, hit.index), entry?.dev);
  return { before: doc, after, removed: hit, entry };
}

/** Which interface: exactly one of --mac and --target, checked. */
export function detachBy(opts: DetachOptions): { mac: string | undefined; target: string | undefined } {
  if ((opts.mac === undefined) === (opts.target === undefined))
    throw usageError('E_USAGE', 'detach needs exactly one of --mac MAC or --target DEV', { where: '--mac', hint: 'name the interface by one of them' });
  const mac = opts.mac !== undefined ? checkMac(opts.mac) : undefined;
  const target = opts.target !== undefined ? checkIfname(opts.target, '--target') : undefined;
  return { mac, target };
}

/** The --json result of a detach (schemas/attach-result.json). */
export function detachJson(file: string, result: DetachResult, emitted: object): Record<string, unknown> {
  const r = result.removed;
  const iface = r && { type: r.type, dev: deviceOf(r), mac: r.mac, model: r.model, xpath: r.xpath };
  return { command: 'detach', file, action: 'removed', interface: iface, record: result.entry, ...emitted };
}

export async function runDetach(input: string, opts: DetachOptions, out: (s: string) => void): Promise<void> {
  checkOutputOptions(input, opts);
  const by = detachBy(opts);
  await editing(input, opts, async () => {
    const doc = readDomain(input);
    const result = planDetach(doc, by);
    const emitted = await emitDocument(input, doc.text, result.after.text, opts, out);
    if (opts.json) out(JSON.stringify(detachJson(doc.file, result, emitted)) + '\n');
  });
}
