// The topology `show` draws: guests, their NICs, and the host-side chain behind
// each NIC (tap -> bridge; macvtap -> lower veth = peer -> bridge; direct ->
// source), plus containers' namespaces with the devices that cross their wall.
// Pure: DomainDocs (and, with --host, what the host has) in, a graph out.
import type { DomainDoc } from '../domain/doc.js';
import { interfacesOf } from '../domain/interfaces.js';
import { findRecord } from '../domain/record.js';
import type { InterfaceView } from '../domain/interfaces.js';
import { driftsOf } from '../host/drift.js';
import type { HostFacts, Link } from '../host/facts.js';
import { isOurs, isVnetVirt } from '../host/marker.js';
import { MARKER_PREFIX } from '../intent/owner.js';
import { wantsOf } from '../host/wants.js';
import type { Want } from '../host/wants.js';
import { intentOf } from '../intent/intent.js';
import type { Intent, IntentItem } from '../intent/intent.js';

export type DeviceKind = 'tap' | 'macvtap' | 'macvlan' | 'veth' | 'bridge' | 'device' | 'network' | 'other';

/** Who made a device: vnet-virt for this domain or container, libvirt, or someone else (by hand). */
export type Ownership = 'vnet-virt' | 'libvirt' | 'hand-made' | 'unknown';

export interface Device {
  /** Unique and stable: derived from the namespace and the device name. */
  id: string;
  name: string;
  kind: DeviceKind;
  /** The namespace box the device lives in; undefined for the host's (or --netns) namespace. */
  box: string | undefined;
  mac: string | undefined;
  mode: string | undefined;
  ownership: Ownership;
  /** With --host: what differs from the XML (missing, down, wrong MAC, not ours, ...). Empty: as wanted. */
  problems: string[];
  /** With --host: the device was found on the host. */
  present: boolean | undefined;
}

export interface Nic {
  id: string;
  /** 0-based position among the domain's interfaces. */
  index: number;
  type: string;
  mac: string | undefined;
  model: string | undefined;
}

export interface Guest {
  id: string;
  label: string;
  file: string;
  nics: Nic[];
}

/** A namespace wall: a container's network namespace. */
export interface Box {
  id: string;
  label: string;
}

/** `plain`: attached (on a bridge, sits on a lower device, opened by QEMU); `pair`: the two ends of a veth. */
export interface Edge {
  from: string;
  to: string;
  kind: 'plain' | 'pair';
}

export interface Topology {
  /** Whether devices were compared with the host (problems and presence are known). */
  host: boolean;
  netns: string | undefined;
  guests: Guest[];
  devices: Device[];
  boxes: Box[];
  edges: Edge[];
}

/** Devices found in a container's namespace (with --host), by that namespace's name. */
export interface ContainerFacts {
  name: string;
  links: readonly Link[];
}

class Builder {
  readonly devices = new Map<string, Device>();
  readonly edges: Edge[] = [];
  private readonly edgeKeys = new Set<string>();

  /** `key` stands for the name when libvirt chooses it at start (one device per NIC). */
  device(name: string, kind: DeviceKind, box?: string, key = name): Device {
    const id = `d_${box ? `${box}__` : ''}${key}`;
    let d = this.devices.get(id);
    if (!d) {
      d = { id, name, kind, box, mac: undefined, mode: undefined, ownership: 'unknown', problems: [], present: undefined };
      this.devices.set(id, d);
    } else if (d.kind === 'device' && kind !== 'device') d.kind = kind;
    return d;
  }

  edge(from: string, to: string, kind: Edge['kind'] = 'plain'): void {
    const key = kind === 'pair' ? [from, to].sort().join('=') : `${from}>${to}`;
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    this.edges.push({ from, to, kind });
  }
}

const idPart = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);

