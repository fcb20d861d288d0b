// container veth / macvlan / remove: devices for a container's network namespace (systemd-nspawn style).
import { existsSync, statSync } from 'node:fs';
import { inputError, usageError } from '../errors.js';
import {
  checkCidr,
  checkIfname,
  checkMac,
  checkMode,
  containerMarker,
  defaultHostEnd,
  defaultMacvlanName,
  insideArgv,
  planMacvlan,
  planRemove,
  planVeth,
  targetOf,
} from '../host/container-plan.js';
import type { ContainerFacts, Target } from '../host/container-plan.js';
import { execute } from '../host/executor.js';
import { parseLinks, readHostFacts } from '../host/facts.js';
import type { Link } from '../host/facts.js';
import { shellLine } from '../host/quote.js';
import { run } from '../host/run.js';
import type { Runner } from '../host/run.js';
import type { Plan, Step } from '../host/step.js';
import { NETNS_RUN_DIR, scanNetns } from '../netns/scan.js';

export interface ContainerCommonOptions {
  /** The namespace the host side (host end, bridge, parent) lives in; default the current one. */
  netns?: string | undefined;
  dryRun?: boolean | undefined;
  json?: boolean | undefined;
  /** Tests: start commands through this. */
  runner?: Runner | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface VethOptions extends ContainerCommonOptions {
  hostEnd?: string | undefined;
  containerEnd?: string | undefined;
  bridge?: string | undefined;
  mac?: string | undefined;
  address?: string | undefined;
}

export interface MacvlanOptions extends ContainerCommonOptions {
  parent: string;
  name?: string | undefined;
  mode?: string | undefined;
  mac?: string | undefined;
  address?: string | undefined;
}

export interface RemoveOptions extends ContainerCommonOptions {
  hostEnd?: string[] | undefined;
  name?: string[] | undefined;
}

export interface ContainerReport {
  command: 'container veth' | 'container macvlan' | 'container remove';
  target: string;
  targetKind: 'netns' | 'pid';
  netns: string | null;
  dryRun: boolean;
  /** The devices the command is about: created (veth, macvlan) or named for removal. */
  devices: { host: string[]; container: string[] };
  steps: { command: string; argv: string[]; device: string; description: string; side: 'host' | 'container' }[];
  notes: string[];
  processes: number;
}

/**
 * The veth end in the container. Not nspawn's `host0` (its --network-veth end,
 * which would clash) nor `eth0` (what container runtimes and LXC name theirs).
 */
export const DEFAULT_CONTAINER_END = 'vv0';

const stderrLog = (line: string): void => {
  process.stderr.write(`vnet-virt: ${line}\n`);
};

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Refuses a target that does not exist or is the namespace the host side lives in; false when gone and `gone` is allowed. */
function checkTarget(t: Target, netns: string | undefined, goneIsFine: boolean): boolean {
  const path = t.kind === 'pid' ? `/proc/${t.pid}/ns/net` : `${NETNS_RUN_DIR}/${t.name}`;
  if (!existsSync(path)) {
    if (goneIsFine) return false;
    throw t.kind === 'pid'
      ? inputError('E_NO_PROCESS', `no process ${t.pid}`, { where: 'TARGET', hint: 'give the container leader PID (machinectl show -p Leader NAME; vnet-virt netns list)' })
      : inputError('E_NO_NETNS', `no network namespace named '${t.name}'`, { where: 'TARGET', hint: 'list them with ip netns list, or name one with vnet-virt netns attach' });
  }
  const inode = inodeOf(path);
  const info = scanNetns().find((n) => n.inode === inode);
  const hostSide = inodeOf(netns ? `${NETNS_RUN_DIR}/${netns}` : '/proc/self/ns/net');
  if (info?.isHost || inode === hostSide)
    throw inputError('E_HOST_NETNS', `${t.kind === 'pid' ? `process ${t.pid} is in` : `namespace ${t.name} is`} ${info?.isHost ? "the host's own network namespace" : 'the namespace the host side works in'}`, {
      where: 'TARGET',
      hint: 'give a namespace or PID inside the container',
    });
  return true;
}

/** The container's links and addresses, from one `ip -j -d addr show` (link fields plus addr_info). */
async function containerLinks(t: Target, runner: Runner): Promise<{ links: ReadonlyMap<string, Link>; addresses: Map<string, string[]> }> {
  const r = await runner(insideArgv(t, ['-j', '-d', 'addr', 'show']));
  if (r.code !== 0)
    throw inputError('E_HOST_PROBE', `cannot read the links of container ${t.spec}: ${r.stderr.trim() || `exit ${r.code}`}`, { where: 'TARGET', hint: 'check the namespace or process still exists' });
  const addresses = new Map<string, string[]>();
  for (const l of JSON.parse(r.stdout) as { ifname: string; addr_info?: { local?: string; prefixlen?: number }[] }[])
    addresses.set(l.ifname, (l.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`));
  return { links: parseLinks(r.stdout).links, addresses };
}

async function factsOf(t: Target, opts: ContainerCommonOptions, goneIsFine: boolean): Promise<{ facts: ContainerFacts; processes: number }> {
  const runner = opts.runner ?? run;
  const present = checkTarget(t, opts.netns, goneIsFine);
  const host = (await readHostFacts(opts.netns, runner)).links;
  const inside = present ? await containerLinks(t, runner) : undefined;
  return { facts: { netns: opts.netns, host, container: inside?.links, addresses: inside?.addresses }, processes: present ? 2 : 1 };
}

async function apply(command: ContainerReport['command'], t: Target, plan: Plan, devices: ContainerReport['devices'], processes: number, opts: ContainerCommonOptions): Promise<ContainerReport> {
  const log = opts.log ?? stderrLog;
  const inside = insideArgv(t, []);
  const side = (s: Step): 'host' | 'container' => (inside.every((w, i) => s.argv[i] === w) ? 'container' : 'host');
  const report = (steps: Step[], n: number): ContainerReport => ({
    command,
    target: t.spec,
    targetKind: t.kind,
    netns: opts.netns ?? null,
    dryRun: Boolean(opts.dryRun),
    devices,
    steps: steps.map((s) => ({ command: shellLine(s.argv), argv: s.argv, device: s.device, description: s.description, side: side(s) })),
    notes: plan.notes.map((x) => x.message),
    processes: n,
  });
  for (const n of plan.notes) log(n.message);
  if (opts.dryRun) return report(plan.steps, processes);
  const r = await execute(plan, { runner: opts.runner, log });
  return report(r.done, processes + r.processes);
}

export async function containerVeth(targetSpec: string, o: VethOptions): Promise<ContainerReport> {
  const t = targetOf(targetSpec);
  const spec = {
    target: t,
    hostEnd: checkIfname(o.hostEnd ?? defaultHostEnd(t), '--host-end'),
    containerEnd: checkIfname(o.containerEnd ?? DEFAULT_CONTAINER_END, '--container-end'),
    bridge: o.bridge === undefined ? undefined : checkIfname(o.bridge, '--bridge'),
    mac: o.mac === undefined ? undefined : checkMac(o.mac),
    address: o.address === undefined ? undefined : checkCidr(o.address),
  };
  const { facts, processes } = await factsOf(t, o, false);
  return apply('container veth', t, planVeth(spec, facts), { host: [spec.hostEnd], container: [spec.containerEnd] }, processes, o);
}

export async function containerMacvlan(targetSpec: string, o: MacvlanOptions): Promise<ContainerReport> {
  const t = targetOf(targetSpec);
  const parent = checkIfname(o.parent, '--parent');
  const spec = {
    target: t,
    parent,
    name: checkIfname(o.name ?? defaultMacvlanName(parent), '--name'),
    mode: checkMode(o.mode),
    mac: o.mac === undefined ? undefined : checkMac(o.mac),
    address: o.address === undefined ? undefined : checkCidr(o.address),
  };
  const { facts, processes } = await factsOf(t, o, false);
  return apply('container macvlan', t, planMacvlan(spec, facts), { host: [], container: [spec.name] }, processes, o);
}

export async function containerRemove(targetSpec: string, o: RemoveOptions): Promise<ContainerReport> {
  const t = targetOf(targetSpec);
  const hostEnds = (o.hostEnd ?? []).map((n) => checkIfname(n, '--host-end'));
  const names = (o.name ?? []).map((n) => checkIfname(n, '--name'));
  if (hostEnds.length + names.length === 0)
    throw usageError('E_NOTHING_NAMED', 'name what to remove', { where: '--host-end/--name', hint: 'give --host-end NAME (a veth pair) or --name NAME (a device in the container)' });
  const { facts, processes } = await factsOf(t, o, true);
  const looked = await refuseHostEndsElsewhere(t, o, hostEnds, facts);
  return apply('container remove', t, planRemove({ target: t, hostEnds, names }, facts), { host: hostEnds, container: names }, processes + looked, o);
}

/**
 * A host end missing from the namespace the host side was said to be in
 * (--netns, default the current one) may live in another one: then it is not
 * gone, the user pointed at the wrong place. Looks in every named namespace
 * and the current one, and refuses (exit 3) when this container's device is
 * there. Returns the number of processes it ran.
 */
async function refuseHostEndsElsewhere(t: Target, o: RemoveOptions, hostEnds: string[], facts: ContainerFacts): Promise<number> {
  const missing = hostEnds.filter((n) => !facts.host.has(n));
  if (missing.length === 0) return 0;
  const runner = o.runner ?? run;
  const marker = containerMarker(t);
  const here = o.netns ? `namespace ${o.netns}` : 'the current namespace';
  const places: (string | undefined)[] = [...new Set(scanNetns().flatMap((n) => n.names))].filter((n) => n !== o.netns);
  if (o.netns) places.unshift(undefined);
  for (const place of places) {
    let links: ReadonlyMap<string, Link>;
    try {
      links = (await readHostFacts(place, runner)).links;
    } catch {
      continue; // a namespace that went away meanwhile
    }
    const hit = missing.find((n) => links.get(n)?.alias === marker);
    if (hit === undefined) continue;
    const there = place === undefined ? 'the current namespace' : `namespace ${place}`;
    throw inputError('E_DEVICE_ELSEWHERE', `${hit} is not in ${here}, where the host side was looked for; this container's ${hit} is in ${there}`, {
      where: '--host-end',
      hint: place === undefined ? 'run without --netns' : `give --netns ${place} (the namespace of the host side), as when it was made`,
    });
  }
  return places.length;
}

export function printContainerReport(r: ContainerReport, json: boolean | undefined, out: (s: string) => void): void {
  if (json) out(JSON.stringify(r) + '\n');
  else for (const s of r.steps) out(s.command + '\n');
}
