// The planner: Intent + HostFacts -> Plan, purely. A device that exists as
// wanted gives no step, so a second `up` plans nothing.
import { VnetError, ExitCode } from '../errors.js';
import type { Intent } from '../intent/intent.js';
import { driftsOf } from './drift.js';
import type { Drift } from './drift.js';
import type { HostFacts, Link } from './facts.js';
import { isPendingFor, isVnetVirt, ownsLink } from './marker.js';
import type { JournalEntry } from './journal.js';
import { ipArgv } from './run.js';
import type { Effect, Note, Plan, Step } from './step.js';
import { at, wantsOf } from './wants.js';
import type { Origin, Want } from './wants.js';
import { fnv1a } from './fnv.js';
import { bridgePortMac } from './port-mac.js';

type SetField = Extract<Effect, { type: 'set' }>['field'];

export interface UpPlanOptions {
  /** Mark existing devices with the right name as ours and fix what can be fixed in place. */
  adopt?: boolean | undefined;
  /** Create a missing bridge (marked as ours) instead of refusing. */
  createBridge?: boolean | undefined;
}

interface Problem {
  code: string;
  message: string;
  from: Origin;
  hint: string;
}

/** One VnetError (exit 3) for everything the plan refuses, led by the first problem. */
function refuse(problems: Problem[]): VnetError {
  const [first] = problems;
  const more = problems.length > 1 ? `; and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} (vnet-virt check lists them)` : '';
  return new VnetError(`${first!.message}${more}`, {
    code: first!.code,
    exitCode: ExitCode.invalidInput,
    file: first!.from.domain.file,
    hint: first!.hint,
  });
}

class StepList {
  readonly steps: Step[] = [];
  constructor(private readonly netns: string | undefined) {}

  add(from: Origin, device: string, description: string, args: string[], undo: string[] | null, effect: Effect, undoEffect?: Effect): void {
    this.steps.push({
      argv: ipArgv(this.netns, args),
      undo: undo && ipArgv(this.netns, undo),
      undoEffect: undo ? (undoEffect ?? { type: 'delete', device }) : null,
      device,
      description,
      domain: from.domain.label,
      file: from.domain.file,
      iface: from.iface.dev,
      effect,
    });
  }

  /** Sets `field` of a device this plan just created: the device's deletion undoes it. */
  then(from: Origin, device: string, description: string, field: SetField, value: string | number | boolean, ...rest: string[]): void {
    this.add(from, device, description, set(device, ...rest), null, { type: 'set', device, field, value });
  }
}

const set = (dev: string, ...rest: string[]): string[] => ['link', 'set', 'dev', dev, ...rest];
const del = (dev: string): string[] => ['link', 'del', 'dev', dev];

