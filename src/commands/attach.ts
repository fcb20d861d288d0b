// attach-tap, attach-macvtap, attach-direct: add an <interface> (and for
// devices vnet-virt owns, its record entry) to a domain XML.
import { inputError, usageError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { formatPci, interfacesOf, pciAddressesOf } from '../domain/interfaces.js';
import type { InterfaceView, PciAddress } from '../domain/interfaces.js';
import { checkIfname, checkMac, checkMode, DIRECT_MODES, MACVTAP_MODES, NIC_MODELS } from '../domain/names.js';
import type { DirectMode, MacvtapMode } from '../domain/names.js';
import { deriveIfname, deriveMac } from '../domain/derive.js';
import { addInterface, addRecordEntry, devicesToRemember } from '../domain/patch.js';
import { findRecord, recordEntries, sameEntry } from '../domain/record.js';
import type { RecordEntry } from '../domain/record.js';
import { renderTemplate } from '../domain/template.js';
import { checkOutputOptions, editing, emitDocument, readDomain } from './io.js';
import type { Emitted, OutputOptions } from './io.js';

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
  /** What the interface in `after` says (for 'unchanged', the one that was already there). */
  spec: AttachSpec;
  /** Where that interface is in `after`. */
  xpath: string;
}

/** A spec derived from the options and the domain. */
export interface BuiltSpec {
  spec: AttachSpec;
  /** The command names its device, so finding exactly that interface means "nothing to do". */
  named: boolean;
  /** The spec fields the user gave explicitly (only those must match an existing interface). */
  given: Set<keyof AttachSpec>;
}

/** Checks option values first (usage errors before any file is read), then derives the spec from the domain. */
export type SpecBuilder<O> = (o: O) => (doc: DomainDoc) => BuiltSpec;

// ---- option validation ----

function checkInt(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw usageError('E_NUMBER_INVALID', `'${value}' is not a whole number from ${min} to ${max}`, {
      where: option,
      hint: `give ${option} a number from ${min} to ${max}`,
    });
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
  const hint = 'write it as [DDDD:]BB:SS.F with a slot up to 1f, e.g. 0000:01:00.0';
  if (!m) throw usageError('E_PCI_INVALID', `'${value}' is not a PCI address`, { where: '--pci-address', hint });
  const slot = Number.parseInt(m[3]!, 16);
  if (slot > 0x1f) throw usageError('E_PCI_INVALID', `slot 0x${m[3]} of '${value}' is over 0x1f`, { where: '--pci-address', hint });
  return { domain: Number.parseInt(m[1] ?? '0', 16), bus: Number.parseInt(m[2]!, 16), slot, function: Number.parseInt(m[4]!, 10) };
}

function explicit<T extends object>(opts: T, map: Partial<Record<keyof T, keyof AttachSpec>>): Set<keyof AttachSpec> {
  const out = new Set<keyof AttachSpec>();
  for (const [k, v] of Object.entries(map)) if ((opts as Record<string, unknown>)[k] !== undefined) out.add(v as keyof AttachSpec);
  return out;
}

// ---- names and MACs that are free in this domain ----

interface NameUse {
  /** 'target' and 'source' come from <interface>s, the others from record entries. */
  role: 'target' | 'source' | 'lower' | 'peer' | 'stale';
  what: string;
  where: string;
}

/** Host device names the domain already uses, and by what. */
function namesInUse(doc: DomainDoc, ifaces: InterfaceView[]): Map<string, NameUse> {
  const used = new Map<string, NameUse>();
  for (const i of ifaces) {
    if (i.targetDev) used.set(i.targetDev, { role: 'target', what: 'the target of another interface', where: i.xpath });
    if (i.type === 'direct' && 'sourceDev' in i && i.sourceDev && !used.has(i.sourceDev))
      used.set(i.sourceDev, { role: 'source', what: 'the source of a direct interface', where: i.xpath });
  }
  const record = findRecord(doc);
  for (const { entry: e, el } of record?.entries ?? []) {
    const where = doc.xpath(el);
    if (!used.has(e.dev)) used.set(e.dev, { role: 'stale', what: 'in the record without its interface', where });
    if (e.kind !== 'macvtap') continue;
    if (!used.has(e.lower)) used.set(e.lower, { role: 'lower', what: `the lower device of macvtap '${e.dev}'`, where });
    if (e.vethPeer && !used.has(e.vethPeer)) used.set(e.vethPeer, { role: 'peer', what: `the veth peer of macvtap '${e.dev}'`, where });
  }
  return used;
}

