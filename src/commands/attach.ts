// attach-tap, attach-macvtap, attach-direct: add an <interface> (and for
// devices vnet-virt owns, its record entry) to a domain XML.
import { inputError, usageError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { formatPci, interfacesOf, pciAddressesOf } from '../domain/interfaces.js';
import type { InterfaceView, PciAddress } from '../domain/interfaces.js';
import {
  deriveIfname,
  deriveMac,
  DIRECT_MODES,
  ifnameProblem,
  MACVTAP_MODES,
  macProblem,
  NIC_MODELS,
  normalizeMac,
} from '../domain/names.js';
import type { DirectMode, MacvtapMode } from '../domain/names.js';
import { addInterface, addRecordEntry } from '../domain/patch.js';
import { recordEntries, sameEntry } from '../domain/record.js';
import type { RecordEntry } from '../domain/record.js';
import { renderTemplate } from '../domain/template.js';
import { emitDocument, readDomain } from './io.js';
import type { OutputOptions } from './io.js';

export interface CommonAttachOptions extends OutputOptions {
  mac?: string;
  model?: string;
  pciAddress?: string;
}

export interface TapOptions extends CommonAttachOptions {
  tap?: string;
  bridge?: string;
  queues?: string;
  mtu?: string;
}

export interface MacvtapOptions extends CommonAttachOptions {
  lower?: string;
  macvtap?: string;
  mode?: string;
  vethPeer?: string;
  bridge?: string;
}

export interface DirectOptions extends CommonAttachOptions {
  source?: string;
  mode?: string;
  trustGuestRxFilters?: boolean;
}

/** What one attach asks for, after validation. */
export interface AttachSpec {
  type: 'ethernet' | 'direct';
  /** target dev (ethernet) or source dev (direct). */
  dev: string;
  mac: string;
  model: string;
  mode?: string | undefined;
  queues?: number | undefined;
  mtu?: number | undefined;
  trustGuestRxFilters?: 'yes' | undefined;
  pci?: PciAddress | undefined;
  entry?: RecordEntry | undefined;
}

export interface AttachResult {
  before: DomainDoc;
  after: DomainDoc;
  action: 'added' | 'unchanged';
  spec: AttachSpec;
}

// ---- option validation ----

export function checkIfname(value: string, option: string): string {
  const problem = ifnameProblem(value);
  if (problem) throw usageError('E_IFNAME_INVALID', `interface name '${value}' ${problem}`, { where: option, hint: 'give a name of 1-15 bytes without /, : or spaces' });
  return value;
}

export function checkMac(value: string, option = '--mac'): string {
  const problem = macProblem(value);
  if (problem) throw usageError('E_MAC_INVALID', `MAC '${value}' ${problem}`, { where: option, hint: 'give a unicast MAC such as 52:54:00:12:34:56' });
  return normalizeMac(value);
}

function checkInt(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw usageError('E_NUMBER_INVALID', `'${value}' is not a whole number from ${min} to ${max}`, { where: option });
  return n;
}

function checkModel(value: string | undefined): string {
  const model = value ?? 'virtio';
  if (!(NIC_MODELS as readonly string[]).includes(model))
    throw usageError('E_MODEL_UNKNOWN', `unknown NIC model '${model}'`, { where: '--model', hint: `use one of ${NIC_MODELS.join(', ')}` });
  return model;
}

function checkPci(value: string | undefined): PciAddress | undefined {
  if (value === undefined) return undefined;
  const m = value.match(/^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/);
  if (!m) throw usageError('E_PCI_INVALID', `'${value}' is not a PCI address`, { where: '--pci-address', hint: 'write it as [DDDD:]BB:SS.F, e.g. 0000:01:00.0' });
  const slot = Number.parseInt(m[3]!, 16);
  if (slot > 0x1f) throw usageError('E_PCI_INVALID', `slot 0x${m[3]} is over 0x1f`, { where: '--pci-address' });
  return { domain: Number.parseInt(m[1] ?? '0', 16), bus: Number.parseInt(m[2]!, 16), slot, function: Number.parseInt(m[4]!, 10) };
}

// ---- deriving names that are free in this domain ----

function freeIfname(doc: DomainDoc, taken: Set<string>, prefix: string): string {
  const name = doc.name ?? 'vm';
  for (let i = interfacesOf(doc).length; ; i++) {
    const candidate = deriveIfname(prefix, name, i);
    if (!taken.has(candidate)) return candidate;
  }
}

function freeMac(doc: DomainDoc, ifaces: InterfaceView[]): string {
  const used = new Set(ifaces.map((i) => i.mac));
  for (let i = ifaces.length; ; i++) {
    const mac = deriveMac(doc.identity, i);
    if (!used.has(mac)) return mac;
  }
}

const devOf = (i: InterfaceView): string | undefined => (i.type === 'direct' ? ('sourceDev' in i ? i.sourceDev : undefined) : i.targetDev);

// ---- the use case ----

function samePci(a: PciAddress, b: PciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}

/** Does the existing interface already say exactly what `spec` asks? */
function matches(i: InterfaceView, spec: AttachSpec, record: RecordEntry[], given: Set<keyof AttachSpec>): boolean {
  const want = (k: keyof AttachSpec, have: unknown): boolean => !given.has(k) || spec[k] === have;
  const entry = spec.entry;
  const recorded = entry && record.find((e) => e.dev === entry.dev);
  return (
    i.type === spec.type &&
    want('mac', i.mac) &&
    want('model', i.model) &&
    want('queues', i.queues) &&
    want('mtu', i.mtu) &&
    (spec.type !== 'direct' || ('sourceMode' in i && want('mode', i.sourceMode))) &&
    (!spec.pci || (i.pciAddress !== undefined && samePci(i.pciAddress, spec.pci))) &&
    (!entry || (recorded !== undefined && sameEntry(recorded, { ...entry, mac: i.mac ?? entry.mac })))
  );
}

export function planAttach(doc: DomainDoc, spec: AttachSpec, given: Set<keyof AttachSpec>, named: boolean): AttachResult {
  const ifaces = interfacesOf(doc);
  const file = doc.file;
  const sameDev = ifaces.filter((i) => devOf(i) === spec.dev && (spec.type === 'ethernet' ? i.type === 'ethernet' || i.targetDev === spec.dev : i.type === 'direct'));
  if (named) {
    const twin = sameDev.find((i) => (spec.type === 'direct' ? i.mac === spec.mac : true));
    if (twin && matches(twin, spec, recordEntries(doc), given)) return { before: doc, after: doc, action: 'unchanged', spec };
    if (twin && spec.type === 'ethernet')
      throw inputError('E_TARGET_IN_USE', `target dev '${spec.dev}' is already used by an interface with other settings`, {
        file,
        where: twin.xpath,
        hint: 'detach it first, or give the same options it has',
      });
  }
  const targetClash = spec.type === 'ethernet' && ifaces.find((i) => i.targetDev === spec.dev);
  if (targetClash)
    throw inputError('E_TARGET_IN_USE', `target dev '${spec.dev}' is already used by another interface`, { file, where: targetClash.xpath, hint: 'choose another device name' });
  const macClash = ifaces.find((i) => i.mac === spec.mac);
  if (macClash)
    throw inputError('E_MAC_IN_USE', `MAC ${spec.mac} is already used by another interface`, { file, where: macClash.xpath, hint: 'choose another --mac, or leave it out to derive a free one' });
  if (spec.pci) {
    const clash = pciAddressesOf(doc).find(([, a]) => samePci(a, spec.pci!));
    if (clash)
      throw inputError('E_PCI_IN_USE', `PCI address ${formatPci(spec.pci)} is already used by <${clash[0].name}>`, { file, where: doc.xpath(clash[0]), hint: 'choose a free --pci-address, or leave it out and let libvirt assign one' });
  }
  const block = renderTemplate(spec.type === 'ethernet' ? 'interface-ethernet' : 'interface-direct', {
    mac: spec.mac,
    dev: spec.dev,
    model: spec.model,
    mode: spec.mode,
    queues: spec.queues,
    mtu: spec.mtu,
    trustGuestRxFilters: spec.trustGuestRxFilters,
    ...(spec.pci && {
      pciDomain: `0x${spec.pci.domain.toString(16).padStart(4, '0')}`,
      pciBus: `0x${spec.pci.bus.toString(16).padStart(2, '0')}`,
      pciSlot: `0x${spec.pci.slot.toString(16).padStart(2, '0')}`,
      pciFunction: `0x${spec.pci.function.toString(16)}`,
    }),
  });
  let after = addInterface(doc, block);
  if (spec.entry) after = addRecordEntry(after, spec.entry);
  return { before: doc, after, action: 'added', spec };
}

function given<T extends object>(opts: T, map: Partial<Record<keyof T, keyof AttachSpec>>): Set<keyof AttachSpec> {
  const out = new Set<keyof AttachSpec>();
  for (const [k, v] of Object.entries(map)) if ((opts as Record<string, unknown>)[k] !== undefined) out.add(v as keyof AttachSpec);
  return out;
}

export function tapSpec(doc: DomainDoc, o: TapOptions): { spec: AttachSpec; named: boolean; given: Set<keyof AttachSpec> } {
  const ifaces = interfacesOf(doc);
  const dev = o.tap !== undefined ? checkIfname(o.tap, '--tap') : freeIfname(doc, new Set(ifaces.map((i) => i.targetDev ?? '')), 't-');
  const mac = o.mac !== undefined ? checkMac(o.mac) : freeMac(doc, ifaces);
  const bridge = o.bridge !== undefined ? checkIfname(o.bridge, '--bridge') : undefined;
  const queues = checkInt(o.queues, '--queues', 1, 256);
  const mtu = checkInt(o.mtu, '--mtu', 68, 65535);
  const spec: AttachSpec = {
    type: 'ethernet',
    dev,
    mac,
    model: checkModel(o.model),
    queues,
    mtu,
    pci: checkPci(o.pciAddress),
    entry: { kind: 'tap', dev, mac, bridge, queues, mtu },
  };
  return { spec, named: o.tap !== undefined, given: given(o, { mac: 'mac', model: 'model', queues: 'queues', mtu: 'mtu' }) };
}

export function macvtapSpec(doc: DomainDoc, o: MacvtapOptions): { spec: AttachSpec; named: boolean; given: Set<keyof AttachSpec> } {
  if (o.lower === undefined) throw usageError('E_USAGE', 'attach-macvtap needs --lower DEV, the device the macvtap sits on', { where: '--lower' });
  if (o.macvtap === undefined) throw usageError('E_USAGE', 'attach-macvtap needs --macvtap NAME, the macvtap device QEMU opens', { where: '--macvtap' });
  if ((o.vethPeer === undefined) !== (o.bridge === undefined))
    throw usageError('E_USAGE', '--veth-peer and --bridge go together: the peer end is put on the bridge', { where: o.vethPeer === undefined ? '--bridge' : '--veth-peer' });
  const mode = (o.mode ?? 'vepa') as MacvtapMode;
  if (!MACVTAP_MODES.includes(mode))
    throw usageError('E_MODE_UNKNOWN', `unknown macvtap mode '${o.mode}'`, { where: '--mode', hint: `use one of ${MACVTAP_MODES.join(', ')}` });
  const ifaces = interfacesOf(doc);
  const dev = checkIfname(o.macvtap, '--macvtap');
  const lower = checkIfname(o.lower, '--lower');
  const vethPeer = o.vethPeer !== undefined ? checkIfname(o.vethPeer, '--veth-peer') : undefined;
  const bridge = o.bridge !== undefined ? checkIfname(o.bridge, '--bridge') : undefined;
  if (dev === lower || dev === vethPeer || (vethPeer !== undefined && vethPeer === lower))
    throw usageError('E_USAGE', 'the macvtap, its lower device and the veth peer need three different names', { where: '--macvtap' });
  const mac = o.mac !== undefined ? checkMac(o.mac) : freeMac(doc, ifaces);
  const spec: AttachSpec = {
    type: 'ethernet',
    dev,
    mac,
    model: checkModel(o.model),
    pci: checkPci(o.pciAddress),
    entry: { kind: 'macvtap', dev, mac, lower, mode, vethPeer, bridge },
  };
  return { spec, named: true, given: given(o, { mac: 'mac', model: 'model' }) };
}

export function directSpec(doc: DomainDoc, o: DirectOptions): { spec: AttachSpec; named: boolean; given: Set<keyof AttachSpec> } {
  if (o.source === undefined) throw usageError('E_USAGE', 'attach-direct needs --source DEV, the host device to sit on', { where: '--source' });
  const spelled = o.mode ?? 'vepa';
  const mode = (spelled === 'passthru' ? 'passthrough' : spelled) as DirectMode;
  if (!DIRECT_MODES.includes(mode))
    throw usageError('E_MODE_UNKNOWN', `unknown direct mode '${spelled}'`, { where: '--mode', hint: `use one of ${DIRECT_MODES.join(', ')}` });
  const ifaces = interfacesOf(doc);
  const spec: AttachSpec = {
    type: 'direct',
    dev: checkIfname(o.source, '--source'),
    mac: o.mac !== undefined ? checkMac(o.mac) : freeMac(doc, ifaces),
    model: checkModel(o.model),
    mode,
    trustGuestRxFilters: o.trustGuestRxFilters ? 'yes' : undefined,
    pci: checkPci(o.pciAddress),
  };
  return { spec, named: o.mac !== undefined, given: given(o, { mac: 'mac', model: 'model', mode: 'mode' }) };
}

export type SpecBuilder<O> = (doc: DomainDoc, o: O) => { spec: AttachSpec; named: boolean; given: Set<keyof AttachSpec> };

/** Before the XML is written: --provision makes the host side real first (see host/provision). */
export type BeforeWrite = (result: AttachResult) => Promise<void>;

export async function runAttach<O extends CommonAttachOptions>(
  command: string,
  input: string,
  opts: O,
  build: SpecBuilder<O>,
  out: (s: string) => void,
  beforeWrite?: BeforeWrite,
): Promise<void> {
  const doc = readDomain(input);
  const { spec, named, given: g } = build(doc, opts);
  const result = planAttach(doc, spec, g, named);
  if (beforeWrite) await beforeWrite(result);
  const where = await emitDocument(input, doc.text, result.after.text, opts, out);
  if (opts.json) {
    const { entry, ...iface } = spec;
    out(
      JSON.stringify({
        command,
        file: doc.file,
        action: result.action,
        interface: { ...iface, pci: spec.pci && formatPci(spec.pci) },
        record: entry ?? null,
        output: where ?? null,
        ...(where === '-' && { xml: result.after.text }),
      }) + '\n',
    );
  }
}
