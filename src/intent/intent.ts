// Intent: the host devices a domain needs, from its <interface> elements and
// vnet-virt's record in <metadata>. Pure: a DomainDoc in, data out.
import { inputError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { interfacesOf } from '../domain/interfaces.js';
import { ifnameProblem, macProblem, MACVTAP_MODES, normalizeMac } from '../domain/names.js';
import type { MacvtapMode } from '../domain/names.js';
import { findRecord } from '../domain/record.js';
import { ownerOf } from './owner.js';
import type { Owner } from './owner.js';

/** The element an intent item comes from, for messages: "(interface t-web1-0)". */
export interface InterfaceRef {
  /** The interface's target dev (or the record entry's dev when no interface names it). */
  dev: string;
  xpath: string;
  line: number;
  /** False when only the record names the device (no <interface> targets it). */
  hasInterface: boolean;
}

export interface TapIntent {
  kind: 'tap';
  dev: string;
  /** The guest MAC (the interface's <mac>, else the record's); a tap's own MAC is not the guest's. */
  mac: string | undefined;
  bridge: string | undefined;
  /** <driver queues>; the tap must be multi_queue exactly when this is over 1. */
  queues: number;
  mtu: number | undefined;
  /** False for an unmanaged target no record names: made by hand, a tap or a macvtap. */
  recorded: boolean;
  iface: InterfaceRef;
}

export interface MacvtapIntent {
  kind: 'macvtap';
  dev: string;
  /** The macvtap's MAC must be the guest's MAC, or the guest has no network. */
  mac: string;
  lower: string;
  mode: MacvtapMode;
  /** When set, `lower` is one end of a veth pair created with this peer. */
  vethPeer: string | undefined;
  /** The bridge the veth peer joins. */
  bridge: string | undefined;
  iface: InterfaceRef;
}

export type IntentItem = TapIntent | MacvtapIntent;

export interface DomainRef {
  /** How messages name the domain: its <name>, else the file. */
  label: string;
  name: string | undefined;
  uuid: string | undefined;
  file: string;
  owner: Owner;
}

export interface Intent {
  domain: DomainRef;
  items: IntentItem[];
}

function checkName(domain: DomainRef, ref: InterfaceRef, what: string, value: string): string {
  const problem = ifnameProblem(value);
  if (problem)
    throw inputError('E_IFNAME_INVALID', `${domain.label}: ${what} '${value}' ${problem} (interface ${ref.dev})`, {
      file: domain.file,
      where: ref.xpath,
      hint: 'fix the name in the domain XML',
    });
  return value;
}

function checkMacValue(domain: DomainRef, ref: InterfaceRef, value: string): string {
  const problem = macProblem(value);
  if (problem)
    throw inputError('E_MAC_INVALID', `${domain.label}: MAC '${value}' ${problem} (interface ${ref.dev})`, {
      file: domain.file,
      where: ref.xpath,
      hint: 'fix <mac address> in the domain XML',
    });
  return normalizeMac(value);
}

/** A count from the XML or the record (<driver queues>, <mtu size>): an integer in range, or exit 3 before any ip command sees it. */
function checkCount(domain: DomainRef, ref: InterfaceRef, what: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined || (Number.isInteger(value) && value >= min && value <= max)) return value;
  throw inputError('E_VALUE_INVALID', `${domain.label}: ${what} '${value}' is not a whole number from ${min} to ${max} (interface ${ref.dev})`, {
    file: domain.file,
    where: ref.xpath,
    hint: `fix ${what} in the domain XML`,
  });
}

/** tun's limit on queues per tap (MAX_TAP_QUEUES); the smallest and largest MTU Linux gives an Ethernet device. */
const MAX_QUEUES = 256;
const MIN_MTU = 68;
const MAX_MTU = 65535;

export function domainRef(doc: DomainDoc): DomainRef {
  const name = doc.name;
  const uuid = doc.uuid;
  return { label: name || doc.file, name, uuid, file: doc.file, owner: ownerOf({ name, uuid, file: doc.file }) };
}