/**
 * A device name of the spec the domain already uses otherwise. The new device
 * may be nothing else yet; its lower device and veth peer may be shared with
 * other macvtaps, but may not be a device QEMU opens.
 */
function nameClash(spec: AttachSpec, used: Map<string, NameUse>): { name: string; use: NameUse } | undefined {
  const own = used.get(spec.dev);
  if (own) return { name: spec.dev, use: own };
  if (spec.entry?.kind !== 'macvtap') return undefined;
  for (const name of [spec.entry.lower, spec.entry.vethPeer]) {
    const use = name === undefined ? undefined : used.get(name);
    if (name !== undefined && use?.role === 'target') return { name, use };
  }
  return undefined;
}

function freeIfname(doc: DomainDoc, ifaces: InterfaceView[], prefix: string): string {
  const used = namesInUse(doc, ifaces);
  for (let i = ifaces.length; ; i++) {
    const candidate = deriveIfname(prefix, doc.name ?? 'vm', i);
    if (!used.has(candidate)) return candidate;
  }
}

function freeMac(doc: DomainDoc, ifaces: InterfaceView[]): string {
  const used = new Set(ifaces.map((i) => i.mac));
  for (let i = ifaces.length; ; i++) {
    const mac = deriveMac(doc.identity, i);
    if (!used.has(mac)) return mac;
  }
}

// ---- spec builders, one per command ----

export const tapSpec: SpecBuilder<TapOptions> = (o) => {
  const tap = o.tap !== undefined ? checkIfname(o.tap, '--tap') : undefined;
  const mac = o.mac !== undefined ? checkMac(o.mac) : undefined;
  const bridge = o.bridge !== undefined ? checkIfname(o.bridge, '--bridge') : undefined;
  const queues = checkInt(o.queues, '--queues', 1, 256);
  const mtu = checkInt(o.mtu, '--mtu', 68, 65535);
  const model = checkModel(o.model);
  const pci = checkPci(o.pciAddress);
  if (tap !== undefined && tap === bridge)
    throw usageError('E_USAGE', `the tap and its bridge cannot both be named '${tap}'`, { where: '--bridge', hint: 'give the bridge its own name' });
  return (doc) => {
    const ifaces = interfacesOf(doc);
    const dev = tap ?? freeIfname(doc, ifaces, 't-');
    const m = mac ?? freeMac(doc, ifaces);
    return {
      spec: { type: 'ethernet', dev, mac: m, model, queues, mtu, pci, entry: { kind: 'tap', dev, mac: m, bridge, queues, mtu } },
      named: tap !== undefined,
      given: explicit(o, { mac: 'mac', model: 'model', queues: 'queues', mtu: 'mtu', pciAddress: 'pci' }),
    };
  };
};

export const macvtapSpec: SpecBuilder<MacvtapOptions> = (o) => {
  if (o.lower === undefined) throw usageError('E_USAGE', 'attach-macvtap needs --lower DEV, the device the macvtap sits on', { where: '--lower' });
  if (o.macvtap === undefined) throw usageError('E_USAGE', 'attach-macvtap needs --macvtap NAME, the macvtap device QEMU opens', { where: '--macvtap' });
  if ((o.vethPeer === undefined) !== (o.bridge === undefined))
    throw usageError('E_USAGE', '--veth-peer and --bridge go together: the peer end is put on the bridge', {
      where: o.vethPeer === undefined ? '--bridge' : '--veth-peer',
      hint: 'give both, or neither',
    });
  const mode = checkMode<MacvtapMode>(o.mode, MACVTAP_MODES, { passthrough: 'passthru' }, 'macvtap');
  const dev = checkIfname(o.macvtap, '--macvtap');
  const lower = checkIfname(o.lower, '--lower');
  const vethPeer = o.vethPeer !== undefined ? checkIfname(o.vethPeer, '--veth-peer') : undefined;
  const bridge = o.bridge !== undefined ? checkIfname(o.bridge, '--bridge') : undefined;
  const names = [dev, lower, vethPeer, bridge].filter((n) => n !== undefined);
  if (new Set(names).size !== names.length)
    throw usageError('E_USAGE', 'the macvtap, its lower device, the veth peer and the bridge need different names', { where: '--macvtap', hint: 'give each device its own name' });
  const mac = o.mac !== undefined ? checkMac(o.mac) : undefined;
  const model = checkModel(o.model);
  const pci = checkPci(o.pciAddress);
  return (doc) => {
    const m = mac ?? freeMac(doc, interfacesOf(doc));
    return {
      spec: { type: 'ethernet', dev, mac: m, model, pci, entry: { kind: 'macvtap', dev, mac: m, lower, mode, vethPeer, bridge } },
      named: true,
      given: explicit(o, { mac: 'mac', model: 'model', pciAddress: 'pci' }),
    };
  };
};

