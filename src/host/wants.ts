// The devices a set of intents needs, one entry per device name, in the order
// they must be created: bridges, taps, veth pairs, lower devices, macvtaps.
import { inputError } from '../errors.js';
import type { DomainRef, InterfaceRef, Intent } from '../intent/intent.js';
import type { MacvtapMode } from '../domain/names.js';

/** Where a wanted device comes from, for messages and ownership. */
export interface Origin {
  domain: DomainRef;
  iface: InterfaceRef;
}

export type Want =
  /** A bridge some device joins; shared between domains. */
  | { kind: 'bridge'; name: string; from: Origin }
  /**
   * A tap; `recorded: false` when no record names it (an unmanaged target made
   * by hand), which may then also be a macvtap whose MAC is the guest's.
   */
  | { kind: 'tap'; name: string; multiQueue: boolean; queues: number; mtu: number | undefined; bridge: string | undefined; mac: string | undefined; recorded: boolean; from: Origin }
  /** A veth pair: `name` carries the macvtap (whose guest MAC is `mac`), `peer` joins `bridge`. */
  | { kind: 'veth'; name: string; peer: string; bridge: string | undefined; mac: string; from: Origin }
  /** A device a macvtap sits on that vnet-virt does not create: it must exist. */
  | { kind: 'lower'; name: string; from: Origin }
  | { kind: 'macvtap'; name: string; lower: string; mac: string; mode: MacvtapMode; from: Origin };

const ORDER: Want['kind'][] = ['bridge', 'tap', 'veth', 'lower', 'macvtap'];

/** The one-line reference of a wanted device in messages: `web1: ... (interface t0)`. */
export const at = (from: Origin): string => `(interface ${from.iface.dev})`;

function same(a: Want, b: Want): boolean {
  const strip = ({ from: _f, ...rest }: Want): object => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function conflict(a: Want, b: Want, why: string): never {
  const { domain, iface } = b.from;
  throw inputError('E_DEVICE_CONFLICT', `${domain.label}: ${why} ${at(b.from)}`, {
    file: domain.file,
    where: iface.xpath,
    hint: a.from.domain === b.from.domain ? 'give each interface its own device names' : `${a.from.domain.label} (${a.from.domain.file}) already wants it: give each domain its own devices`,
  });
}

const namesOf = (w: Want): string[] => (w.kind === 'veth' ? [w.name, w.peer] : [w.name]);

export function wantsOf(intents: readonly Intent[]): Want[] {
  const claims = new Map<string, Want>();
  let wants: Want[] = [];
  const add = (w: Want): void => {
    for (const name of namesOf(w)) {
      const had = claims.get(name);
      if (!had) continue;
      if (had.kind === w.kind && (w.kind === 'bridge' || w.kind === 'lower')) return;
      // A device vnet-virt creates (a veth end, a bridge) can also be the lower device a macvtap needs.
      if (w.kind === 'lower' && had.kind !== 'macvtap') return;
      if (had.kind === 'lower' && w.kind !== 'macvtap') {
        wants = wants.filter((o) => o !== had);
        continue;
      }
      if (had.kind !== w.kind) conflict(had, w, `${name} is wanted as a ${w.kind} and as a ${had.kind}`);
      if (had.from.domain.owner.marker !== w.from.domain.owner.marker) conflict(had, w, `${name} is wanted by ${had.from.domain.label} and by ${w.from.domain.label}`);
      if (!same(had, w)) conflict(had, w, `${name} is wanted twice with different settings`);
      return;
    }
    for (const name of namesOf(w)) claims.set(name, w);
    wants.push(w);
  };
  for (const intent of intents) {
    for (const item of intent.items) {
      const from: Origin = { domain: intent.domain, iface: item.iface };
      if (item.bridge !== undefined && (item.kind === 'tap' || item.vethPeer !== undefined)) add({ kind: 'bridge', name: item.bridge, from });
      if (item.kind === 'tap') {
        add({ kind: 'tap', name: item.dev, multiQueue: item.queues > 1, queues: item.queues, mtu: item.mtu, bridge: item.bridge, mac: item.mac, recorded: item.recorded, from });
        continue;
      }
      if (item.vethPeer !== undefined) add({ kind: 'veth', name: item.lower, peer: item.vethPeer, bridge: item.bridge, mac: item.mac, from });
      else add({ kind: 'lower', name: item.lower, from });
      add({ kind: 'macvtap', name: item.dev, lower: item.lower, mac: item.mac, mode: item.mode, from });
    }
  }
  // passthru gives the macvtap the whole lower device: nothing else may sit on it.
  for (const w of wants) {
    if (w.kind !== 'macvtap' || w.mode !== 'passthru') continue;
    const other = wants.find((o) => o.kind === 'macvtap' && o.lower === w.lower && o !== w);
    if (other) conflict(other, w, `macvtap ${w.name} is passthru on ${w.lower}, which also carries ${other.name}; passthru allows one macvtap per lower device`);
  }
  return wants.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
}
