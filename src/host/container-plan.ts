// Container devices (systemd-nspawn style) as Plans, purely: a veth pair with
// one end in the container, a macvlan in the container, and their removal.
// Devices are created straight into the container's namespace (`ip link add
// ... netns T`), so a name taken there fails the creation and leaves nothing.
import { isIPv4, isIPv6 } from 'node:net';
import { checkIfname, checkMac as checkMacOption, checkMode as checkModeOption, ifnameProblem, MACVTAP_MODES } from '../domain/names.js';
export { checkIfname };
import type { MacvtapMode } from '../domain/names.js';
import { inputError, usageError } from '../errors.js';
import type { Link } from './facts.js';
import { MARKER_PREFIX, MAX_ALIAS_BYTES } from '../intent/owner.js';
import { ipArgv } from './run.js';
import type { Effect, Note, Plan, Step } from './step.js';
import { fnv1a } from './fnv.js';
import { bridgePortMac } from './port-mac.js';

/** The container: a named namespace (`ip netns`) or the namespace of a process. */
export type Target = { kind: 'netns'; name: string; spec: string } | { kind: 'pid'; pid: number; spec: string };

export const CONTAINER_MARKER_PREFIX = `${MARKER_PREFIX}container:`;

/** A number is a PID (as for `ip link set ... netns`); anything else names a namespace. */
export function targetOf(spec: string): Target {
  if (/^\d+$/.test(spec)) {
    const pid = Number(spec);
    if (pid < 1 || !Number.isSafeInteger(pid)) throw usageError('E_PID_INVALID', `'${spec}' is not a process ID`, { where: 'TARGET', hint: 'give a PID of 1 or more' });
    return { kind: 'pid', pid, spec: String(pid) };
  }
  if (spec.length === 0 || spec.length > 255 || spec === '.' || spec === '..' || /[/\s]/.test(spec))
    throw usageError('E_NETNS_NAME', `namespace name '${spec}' is not usable`, {
      where: 'TARGET',
      hint: "give an ip netns name (no '/' or white space) or a container PID",
    });
  return { kind: 'netns', name: spec, spec };
}

/** The alias that marks a device as made by vnet-virt for this container. */
export function containerMarker(t: Target): string {
  const marker = `${CONTAINER_MARKER_PREFIX}${t.spec}`;
  if (Buffer.byteLength(marker) > MAX_ALIAS_BYTES)
    throw usageError('E_NAME_TOO_LONG', `the marker for namespace '${t.spec.slice(0, 40)}...' would be over ${MAX_ALIAS_BYTES} bytes`, {
      where: 'TARGET',
      hint: 'give the namespace a shorter name (vnet-virt netns attach), or its PID',
    });
  return marker;
}

/** `ip ARGS` run inside the container. */
export function insideArgv(t: Target, args: readonly string[]): string[] {
  return t.kind === 'netns' ? ['ip', '-n', t.name, ...args] : ['nsenter', '-t', String(t.pid), '-n', 'ip', ...args];
}

/** The value `ip link ... netns X` takes. */
const netnsArg = (t: Target): string => (t.kind === 'netns' ? t.name : String(t.pid));

/** Truncates to at most `max` bytes without cutting a character. */
function truncateBytes(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/** `ve-<target>` as nspawn does; a target that does not fit gets a prefix of it and a hash, so it stays unique. */
export function defaultHostEnd(t: Target): string {
  const plain = `ve-${t.spec}`;
  if (ifnameProblem(plain) === undefined) return plain;
  const head = truncateBytes(t.spec.replace(/[^A-Za-z0-9_.-]/g, '_'), 7);
  return `ve-${head}-${(fnv1a(t.spec) & 0xffff).toString(16).padStart(4, '0')}`;
}

/** `mv-<parent>` as nspawn does, cut to 15 bytes. */
export const defaultMacvlanName = (parent: string): string => truncateBytes(`mv-${parent}`, 15);

// ---- option checks (exit 2: the value itself is wrong) ----

/** Containers take locally administered MACs (02:...), as systemd-nspawn does. */
export const checkMac = (value: string, option = '--mac'): string => checkMacOption(value, option, '02:00:00:12:34:56');

/** An address with its prefix length, IPv4 or IPv6, exactly as `ip addr add` takes it. */
export function checkCidr(value: string, option = '--address'): string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  const max = m && isIPv4(m[1]!) ? 32 : m && isIPv6(m[1]!) ? 128 : undefined;
  if (!m || max === undefined || Number(m[2]) > max)
    throw usageError('E_ADDRESS_INVALID', `'${value}' is not an address with a prefix length`, { where: option, hint: 'give one such as 192.0.2.2/24 or fd00::2/64' });
  return value;
}