function createSteps(s: StepList, want: Want, marker: string): void {
  const { from, name } = want;
  const mark = (dev: string): void => s.then(from, dev, `mark ${dev} as ${from.domain.label}'s`, 'alias', marker, 'alias', marker);
  const up = (dev: string): void => s.then(from, dev, `bring ${dev} up`, 'up', true, 'up');
  const portMac = (dev: string, mac: string): void => s.then(from, dev, `set the MAC of ${dev} to ${mac}`, 'mac', mac, 'address', mac);
  switch (want.kind) {
    case 'bridge':
      s.add(from, name, `create bridge ${name}`, ['link', 'add', 'name', name, 'type', 'bridge'], del(name), { type: 'create', device: name });
      mark(name);
      up(name);
      return;
    case 'tap':
      s.add(
        from,
        name,
        `create tap ${name}${want.multiQueue ? ' (multi_queue)' : ''}`,
        ['tuntap', 'add', 'dev', name, 'mode', 'tap', 'vnet_hdr', ...(want.multiQueue ? ['multi_queue'] : [])],
        del(name),
        { type: 'create', device: name },
      );
      mark(name);
      if (want.mtu !== undefined) s.then(from, name, `set the MTU of ${name} to ${want.mtu}`, 'mtu', want.mtu, 'mtu', String(want.mtu));
      if (want.bridge !== undefined) {
        // Before it joins: a random MAC could become the bridge's (port-mac.ts).
        portMac(name, bridgePortMac(want.mac, name));
        s.then(from, name, `put ${name} on bridge ${want.bridge}`, 'master', want.bridge, 'master', want.bridge);
      }
      up(name);
      return;
    case 'veth':
      // Deleting either end deletes the pair, so one undo covers both.
      // The peer joins the bridge: born with a MAC that cannot become the bridge's (port-mac.ts).
      s.add(from, name, `create veth pair ${name}/${want.peer}`, ['link', 'add', 'dev', name, 'type', 'veth', 'peer', 'name', want.peer, 'address', bridgePortMac(want.mac, want.peer)], del(name), {
        type: 'create',
        device: name,
      });
      mark(name);
      mark(want.peer);
      if (want.bridge !== undefined) s.then(from, want.peer, `put ${want.peer} on bridge ${want.bridge}`, 'master', want.bridge, 'master', want.bridge);
      up(want.peer);
      up(name);
      return;
    case 'macvtap':
      s.add(
        from,
        name,
        `create macvtap ${name} on ${want.lower} (mode ${want.mode}, MAC ${want.mac})`,
        ['link', 'add', 'link', want.lower, 'name', name, 'address', want.mac, 'type', 'macvtap', 'mode', want.mode],
        del(name),
        { type: 'create', device: name },
      );
      mark(name);
      // passthru takes the lower device's MAC at creation; setting it afterwards gives both the guest MAC.
      if (want.mode === 'passthru') s.then(from, name, `set the MAC of ${name} (and of ${want.lower}) to ${want.mac}`, 'mac', want.mac, 'address', want.mac);
      up(name);
      return;
    case 'lower':
      return;
  }
}

function fixSteps(s: StepList, drifts: Drift[]): void {
  for (const d of drifts) {
    const fix = d.fix!;
    s.add(d.want.from, d.device, `fix: ${d.message}`, fix.args, fix.undo, fix.effect, fix.undoEffect);
  }
}

/** What a want's creation makes, for the journal. */
function createdBy(want: Want): JournalEntry[] {
  const marker = want.from.domain.owner.marker;
  switch (want.kind) {
    case 'veth':
      return [want.name, want.peer].map((device) => ({ device, kind: 'veth', marker }));
    case 'lower':
      return [];
    default:
      return [{ device: want.name, kind: want.kind, marker }];
  }
}