/** The chain of a record-backed (or managed="no") ethernet interface. */
function chainOfItem(b: Builder, nic: Nic, item: IntentItem): Device[] {
  const made: Device[] = [];
  if (item.kind === 'tap') {
    const tap = b.device(item.dev, 'tap');
    made.push(tap);
    b.edge(nic.id, tap.id);
    if (item.bridge !== undefined) {
      const br = b.device(item.bridge, 'bridge');
      made.push(br);
      b.edge(tap.id, br.id);
    }
    return made;
  }
  const mvt = b.device(item.dev, 'macvtap');
  mvt.mac = item.mac;
  mvt.mode = item.mode;
  made.push(mvt);
  b.edge(nic.id, mvt.id);
  const lower = b.device(item.lower, item.vethPeer !== undefined ? 'veth' : 'device');
  made.push(lower);
  b.edge(mvt.id, lower.id);
  if (item.vethPeer !== undefined) {
    const peer = b.device(item.vethPeer, 'veth');
    made.push(peer);
    b.edge(lower.id, peer.id, 'pair');
    if (item.bridge !== undefined) {
      const br = b.device(item.bridge, 'bridge');
      made.push(br);
      b.edge(peer.id, br.id);
    }
  }
  return made;
}

/** An interface libvirt wires itself: direct (a macvtap libvirt makes), bridge, network, user. */
function chainOfLibvirt(b: Builder, nic: Nic, view: InterfaceView): void {
  if (view.type === 'ethernet') {
    const tap = b.device(view.targetDev ?? '', 'tap', undefined, view.targetDev ?? nic.id);
    tap.ownership = 'libvirt';
    b.edge(nic.id, tap.id);
    return;
  }
  const source = 'sourceDev' in view ? view.sourceDev : undefined;
  if (view.type === 'direct') {
    const mvt = b.device(view.targetDev ?? '', 'macvtap', undefined, view.targetDev ?? nic.id);
    mvt.ownership = 'libvirt';
    mvt.mac = nic.mac;
    mvt.mode = ('sourceMode' in view ? view.sourceMode : undefined) ?? 'vepa';
    b.edge(nic.id, mvt.id);
    if (source !== undefined) b.edge(mvt.id, b.device(source, 'device').id);
    return;
  }
  if (view.type === 'network' || view.type === 'bridge') {
    const tap = b.device(view.targetDev ?? '', 'tap', undefined, view.targetDev ?? nic.id);
    tap.ownership = 'libvirt';
    b.edge(nic.id, tap.id);
    if (source !== undefined) b.edge(tap.id, b.device(source, view.type === 'bridge' ? 'bridge' : 'network').id);
    return;
  }
  const other = b.device(view.type || 'unknown type', 'other', undefined, nic.id);
  other.ownership = 'libvirt';
  b.edge(nic.id, other.id);
}

/** What the host says about a device the XML names: present, kind, MAC, mode, marker. */
function applyLink(d: Device, link: Link | undefined): void {
  d.present = link !== undefined;
  if (!link) return;
  if (link.kind === 'tap' || link.kind === 'macvtap' || link.kind === 'macvlan' || link.kind === 'veth' || link.kind === 'bridge') {
    if (d.kind === 'device' || d.kind === 'tap' || d.kind === 'other') d.kind = link.kind;
  }
  if (d.kind === 'macvtap' || d.kind === 'macvlan') {
    d.mac ??= link.mac;
    d.mode ??= link.mode;
  }
}

/** Follows a hand-made chain on the host (no record): macvtap -> lower -> veth peer -> bridge, tap -> bridge. */
function followHost(b: Builder, from: Device, facts: HostFacts, depth = 0): void {
  const link = facts.links.get(from.name);
  if (!link || depth > 4) return;
  const next = (name: string | undefined, kind: Edge['kind']): void => {
    if (name === undefined) return;
    const l = facts.links.get(name);
    const d = b.device(name, l?.kind === 'bridge' ? 'bridge' : l?.kind === 'veth' ? 'veth' : 'device');
    applyLink(d, l);
    if (d.ownership === 'unknown') d.ownership = l && isVnetVirt(l.alias) ? 'vnet-virt' : 'hand-made';
    b.edge(from.id, d.id, kind);
    followHost(b, d, facts, depth + 1);
  };
  const paired = b.edges.some((e) => e.kind === 'pair' && (e.from === from.id || e.to === from.id));
  if (link.kind === 'macvtap' || link.kind === 'macvlan') next(link.link, 'plain');
  else if (link.kind === 'veth' && !paired) next(link.link, 'pair');
  else next(link.master, 'plain');
}