export function intentOf(doc: DomainDoc): Intent {
  const domain = domainRef(doc);
  const ifaces = interfacesOf(doc).filter((i) => i.type === 'ethernet' && i.targetDev !== undefined);
  const record = findRecord(doc)?.entries ?? [];
  const items: IntentItem[] = [];
  const seen = new Set<string>();
  for (const { entry, el } of record) {
    const iface = ifaces.find((i) => i.targetDev === entry.dev);
    const ref: InterfaceRef = iface
      ? { dev: entry.dev, xpath: iface.xpath, line: iface.line, hasInterface: true }
      : { dev: entry.dev, xpath: doc.xpath(el), line: el.line, hasInterface: false };
    if (seen.has(entry.dev))
      throw inputError('E_RECORD_DUPLICATE', `${domain.label}: the record names device ${entry.dev} twice (interface ${entry.dev})`, {
        file: domain.file,
        where: ref.xpath,
        hint: 'remove one of the entries (vnet-virt detach, then attach again)',
      });
    seen.add(entry.dev);
    checkName(domain, ref, 'device name', entry.dev);
    const macText = iface?.mac ?? entry.mac;
    if (entry.kind === 'tap') {
      items.push({
        kind: 'tap',
        dev: entry.dev,
        mac: macText === undefined ? undefined : checkMacValue(domain, ref, macText),
        bridge: entry.bridge === undefined ? undefined : checkName(domain, ref, 'bridge', entry.bridge),
        queues: checkCount(domain, ref, '<driver queues>', iface?.queues ?? entry.queues, 1, MAX_QUEUES) ?? 1,
        mtu: checkCount(domain, ref, '<mtu size>', iface?.mtu ?? entry.mtu, MIN_MTU, MAX_MTU),
        recorded: true,
        iface: ref,
      });
      continue;
    }
    if (entry.lower === undefined)
      throw inputError('E_RECORD_INCOMPLETE', `${domain.label}: the record of macvtap ${entry.dev} has no lower device (interface ${entry.dev})`, {
        file: domain.file,
        where: ref.xpath,
        hint: 'detach the interface and attach it again with --lower',
      });
    if (!(MACVTAP_MODES as readonly string[]).includes(entry.mode))
      throw inputError('E_MODE_UNKNOWN', `${domain.label}: unknown macvtap mode '${entry.mode}' (interface ${entry.dev})`, {
        file: domain.file,
        where: ref.xpath,
        hint: `use one of ${MACVTAP_MODES.join(', ')}`,
      });
    if (macText === undefined)
      throw inputError('E_MAC_MISSING', `${domain.label}: macvtap ${entry.dev} has no MAC (interface ${entry.dev})`, {
        file: domain.file,
        where: ref.xpath,
        hint: 'give the interface a <mac address>: the macvtap must carry the guest MAC',
      });
    const mac = checkMacValue(domain, ref, macText);
    // A hand edit of <mac> alone leaves the record stale: refuse as lint does, rather than guess which is meant.
    if (iface?.mac !== undefined && entry.mac !== undefined && macProblem(entry.mac) === undefined && normalizeMac(entry.mac) !== mac)
      throw inputError(
        'E_MAC_MISMATCH',
        `${domain.label}: MAC ${mac} of the guest differs from the recorded macvtap MAC ${normalizeMac(entry.mac)} of target '${entry.dev}' [macvtap-mac-mismatch] (interface ${entry.dev})`,
        {
          file: domain.file,
          where: ref.xpath,
          hint: `set <mac address="${normalizeMac(entry.mac)}"/> back, or record the new MAC: vnet-virt detach --target ${entry.dev}, then attach-macvtap again with --mac ${mac}`,
        },
      );
    items.push({
      kind: 'macvtap',
      dev: entry.dev,
      mac,
      lower: checkName(domain, ref, 'lower device', entry.lower),
      mode: entry.mode,
      vethPeer: entry.vethPeer === undefined ? undefined : checkName(domain, ref, 'veth peer', entry.vethPeer),
      bridge: entry.bridge === undefined ? undefined : checkName(domain, ref, 'bridge', entry.bridge),
      iface: ref,
    });
  }
  // An unmanaged target with no record entry: a tap is what QEMU can open; no bridge is known.
  for (const i of ifaces) {
    if (i.managed !== 'no' || seen.has(i.targetDev!)) continue;
    const ref: InterfaceRef = { dev: i.targetDev!, xpath: i.xpath, line: i.line, hasInterface: true };
    seen.add(ref.dev);
    items.push({
      kind: 'tap',
      dev: checkName(domain, ref, 'target dev', ref.dev),
      mac: i.mac === undefined ? undefined : checkMacValue(domain, ref, i.mac),
      bridge: undefined,
      queues: checkCount(domain, ref, '<driver queues>', i.queues, 1, MAX_QUEUES) ?? 1,
      mtu: checkCount(domain, ref, '<mtu size>', i.mtu, MIN_MTU, MAX_MTU),
      recorded: false,
      iface: ref,
    });
  }
  return { domain, items };
}