/** A macvlan mode: the macvtap modes, default bridge as systemd-nspawn. */
export const checkMode = (value: string | undefined): MacvtapMode => checkModeOption(value ?? 'bridge', MACVTAP_MODES, {}, 'macvlan');

// ---- plans ----

export interface VethSpec {
  target: Target;
  hostEnd: string;
  containerEnd: string;
  bridge?: string | undefined;
  mac?: string | undefined;
  address?: string | undefined;
}

export interface MacvlanSpec {
  target: Target;
  parent: string;
  name: string;
  mode: MacvtapMode;
  mac?: string | undefined;
  address?: string | undefined;
}

export interface RemoveSpec {
  target: Target;
  hostEnds: string[];
  names: string[];
}

/** The links on both sides: `host` where the host end and the parent live, `container` (undefined: the namespace is gone). */
export interface ContainerFacts {
  /** The namespace the host side lives in (`ip -n NS`), undefined for the current one. */
  netns: string | undefined;
  host: ReadonlyMap<string, Link>;
  container: ReadonlyMap<string, Link> | undefined;
  /** The container's addresses per device ("192.0.2.2/24"), when read. */
  addresses?: ReadonlyMap<string, readonly string[]> | undefined;
}

type SetField = Extract<Effect, { type: 'set' }>['field'];

class Steps {
  readonly steps: Step[] = [];
  readonly label: string;
  constructor(
    private readonly netns: string | undefined,
    private readonly target: Target,
  ) {
    this.label = `container ${target.spec}`;
  }

  private push(argv: string[], undo: string[] | null, device: string, description: string, effect: Effect): void {
    this.steps.push({ argv, undo, undoEffect: undo ? { type: 'delete', device } : null, device, description, domain: this.label, file: '', iface: undefined, effect });
  }

  /** A command on the host side; `undo` (host side too) deletes what it creates. */
  host(args: string[], device: string, description: string, effect: Effect, undo: string[] | null = null): void {
    this.push(ipArgv(this.netns, args), undo && ipArgv(this.netns, undo), device, description, effect);
  }

  /** A creation on the host side whose device ends up in the container: the undo deletes it there. */
  hostIntoContainer(args: string[], device: string, description: string): void {
    this.push(ipArgv(this.netns, args), insideArgv(this.target, del(device)), device, description, { type: 'create', device });
  }

  inside(args: string[], device: string, description: string, effect: Effect): void {
    this.push(insideArgv(this.target, args), null, device, description, effect);
  }

  /** Sets a field of a device just created: its deletion undoes that. */
  setHost(dev: string, description: string, field: SetField, value: string | boolean, ...rest: string[]): void {
    this.host(['link', 'set', 'dev', dev, ...rest], dev, description, { type: 'set', device: dev, field, value });
  }

  setInside(dev: string, description: string, field: SetField, value: string | boolean, ...rest: string[]): void {
    this.inside(['link', 'set', 'dev', dev, ...rest], dev, description, { type: 'set', device: dev, field, value });
  }
}

const del = (dev: string): string[] => ['link', 'del', 'dev', dev];

interface Problem {
  code: string;
  message: string;
  where: string;
  hint: string;
}

function refuse(problems: Problem[]): void {
  const [first] = problems;
  if (!first) return;
  const more = problems.length > 1 ? `; and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}` : '';
  throw inputError(first.code, `${first.message}${more}`, { where: first.where, hint: first.hint });
}

/** Why an existing device may not be taken: it is ours (remove it first) or someone else's. */
function taken(link: Link, marker: string, side: string, where: string, removeWith: string): Problem {
  return link.alias === marker
    ? { code: 'E_DEVICE_EXISTS', message: `${link.name} already exists in ${side}, made by vnet-virt for this container`, where, hint: `remove it first (${removeWith}), or give another name` }
    : { code: 'E_DEVICE_NOT_OURS', message: `${link.name} already exists in ${side} and is not vnet-virt's${link.alias ? ` (alias '${link.alias}')` : ''}`, where, hint: 'give another name' };
}