export const directSpec: SpecBuilder<DirectOptions> = (o) => {
  if (o.source === undefined) throw usageError('E_USAGE', 'attach-direct needs --source DEV, the host device to sit on', { where: '--source' });
  const mode = checkMode<DirectMode>(o.mode, DIRECT_MODES, { passthru: 'passthrough' }, 'direct');
  const dev = checkIfname(o.source, '--source');
  const mac = o.mac !== undefined ? checkMac(o.mac) : undefined;
  const model = checkModel(o.model);
  const pci = checkPci(o.pciAddress);
  const trustGuestRxFilters = o.trustGuestRxFilters ? 'yes' : undefined;
  return (doc) => ({
    spec: { type: 'direct', dev, mac: mac ?? freeMac(doc, interfacesOf(doc)), model, mode, trustGuestRxFilters, pci },
    named: mac !== undefined,
    given: explicit(o, { mac: 'mac', model: 'model', mode: 'mode', trustGuestRxFilters: 'trustGuestRxFilters', pciAddress: 'pci' }),
  });
};

// ---- the use case ----

function samePci(a: PciAddress, b: PciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}

/** What an existing interface says, in the terms of a spec. */
function specOf(i: InterfaceView, entry: RecordEntry | undefined): AttachSpec {
  return {
    type: i.type === 'direct' ? 'direct' : 'ethernet',
    dev: (i.type === 'direct' && 'sourceDev' in i ? i.sourceDev : i.targetDev) ?? '',
    mac: i.mac ?? '',
    model: i.model ?? '',
    mode: i.type === 'direct' && 'sourceMode' in i ? i.sourceMode : undefined,
    queues: i.queues,
    mtu: i.mtu,
    trustGuestRxFilters: i.trustGuestRxFilters === 'yes' ? 'yes' : undefined,
    pci: i.pciAddress,
    entry,
  };
}

/** Does an existing interface (and its record entry) already say everything the user asked for? */
function sameAsAsked(have: AttachSpec, i: InterfaceView, want: AttachSpec, given: Set<keyof AttachSpec>): boolean {
  const asked = (k: keyof AttachSpec): boolean => !given.has(k) || (k === 'pci' ? !!have.pci && samePci(have.pci, want.pci!) : have[k] === want[k]);
  return (
    i.type === want.type &&
    have.dev === want.dev &&
    (want.type === 'direct' || i.managed === 'no') &&
    (['mac', 'model', 'mode', 'queues', 'mtu', 'trustGuestRxFilters', 'pci'] as const).every(asked) &&
    (want.entry === undefined || (have.entry !== undefined && sameEntry(have.entry, { ...want.entry, mac: have.mac })))
  );
}