const problemOf = (kind: string, expected: string | null, actual: string | null): string => {
  switch (kind) {
    case 'missing':
      return 'missing';
    case 'down':
      return 'down';
    case 'mac':
      return `wrong MAC ${actual ?? 'none'} (want ${expected})`;
    case 'not-ours':
      return 'not ours (no vnet-virt marker)';
    case 'wrong-kind':
      return `is a ${actual}, not a ${expected}`;
    case 'bridge':
      return `on ${actual ?? 'no bridge'}, not ${expected}`;
    default:
      return `${kind}: ${actual ?? 'none'}, want ${expected ?? 'none'}`;
  }
};

/** Marks wanted devices with what the host says (drift), and every named device with its presence. */
function compareWithHost(b: Builder, wants: readonly Want[], facts: HostFacts): void {
  for (const d of b.devices.values()) {
    if (d.box !== undefined || d.kind === 'network' || d.kind === 'other') continue;
    if (d.ownership === 'libvirt' && d.kind !== 'device') continue;
    applyLink(d, facts.links.get(d.name));
  }
  for (const w of wants) {
    for (const drift of driftsOf(w, facts)) {
      const d = b.devices.get(`d_${drift.device}`);
      if (!d) continue;
      const p = problemOf(drift.kind, drift.expected, drift.actual);
      if (!d.problems.includes(p)) d.problems.push(p);
    }
    if (w.kind === 'bridge' && !facts.links.has(w.name)) {
      const d = b.devices.get(`d_${w.name}`);
      if (d && !d.problems.includes('missing')) d.problems.push('missing');
    }
  }
  for (const d of b.devices.values()) {
    if (d.box !== undefined || d.present !== false || d.problems.length || d.ownership === 'libvirt') continue;
    if (d.kind === 'device' || d.kind === 'veth' || d.kind === 'bridge') d.problems.push('missing');
  }
}

/** Ownership without the host: what the record manages is vnet-virt's; the rest of a chain is shared or hand-made. */
function ownershipFromRecord(made: readonly Device[], item: IntentItem, hasRecord: boolean): void {
  for (const d of made) {
    if (d.ownership !== 'unknown') continue;
    if (d.kind === 'bridge') continue;
    if (item.kind === 'macvtap' && d.name === item.lower && item.vethPeer === undefined) d.ownership = 'hand-made';
    else d.ownership = hasRecord ? 'vnet-virt' : 'hand-made';
  }
}

/** The devices the record names (a managed="no" interface without an entry is derived, not recorded). */
const recorded = (doc: DomainDoc): Set<string> => new Set((findRecord(doc)?.entries ?? []).map((e) => e.entry.dev));