const sideOf = (netns: string | undefined): string => (netns ? `namespace ${netns}` : 'the host namespace');

function addressAndUp(s: Steps, dev: string, marker: string, address: string | undefined): void {
  s.setInside(dev, `mark ${dev} as ${s.label}'s`, 'alias', marker, 'alias', marker);
  if (address !== undefined) s.inside(['addr', 'add', address, 'dev', dev], dev, `give ${dev} the address ${address}`, { type: 'address', device: dev, address });
  s.setInside(dev, `bring ${dev} up`, 'up', true, 'up');
}

export function planVeth(spec: VethSpec, facts: ContainerFacts): Plan {
  const { target, hostEnd, containerEnd, bridge } = spec;
  const marker = containerMarker(target);
  const problems: Problem[] = [];
  const cmd = `vnet-virt container remove ${target.spec}`;
  const he = facts.host.get(hostEnd);
  const ce = facts.container?.get(containerEnd);
  // The pair this command made before: like a second `up`, only what differs is done.
  const again = he?.kind === 'veth' && ce?.kind === 'veth' && he.alias === marker && ce.alias === marker;
  if (he && !again) problems.push(taken(he, marker, sideOf(facts.netns), '--host-end', `${cmd} --host-end ${hostEnd}`));
  if (ce && !again) problems.push(taken(ce, marker, `container ${target.spec}`, '--container-end', `${cmd} --name ${containerEnd}`));
  if (again && spec.mac !== undefined && ce.mac !== spec.mac.toLowerCase())
    problems.push({ code: 'E_DEVICE_EXISTS', message: `${containerEnd} already exists in container ${target.spec} with MAC ${ce.mac}, not ${spec.mac}`, where: '--mac', hint: `remove the pair first (${cmd} --host-end ${hostEnd})` });
  if (bridge !== undefined) {
    const br = facts.host.get(bridge);
    if (!br) problems.push({ code: 'E_BRIDGE_MISSING', message: `bridge ${bridge} does not exist in ${sideOf(facts.netns)}`, where: '--bridge', hint: `create it (ip link add name ${bridge} type bridge)` });
    else if (br.kind !== 'bridge') problems.push({ code: 'E_NOT_A_BRIDGE', message: `${bridge} is a ${br.kind}, not a bridge`, where: '--bridge', hint: 'name a bridge' });
  }
  refuse(problems);

  const s = new Steps(facts.netns, target);
  if (again) {
    if (bridge !== undefined && he.master !== bridge) s.host(['link', 'set', 'dev', hostEnd, 'master', bridge], hostEnd, `put ${hostEnd} on bridge ${bridge}`, { type: 'set', device: hostEnd, field: 'master', value: bridge });
    if (!he.up) s.host(['link', 'set', 'dev', hostEnd, 'up'], hostEnd, `bring ${hostEnd} up`, { type: 'set', device: hostEnd, field: 'up', value: true });
    if (spec.address !== undefined && !(facts.addresses?.get(containerEnd) ?? []).includes(spec.address))
      s.inside(['addr', 'add', spec.address, 'dev', containerEnd], containerEnd, `give ${containerEnd} the address ${spec.address}`, { type: 'address', device: containerEnd, address: spec.address });
    if (!ce.up) s.inside(['link', 'set', 'dev', containerEnd, 'up'], containerEnd, `bring ${containerEnd} up`, { type: 'set', device: containerEnd, field: 'up', value: true });
    return { kind: 'up', netns: facts.netns, steps: s.steps, notes: [] };
  }
  s.host(
    // A host end that joins a bridge is born with a MAC that cannot become the bridge's (port-mac.ts).
    ['link', 'add', 'dev', hostEnd, ...(bridge !== undefined ? ['address', bridgePortMac(spec.mac, hostEnd)] : []), 'type', 'veth', 'peer', 'name', containerEnd, ...(spec.mac ? ['address', spec.mac] : []), 'netns', netnsArg(target)],
    hostEnd,
    `create veth pair ${hostEnd}/${containerEnd} with ${containerEnd} in ${s.label}`,
    { type: 'create', device: hostEnd },
    // Deleting one end deletes the pair, wherever the other end is.
    del(hostEnd),
  );
  s.setHost(hostEnd, `mark ${hostEnd} as ${s.label}'s`, 'alias', marker, 'alias', marker);
  if (bridge !== undefined) s.setHost(hostEnd, `put ${hostEnd} on bridge ${bridge}`, 'master', bridge, 'master', bridge);
  s.setHost(hostEnd, `bring ${hostEnd} up`, 'up', true, 'up');
  addressAndUp(s, containerEnd, marker, spec.address);
  return { kind: 'up', netns: facts.netns, steps: s.steps, notes: [] };
}