/** Adds the interface `spec` describes, or finds it already there; refuses clashes with the rest of the domain. */
export function planAttach(doc: DomainDoc, spec: AttachSpec, given: Set<keyof AttachSpec>, named: boolean): AttachResult {
  const ifaces = interfacesOf(doc);
  const file = doc.file;
  const record = recordEntries(doc);
  if (named) {
    const twin = spec.type === 'ethernet' ? ifaces.find((i) => i.targetDev === spec.dev) : ifaces.find((i) => i.type === 'direct' && i.mac === spec.mac);
    if (twin) {
      const have = specOf(twin, record.find((e) => e.dev === twin.targetDev));
      if (sameAsAsked(have, twin, spec, given)) return { before: doc, after: doc, action: 'unchanged', spec: have, xpath: twin.xpath };
      throw inputError(
        spec.type === 'ethernet' ? 'E_TARGET_IN_USE' : 'E_MAC_IN_USE',
        `${spec.type === 'ethernet' ? `target dev '${spec.dev}'` : `MAC ${spec.mac}`} is already used by an interface with other settings`,
        { file, where: twin.xpath, hint: 'give the options it was attached with, or detach it first' },
      );
    }
  }
  const clash = spec.type === 'ethernet' ? nameClash(spec, namesInUse(doc, ifaces)) : undefined;
  if (clash)
    throw inputError('E_TARGET_IN_USE', `device '${clash.name}' is already ${clash.use.what}`, {
      file,
      where: clash.use.where,
      hint: clash.use.role === 'stale' ? `remove the stale entry first: vnet-virt detach FILE --target ${clash.name}` : 'choose another device name',
    });
  const macClash = ifaces.find((i) => i.mac === spec.mac);
  if (macClash)
    throw inputError('E_MAC_IN_USE', `MAC ${spec.mac} is already used by another interface`, {
      file,
      where: macClash.xpath,
      hint: 'choose another --mac, or leave it out to derive a free one',
    });
  if (spec.pci) {
    const clash = pciAddressesOf(doc).find(([, a]) => samePci(a, spec.pci!));
    if (clash)
      throw inputError('E_PCI_IN_USE', `PCI address ${formatPci(spec.pci)} is already used by <${clash[0].name}>`, {
        file,
        where: doc.xpath(clash[0]),
        hint: 'choose a free --pci-address, or leave it out and let libvirt assign one',
      });
  }
  const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;
  const block = renderTemplate(spec.type === 'ethernet' ? 'interface-ethernet' : 'interface-direct', {
    mac: spec.mac,
    dev: spec.dev,
    model: spec.model,
    mode: spec.mode,
    queues: spec.queues,
    mtu: spec.mtu,
    trustGuestRxFilters: spec.trustGuestRxFilters,
    ...(spec.pci && {
      pciDomain: hex(spec.pci.domain, 4),
      pciBus: hex(spec.pci.bus, 2),
      pciSlot: hex(spec.pci.slot, 2),
      pciFunction: hex(spec.pci.function, 1),
    }),
  });
  const wasDevices = devicesToRemember(doc);
  let after = addInterface(doc, block);
  if (spec.entry || wasDevices !== undefined) after = addRecordEntry(after, spec.entry, wasDevices);
  const added = interfacesOf(after).find((i) => i.mac === spec.mac)!;
  return { before: doc, after, action: 'added', spec, xpath: added.xpath };
}

/** Before the XML is written: --provision makes the host side real first (see host/provision). */
export type BeforeWrite = (result: AttachResult) => Promise<void>;

/** The --json result of an attach (schemas/attach-result.json). */
export function attachJson(command: string, file: string, result: AttachResult, emitted: Emitted): Record<string, unknown> {
  const { entry, pci, ...rest } = result.spec;
  // An interface found in the file may lack a model or MAC: leave those out rather than print ''.
  const iface = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== '' && v !== undefined));
  return {
    command,
    file,
    action: result.action,
    interface: { ...iface, ...(pci && { pci: formatPci(pci) }), xpath: result.xpath },
    record: entry ?? null,
    ...emitted,
  };
}

export async function runAttach<O extends CommonAttachOptions>(
  command: string,
  input: string,
  opts: O,
  build: SpecBuilder<O>,
  out: (s: string) => void,
  beforeWrite?: BeforeWrite,
): Promise<void> {
  checkOutputOptions(input, opts);
  const derive = build(opts);
  await editing(input, opts, async () => {
    const doc = readDomain(input);
    const { spec, named, given } = derive(doc);
    const result = planAttach(doc, spec, given, named);
    if (beforeWrite) await beforeWrite(result);
    const emitted = await emitDocument(input, doc.text, result.after.text, opts, out);
    if (opts.json) out(JSON.stringify(attachJson(command, doc.file, result, emitted)) + '\n');
  });
}