/** Container devices: a box per namespace, its marked devices, and the wall they cross. */
function addContainers(b: Builder, boxes: Box[], containers: readonly ContainerFacts[], facts: HostFacts): void {
  const containerPrefix = `${MARKER_PREFIX}container:`;
  const byIndex = new Map<number, Link>();
  for (const l of facts.links.values()) byIndex.set(l.index, l);
  for (const c of containers) {
    const marked = c.links.filter((l) => l.alias?.startsWith(containerPrefix));
    if (!marked.length) continue;
    const box: Box = { id: `ns_${idPart(c.name)}`, label: `netns ${c.name}` };
    boxes.push(box);
    for (const l of marked) {
      const d = b.device(l.name, l.kind === 'macvlan' ? 'macvlan' : l.kind === 'veth' ? 'veth' : 'device', box.id);
      d.present = true;
      d.ownership = 'vnet-virt';
      d.mac = l.mac;
      d.mode = l.kind === 'macvlan' ? l.mode : undefined;
      if (!l.up) d.problems.push('down');
      // The host side: a veth peer or a macvlan's parent, found by the host's ifindex.
      const hostSide = l.linkIndex !== undefined ? byIndex.get(l.linkIndex) : undefined;
      if (!hostSide) continue;
      const h = b.device(hostSide.name, hostSide.kind === 'veth' ? 'veth' : hostSide.kind === 'bridge' ? 'bridge' : 'device');
      applyLink(h, hostSide);
      h.ownership = hostSide.alias === l.alias ? 'vnet-virt' : isVnetVirt(hostSide.alias) ? 'vnet-virt' : 'hand-made';
      b.edge(h.id, d.id, l.kind === 'veth' ? 'pair' : 'plain');
      if (hostSide.master) {
        const br = b.device(hostSide.master, 'bridge');
        applyLink(br, facts.links.get(hostSide.master));
        b.edge(h.id, br.id);
      }
    }
  }
}

export interface TopologyInput {
  docs: readonly DomainDoc[];
  /** With --host: the links of the namespace the domains' devices live in. */
  facts?: HostFacts | undefined;
  /** With --host: containers' namespaces and their links. */
  containers?: readonly ContainerFacts[] | undefined;
}

export function topologyOf(input: TopologyInput): Topology {
  const b = new Builder();
  const guests: Guest[] = [];
  const intents: Intent[] = [];
  const seenIds = new Set<string>();
  for (const doc of input.docs) {
    const intent = intentOf(doc);
    intents.push(intent);
    const inRecord = recorded(doc);
    let gid = `g_${idPart(intent.domain.label)}`;
    for (let n = 2; seenIds.has(gid); n++) gid = `g_${idPart(intent.domain.label)}_${n}`;
    seenIds.add(gid);
    const guest: Guest = { id: gid, label: intent.domain.label, file: doc.file, nics: [] };
    guests.push(guest);
    for (const view of interfacesOf(doc)) {
      const nic: Nic = { id: `${gid}_nic${view.index}`, index: view.index, type: view.type, mac: view.mac, model: view.model };
      guest.nics.push(nic);
      const item = view.type === 'ethernet' ? intent.items.find((i) => i.iface.hasInterface && i.dev === view.targetDev) : undefined;
      if (!item) {
        chainOfLibvirt(b, nic, view);
        continue;
      }
      const made = chainOfItem(b, nic, item);
      const hasRecord = inRecord.has(item.dev);
      ownershipFromRecord(made, item, hasRecord);
      if (input.facts && !hasRecord) {
        // Hand-made: what the host really has behind the target (a macvtap where the XML only says "a device").
        const head = made[0]!;
        const l = input.facts.links.get(head.name);
        if (l && l.kind !== 'tap') {
          applyLink(head, l);
          if (l.kind === 'macvtap') head.mac = l.mac;
        }
        followHost(b, head, input.facts);
      }
    }
  }
  const boxes: Box[] = [];
  if (input.facts) {
    for (const d of b.devices.values()) {
      const l = input.facts.links.get(d.name);
      if (!l || d.box !== undefined || d.ownership === 'libvirt') continue;
      const owner = intents.find((i) => isOurs(l.alias, i.domain.owner));
      if (owner) d.ownership = 'vnet-virt';
      else if (d.ownership === 'vnet-virt' && !isVnetVirt(l.alias)) d.ownership = 'hand-made';
    }
    compareWithHost(b, wantsOf(intents), input.facts);
    addContainers(b, boxes, input.containers ?? [], input.facts);
  }
  return { host: input.facts !== undefined, netns: input.facts?.netns, guests, devices: [...b.devices.values()], boxes, edges: b.edges };
}