export function planMacvlan(spec: MacvlanSpec, facts: ContainerFacts): Plan {
  const { target, parent, name, mode } = spec;
  const marker = containerMarker(target);
  const problems: Problem[] = [];
  const lower = facts.host.get(parent);
  if (!lower) problems.push({ code: 'E_PARENT_MISSING', message: `parent device ${parent} does not exist in ${sideOf(facts.netns)}`, where: '--parent', hint: 'name an existing device (ip link show)' });
  else if (mode === 'passthru') {
    const sharing = [...facts.host.values()].find((l) => l.link === parent && (l.kind === 'macvlan' || l.kind === 'macvtap'));
    if (sharing) problems.push({ code: 'E_DEVICE_CONFLICT', message: `mode passthru needs ${parent} to itself, but ${sharing.name} sits on it`, where: '--mode', hint: 'use mode bridge, or another parent' });
  }
  const existing = facts.container?.get(name);
  if (existing) problems.push(taken(existing, marker, `container ${target.spec}`, '--name', `vnet-virt container remove ${target.spec} --name ${name}`));
  refuse(problems);

  const s = new Steps(facts.netns, target);
  s.hostIntoContainer(
    ['link', 'add', 'link', parent, 'name', name, ...(spec.mac ? ['address', spec.mac] : []), 'netns', netnsArg(target), 'type', 'macvlan', 'mode', mode],
    name,
    `create macvlan ${name} on ${parent} (mode ${mode}) in ${s.label}`,
  );
  addressAndUp(s, name, marker, spec.address);
  return { kind: 'up', netns: facts.netns, steps: s.steps, notes: [] };
}

/** Deletes the named devices that carry this container's marker; a device already gone is a note, a foreign one a refusal. */
export function planRemove(spec: RemoveSpec, facts: ContainerFacts): Plan {
  const { target } = spec;
  const marker = containerMarker(target);
  const s = new Steps(facts.netns, target);
  const notes: Note[] = [];
  const problems: Problem[] = [];
  const note = (device: string, message: string): void => {
    notes.push({ domain: s.label, file: '', device, iface: undefined, message: `${s.label}: ${message}` });
  };
  const consider = (name: string, link: Link | undefined, side: string, where: string, host: boolean): void => {
    if (!link) return note(name, `${name} is already gone from ${side}`);
    if (link.alias !== marker) {
      problems.push({
        code: 'E_DEVICE_NOT_OURS',
        message: `${name} in ${side} does not carry this container's marker (${link.alias ? `its alias is '${link.alias}'` : 'it has no alias'})`,
        where,
        hint: `name a device vnet-virt made for ${target.spec}; this one is left as it is`,
      });
      return;
    }
    const what = link.kind === 'veth' ? `veth ${name} (and its peer)` : `${link.kind} ${name}`;
    if (host) s.host(del(name), name, `delete ${what}`, { type: 'delete', device: name });
    else s.inside(del(name), name, `delete ${what} from ${s.label}`, { type: 'delete', device: name });
  };
  for (const name of spec.hostEnds) consider(name, facts.host.get(name), sideOf(facts.netns), '--host-end', true);
  const pairGoes = s.steps.some((st) => facts.host.get(st.device)?.kind === 'veth');
  for (const name of spec.names)
    if (pairGoes && facts.container?.get(name)?.kind === 'veth' && facts.container.get(name)!.alias === marker)
      note(name, `${name} goes with the host end of its pair`);
    else if (facts.container === undefined) note(name, `${name} is already gone: the container's namespace no longer exists`);
    else consider(name, facts.container.get(name), `container ${target.spec}`, '--name', false);
  refuse(problems);
  return { kind: 'down', netns: facts.netns, steps: s.steps, notes };
}