export function planUp(intents: readonly Intent[], facts: HostFacts, opts: UpPlanOptions = {}): Plan {
  const wants = wantsOf(intents);
  const s = new StepList(facts.netns);
  const notes: Note[] = [];
  const creates: JournalEntry[] = [];
  const create = (want: Want): void => {
    createSteps(s, want, want.from.domain.owner.marker);
    creates.push(...createdBy(want));
  };
  /** Says that up fixes a device of this domain's own (no --adopt needed). */
  const fixingOwn = (from: Origin, device: string, what: string): void => {
    const label = from.domain.label;
    notes.push({ domain: label, file: from.domain.file, device, iface: from.iface.dev, message: `${label}: fixing ${label}'s own device: ${what} ${at(from)}` });
  };
  const problems: Problem[] = [];
  const problem = (code: string, from: Origin, what: string, hint: string): void => {
    problems.push({ code, from, message: `${from.domain.label}: ${what} ${at(from)}`, hint });
  };
  const links = facts.links;

  for (const want of wants) {
    const { from, name } = want;
    const link = links.get(name);
    if (want.kind === 'bridge') {
      if (link && link.kind !== 'bridge') problem('E_NOT_A_BRIDGE', from, `${name} is a ${link.kind}, not a bridge`, 'name a bridge in the record, or delete the device');
      else if (!link && !opts.createBridge) problem('E_BRIDGE_MISSING', from, `bridge ${name} does not exist`, `create it (ip link add name ${name} type bridge), or give --create-bridge`);
      else if (!link) create(want);
      else if (ownsLink(link, facts, from.domain.owner)) {
        // A bridge this domain's up created: a killed run may have left it unmarked or down.
        const marker = from.domain.owner.marker;
        if (link.alias === undefined)
          s.add(from, name, `finish bridge ${name}: mark it as ${from.domain.label}'s`, set(name, 'alias', marker), set(name, 'alias', ''), { type: 'set', device: name, field: 'alias', value: marker }, { type: 'set', device: name, field: 'alias', value: undefined });
        if (!link.up) {
          s.add(from, name, `bring bridge ${name} up`, set(name, 'up'), set(name, 'down'), { type: 'set', device: name, field: 'up', value: true }, { type: 'set', device: name, field: 'up', value: false });
          fixingOwn(from, name, `bridge ${name} is down`);
        }
      }
      continue;
    }
    if (want.kind === 'lower') {
      if (!link) problem('E_LOWER_MISSING', from, `lower device ${name} does not exist`, 'create it, or record a veth pair (attach-macvtap --veth-peer)');
      continue;
    }
    if (want.kind === 'macvtap' && want.mode === 'passthru') {
      const sharing = [...links.values()].find((l) => l.link === want.lower && l.name !== name && (l.kind === 'macvtap' || l.kind === 'macvlan'));
      if (sharing) problem('E_DEVICE_CONFLICT', from, `macvtap ${name} is passthru, but ${sharing.name} already sits on ${want.lower}`, 'passthru needs the lower device to itself');
    }
    if (!link) {
      const peer = want.kind === 'veth' ? links.get(want.peer) : undefined;
      if (want.kind === 'veth' && peer)
        problem('E_DEVICE_DRIFT', from, `veth peer ${want.peer} exists (a ${peer.kind}) but ${name} does not`, `delete ${want.peer}, or record other names`);
      else create(want);
      continue;
    }
    const drifts = driftsOf(want, facts);
    if (drifts.length === 0) continue;
    const fixable = drifts.every((d) => d.fix !== undefined);
    // A device carrying this domain's marker (or created for it by a killed up) is ours to fix, without --adopt.
    const ours = drifts.every((d) => {
      const l = links.get(d.device);
      return l !== undefined && ownsLink(l, facts, from.domain.owner);
    });
    if ((opts.adopt || ours) && fixable) {
      fixSteps(s, drifts);
      if (!opts.adopt) fixingOwn(from, name, drifts.map((d) => d.message).join('; '));
      continue;
    }
    const first = drifts.find((d) => !(opts.adopt || ours) || d.fix === undefined)!;
    problem(
      'E_DEVICE_DRIFT',
      from,
      first.message + (drifts.length > 1 ? ` (and ${drifts.length - 1} more difference${drifts.length > 2 ? 's' : ''})` : ''),
      first.fix === undefined
        ? `it cannot be fixed in place: delete it (ip link del dev ${first.device}) and run up again`
        : 'run up --adopt to mark it as this domain\'s and fix it, or delete it and run up again',
    );
  }
  if (problems.length) throw refuse(problems);
  return { kind: 'up', netns: facts.netns, steps: s.steps, notes, creates };
}

/** Devices that sit on each device (macvtaps, macvlans, vlans): deleting it would delete them too. One pass. */
function stackedMap(links: ReadonlyMap<string, Link>): Map<string, Link[]> {
  const on = new Map<string, Link[]>();
  for (const l of links.values()) {
    if (l.link === undefined || l.kind === 'veth') continue;
    const list = on.get(l.link);
    if (list) list.push(l);
    else on.set(l.link, [l]);
  }
  return on;
}

/**
 * The group a down deletes through: counting up from a start derived from the
 * owners' markers, to the first group no device uses. Deterministic, and
 * concurrent downs of different domains (libvirt releases several at once)
 * start apart, so `ip link del group G` does not take another domain's devices
 * (two domains share a start about once in 10^9).
 */
export function freeGroup(links: ReadonlyMap<string, Link>, owners: readonly string[]): number {
  const used = new Set([...links.values()].map((l) => l.group));
  let g = DELETE_GROUP_BASE + (fnv1a([...new Set(owners)].sort().join('\n')) % DELETE_GROUP_SPAN);
  while (used.has(String(g))) g++;
  return g;
}

/** Groups 2^30 .. 2^31: far from the groups people number by hand. */
export const DELETE_GROUP_BASE = 0x40000000;
const DELETE_GROUP_SPAN = 0x3fff0000;

/**
 * The deletions as steps. Each `ip link del` waits for the kernel's RCU grace
 * period (~20 ms); `ip link del group G` deletes a whole group in one, so two
 * or more devices go into a group no device uses and are deleted together.
 */
