// Drift: how a wanted device differs from the host. check lists it; the
// planner refuses it, or with --adopt applies the fixes it can.
import type { HostFacts, Link } from './facts.js';
import { isOurs, isPendingFor } from './marker.js';
import type { Effect } from './step.js';
import type { Want } from './wants.js';
import { bridgePortMac } from './port-mac.js';

export const DRIFT_KINDS = [
  'missing',
  'wrong-kind',
  'lower',
  'peer',
  'multi-queue',
  'not-ours',
  'mode',
  'mac',
  'mtu',
  'bridge',
  'down',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** An ip command that corrects one drift, and the one that puts it back. */
export interface Fix {
  args: string[];
  undo: string[];
  effect: Effect;
  /** What the undo restores, so an interrupted undo can be checked. */
  undoEffect: Effect;
}

export interface Drift {
  want: Want;
  /** The device that drifted (for a veth pair, either end). */
  device: string;
  kind: DriftKind;
  expected: string | null;
  actual: string | null;
  /** What is wrong, e.g. `t0 is not on bridge br0 (on no bridge)`. */
  message: string;
  /** How --adopt corrects it; undefined when it cannot be corrected in place. */
  fix: Fix | undefined;
}

const show = (v: string | number | undefined): string => (v === undefined ? 'none' : String(v));
const set = (dev: string, ...rest: string[]): string[] => ['link', 'set', 'dev', dev, ...rest];

function markerFix(dev: string, link: Link, marker: string): Fix {
  return {
    args: set(dev, 'alias', marker),
    undo: set(dev, 'alias', link.alias ?? ''),
    effect: { type: 'set', device: dev, field: 'alias', value: marker },
    undoEffect: { type: 'set', device: dev, field: 'alias', value: link.alias },
  };
}

function masterFix(dev: string, link: Link, bridge: string): Fix {
  return {
    args: set(dev, 'master', bridge),
    undo: link.master === undefined ? set(dev, 'nomaster') : set(dev, 'master', link.master),
    effect: { type: 'set', device: dev, field: 'master', value: bridge },
    undoEffect: { type: 'set', device: dev, field: 'master', value: link.master },
  };
}

function macFix(dev: string, link: Link, mac: string): Fix {
  return {
    args: set(dev, 'address', mac),
    undo: set(dev, 'address', link.mac ?? mac),
    effect: { type: 'set', device: dev, field: 'mac', value: mac },
    undoEffect: { type: 'set', device: dev, field: 'mac', value: link.mac },
  };
}

const upFix = (dev: string): Fix => ({
  args: set(dev, 'up'),
  undo: set(dev, 'down'),
  effect: { type: 'set', device: dev, field: 'up', value: true },
  undoEffect: { type: 'set', device: dev, field: 'up', value: false },
});

/** The drift of one wanted device, in the order its fixes are applied. */
export function driftsOf(want: Want, facts: HostFacts): Drift[] {
  const out: Drift[] = [];
  const owner = want.from.domain.owner;
  const add = (device: string, kind: DriftKind, expected: string | number | undefined, actual: string | number | undefined, message: string, fix?: Fix): void => {
    out.push({ want, device, kind, expected: expected === undefined ? null : String(expected), actual: actual === undefined ? null : String(actual), message, fix });
  };
  const link = facts.links.get(want.name);
  if (want.kind === 'bridge') return out;
  if (!link) {
    add(want.name, 'missing', want.kind, undefined, want.kind === 'lower' ? `lower device ${want.name} does not exist` : `${want.kind} ${want.name} does not exist`);
    return out;
  }
  if (want.kind === 'lower') return out;
  // A target made by hand and named by no record may be a macvtap: QEMU opens either.
  const handMadeMacvtap = want.kind === 'tap' && !want.recorded && link.kind === 'macvtap';
  const expectedKind = want.kind;
  if (link.kind !== expectedKind && !handMadeMacvtap) {
    const expected = want.kind === 'tap' && !want.recorded ? 'tap or macvtap' : expectedKind;
    add(want.name, 'wrong-kind', expected, link.kind, `${want.name} is a ${link.kind}, not a ${expected}`);
    return out;
  }
  const label = want.from.domain.label;
  // The common tail of every device vnet-virt owns: marked, then (fixes applied before) up.
  const ownership = (dev: string, l: Link): void => {
    if (isOurs(l.alias, owner)) return;
    const message = isPendingFor(l, facts, owner)
      ? `${dev} has no marker yet: an interrupted up created it for ${label} (up finishes it, down removes it)`
      : `${dev} does not carry ${label}'s marker (alias: ${l.alias === undefined ? 'none' : `'${l.alias}'`})`;
    add(dev, 'not-ours', owner.marker, l.alias, message, markerFix(dev, l, owner.marker));
  };
  const macIs = (mac: string | undefined): void => {
    if (mac === undefined || link.mac === mac) return;
    add(want.name, 'mac', mac, link.mac, `macvtap ${want.name} has MAC ${show(link.mac)}, but the interface's <mac> is ${mac}`, macFix(want.name, link, mac));
  };
  const onBridge = (dev: string, l: Link, bridge: string | undefined, portMac?: string): void => {
    if (bridge === undefined || l.master === bridge) return;
    // A tap an interrupted up created joins with the MAC up gives it (port-mac.ts); someone's device keeps its own.
    if (portMac !== undefined && l.mac !== portMac && isPendingFor(l, facts, owner))
      add(dev, 'mac', portMac, l.mac, `${dev} has MAC ${show(l.mac)}, not ${portMac}, which keeps it from becoming ${bridge}'s MAC`, macFix(dev, l, portMac));
    add(dev, 'bridge', bridge, l.master, `${dev} is not on bridge ${bridge} (on ${l.master ?? 'no bridge'})`, masterFix(dev, l, bridge));
  };
  const isUp = (dev: string, l: Link): void => {
    if (!l.up) add(dev, 'down', 'up', 'down', `${dev} is down`, upFix(dev));
  };

  if (handMadeMacvtap) {
    ownership(want.name, link);
    macIs(want.mac);
    isUp(want.name, link);
    return out;
  }
  switch (want.kind) {
    case 'tap': {
      if (link.multiQueue !== want.multiQueue)
        add(
          want.name,
          'multi-queue',
          want.multiQueue ? 'multi_queue' : 'single queue',
          link.multiQueue ? 'multi_queue' : 'single queue',
          want.multiQueue
            ? `tap ${want.name} is not multi_queue, but the interface has ${want.queues} queues`
            : `tap ${want.name} is multi_queue, but the interface has one queue`,
        );
      ownership(want.name, link);
      if (want.mtu !== undefined && link.mtu !== want.mtu)
        add(want.name, 'mtu', want.mtu, link.mtu, `${want.name} has MTU ${show(link.mtu)}, not ${want.mtu}`, {
          args: set(want.name, 'mtu', String(want.mtu)),
          undo: set(want.name, 'mtu', String(link.mtu)),
          effect: { type: 'set', device: want.name, field: 'mtu', value: want.mtu },
          undoEffect: { type: 'set', device: want.name, field: 'mtu', value: link.mtu },
        });
      onBridge(want.name, link, want.bridge, bridgePortMac(want.mac, want.name));
      isUp(want.name, link);
      return out;
    }
    case 'veth': {
      if (link.link !== want.peer) {
        const actual = link.link ?? (link.linkNetnsid !== undefined ? 'in another namespace' : undefined);
        add(want.name, 'peer', want.peer, actual, `veth ${want.name}'s peer is ${actual === undefined ? 'unknown' : actual}, not ${want.peer}`);
        return out;
      }
      const peer = facts.links.get(want.peer);
      ownership(want.name, link);
      if (peer) ownership(want.peer, peer);
      if (peer) onBridge(want.peer, peer, want.bridge);
      if (peer) isUp(want.peer, peer);
      isUp(want.name, link);
      return out;
    }
    case 'macvtap': {
      if (link.link !== want.lower) {
        add(want.name, 'lower', want.lower, link.link, `macvtap ${want.name} sits on ${link.link ?? 'an unknown device'}, not ${want.lower}`);
        return out;
      }
      ownership(want.name, link);
      if (link.mode !== want.mode) {
        // The kernel cannot switch a macvtap into or out of passthru in place.
        const inPlace = link.mode !== 'passthru' && want.mode !== 'passthru' && link.mode !== undefined;
        add(
          want.name,
          'mode',
          want.mode,
          link.mode,
          `macvtap ${want.name} is in mode ${show(link.mode)}, not ${want.mode}`,
          inPlace
            ? {
                args: set(want.name, 'type', 'macvtap', 'mode', want.mode),
                undo: set(want.name, 'type', 'macvtap', 'mode', link.mode!),
                effect: { type: 'set', device: want.name, field: 'mode', value: want.mode },
                undoEffect: { type: 'set', device: want.name, field: 'mode', value: link.mode },
              }
            : undefined,
        );
      }
      macIs(want.mac);
      isUp(want.name, link);
      return out;
    }
  }
}
