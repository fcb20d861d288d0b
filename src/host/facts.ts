// HostFacts: what exists now, read once per command with one `ip -j -d link show`.
import { run, ipArgv } from './run.js';
import type { Runner } from './run.js';
import { VnetError, ExitCode } from '../errors.js';

export type LinkKind = 'tap' | 'tun' | 'veth' | 'macvtap' | 'macvlan' | 'bridge' | 'loopback' | 'other';

export interface Link {
  name: string;
  index: number;
  kind: LinkKind;
  /** Lower-case MAC, when the device has one. */
  mac: string | undefined;
  /** Administratively up (flag UP). */
  up: boolean;
  /** Carrier (flag LOWER_UP): for a tap, QEMU has it open. */
  lowerUp: boolean;
  mtu: number | undefined;
  master: string | undefined;
  alias: string | undefined;
  /** macvtap/macvlan: the lower device; veth: the peer (when in the same namespace). */
  link: string | undefined;
  /** macvtap/macvlan mode as iproute2 spells it (vepa, bridge, private, passthru, source). */
  mode: string | undefined;
  /** tap: created with multi_queue. */
  multiQueue: boolean | undefined;
  /** tap: created with vnet_hdr. */
  vnetHdr: boolean | undefined;
  /** Set when `link` (a veth peer, a lower device) lives in another namespace: then `link` is unknown. */
  linkNetnsid?: number | undefined;
  /** The ifindex of `link` in its own namespace (a veth peer or lower device across a namespace wall). */
  linkIndex?: number | undefined;
  /** The device group ('default' or a number): down deletes many devices at once through a free group. */
  group?: string | undefined;
  /** A bridge port with hairpin on: the bridge sends frames back out of the port they came in by. */
  hairpin?: boolean | undefined;
}

export interface HostFacts {
  netns: string | undefined;
  links: ReadonlyMap<string, Link>;
  /** Devices without marker that a killed up created (its journal): name -> the marker they were for. */
  pending?: ReadonlyMap<string, string> | undefined;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  address?: string;
  master?: string;
  ifalias?: string;
  link?: string | null;
  link_netnsid?: number;
  link_index?: number;
  group?: string;
  link_type?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}

function kindOf(l: IpLink): LinkKind {
  const k = l.linkinfo?.info_kind;
  if (k === 'tun') return l.linkinfo?.info_data?.['type'] === 'tap' ? 'tap' : 'tun';
  if (k === 'veth' || k === 'macvtap' || k === 'macvlan' || k === 'bridge') return k;
  if (l.link_type === 'loopback') return 'loopback';
  return 'other';
}

/** Turns `ip -j -d link show` output into HostFacts (pure; the probe's parser). */
export function parseLinks(json: string, netns?: string): HostFacts {
  const links = new Map<string, Link>();
  for (const l of JSON.parse(json) as IpLink[]) {
    const data = l.linkinfo?.info_data ?? {};
    const flags = l.flags ?? [];
    links.set(l.ifname, {
      name: l.ifname,
      index: l.ifindex,
      kind: kindOf(l),
      mac: l.address?.toLowerCase(),
      up: flags.includes('UP'),
      lowerUp: flags.includes('LOWER_UP'),
      mtu: l.mtu,
      master: l.master,
      alias: l.ifalias,
      link: l.link ?? undefined,
      mode: typeof data['mode'] === 'string' ? (data['mode'] as string) : undefined,
      multiQueue: typeof data['multi_queue'] === 'boolean' ? (data['multi_queue'] as boolean) : undefined,
      vnetHdr: typeof data['vnet_hdr'] === 'boolean' ? (data['vnet_hdr'] as boolean) : undefined,
      linkNetnsid: l.link_netnsid,
      linkIndex: l.link_index,
      group: l.group,
      ...(l.linkinfo?.info_slave_kind === 'bridge' ? { hairpin: l.linkinfo.info_slave_data?.['hairpin'] === true } : {}),
    });
  }
  return { netns, links };
}

/** Reads the links of a namespace (default: the current one) with one ip call. */
export async function readHostFacts(netns?: string, runner: Runner = run): Promise<HostFacts> {
  const r = await runner(ipArgv(netns, ['-j', '-d', 'link', 'show']));
  if (r.code !== 0)
    throw new VnetError(`cannot read links${netns ? ` of namespace ${netns}` : ''}: ${r.stderr.trim()}`, {
      code: 'E_HOST_PROBE',
      exitCode: netns ? ExitCode.usage : ExitCode.hostFailedUndone,
      where: netns ? '--netns' : undefined,
      hint: netns ? 'check the namespace exists: ip netns list' : 'is iproute2 installed?',
    });
  return parseLinks(r.stdout, netns);
}