function deletionSteps(s: StepList, links: ReadonlyMap<string, Link>, deletions: { from: Origin; name: string; description: string }[]): void {
  if (deletions.length === 1) {
    const [d] = deletions;
    s.add(d!.from, d!.name, d!.description, del(d!.name), null, { type: 'delete', device: d!.name });
    return;
  }
  if (deletions.length === 0) return;
  const group = String(freeGroup(links, deletions.map((d) => d.from.domain.owner.marker)));
  for (const d of deletions)
    s.add(d.from, d.name, `${d.description}: put it in group ${group}`, set(d.name, 'group', group), null, { type: 'set', device: d.name, field: 'group', value: group });
  const devices = deletions.map((d) => d.name);
  s.add(deletions[0]!.from, `group ${group}`, `delete ${devices.join(', ')} at once`, ['link', 'del', 'group', group], null, {
    type: 'delete-group',
    device: devices[0]!,
    devices,
  });
  s.steps.at(-1)!.iface = undefined;
}

export function planDown(intents: readonly Intent[], facts: HostFacts): Plan {
  const wants = wantsOf(intents).reverse();
  const s = new StepList(facts.netns);
  const notes: Note[] = [];
  const links = facts.links;
  const gone = new Set<string>();
  const deletions: { from: Origin; name: string; description: string }[] = [];
  const note = (from: Origin, device: string, message: string): void => {
    notes.push({ domain: from.domain.label, file: from.domain.file, device, iface: from.iface.dev, message: `${from.domain.label}: ${message} ${at(from)}` });
  };
  const stacked = stackedMap(links);
  const whose = (l: Link): string => (l.alias === undefined ? 'it has no marker' : isVnetVirt(l.alias) ? `it carries another marker (${l.alias})` : `its alias is '${l.alias}'`);
  const deletable = (from: Origin, l: Link, also: string[] = []): boolean => {
    if (!ownsLink(l, facts, from.domain.owner)) {
      note(from, l.name, `${l.name} is not ours (${whose(l)}); left as it is`);
      return false;
    }
    const above = (stacked.get(l.name) ?? []).filter((a) => !gone.has(a.name) && !also.includes(a.name));
    if (above.length) {
      note(from, l.name, `${l.name} is left: ${above.map((a) => a.name).join(', ')} sit${above.length === 1 ? 's' : ''} on it and would go with it`);
      return false;
    }
    return true;
  };

  for (const want of wants) {
    const { from, name } = want;
    const link = links.get(name);
    if (!link || want.kind === 'lower') continue;
    switch (want.kind) {
      case 'macvtap':
      case 'tap':
        if (!deletable(from, link)) break;
        deletions.push({ from, name, description: `delete ${want.kind} ${name}` });
        gone.add(name);
        break;
      case 'veth': {
        const peer = link.link !== undefined ? links.get(link.link) : undefined;
        if (link.kind === 'veth' && !peer) {
          note(from, name, `${name} is left: its peer is not in this namespace`);
          break;
        }
        if (!deletable(from, link, peer ? [peer.name] : [])) break;
        if (peer && !deletable(from, peer, [name])) break;
        deletions.push({ from, name, description: peer ? `delete veth pair ${name}/${peer.name}` : `delete ${name}` });
        gone.add(name);
        if (peer) gone.add(peer.name);
        break;
      }
      case 'bridge': {
        // Bridges are shared: one vnet-virt created is removed by the last domain that leaves it.
        if (link.kind !== 'bridge' || !(isVnetVirt(link.alias) || isPendingFor(link, facts, from.domain.owner))) break;
        const ports = [...links.values()].filter((l) => (l.master === name || l.link === name) && !gone.has(l.name));
        if (ports.length) {
          note(from, name, `bridge ${name} is kept: ${ports.map((p) => p.name).join(', ')} still on it`);
          break;
        }
        deletions.push({ from, name, description: `delete bridge ${name} (no ports left)` });
        gone.add(name);
        break;
      }
    }
  }
  deletionSteps(s, links, deletions);
  return { kind: 'down', netns: facts.netns, steps: s.steps, notes };
}
