// One connection to libvirt, whichever way it talks: libvirt's RPC protocol on
// a local UNIX socket (qemu:///system, qemu+unix:///system?socket=PATH), or
// virsh for every other URI (qemu+ssh://, qemu+tls://, aliases, SASL auth).
import { existsSync } from 'node:fs';
import { AUTH_NONE, AUTH_POLKIT, Proc, readDomain, RpcClient, RpcError, RpcTransportError, VIR_ERR_NO_DOMAIN, writeDomain } from './rpc.js';
import type { RemoteDomain } from './rpc.js';
import { XdrWriter } from './xdr.js';
import { failure, noPciSlot, Virsh, VirshError } from './virsh.js';

export { defaultUri } from './virsh.js';
import type { VirshFailure } from './virsh.js';

export interface DomainInfo {
  name: string;
  uuid: string;
  /** virsh's words: 'running', 'shut off', 'paused'... */
  state: string;
  /** false for a transient domain: it has no persistent definition. */
  persistent: boolean;
  /** How messages name it: `URI/NAME`. */
  label: string;
}

export type Which = 'persistent' | 'live';

/** What vnet-virt asks of libvirt. `ref` is a domain's name, UUID or ID, as virsh takes it. */
export interface LibvirtConn {
  readonly uri: string;
  /** How it talks: 'rpc' or 'virsh' (for messages and the bench). */
  readonly via: 'rpc' | 'virsh';
  lookup(ref: string): Promise<DomainInfo>;
  names(): Promise<string[]>;
  dumpxml(ref: string, which: Which, label: string): Promise<string>;
  define(xml: string, label: string): Promise<void>;
  attachLive(ref: string, xml: string, label: string): Promise<void>;
  detachLive(ref: string, xml: string, label: string): Promise<void>;
  /** Sets, or with xml undefined removes, a namespaced element in the live definition's <metadata>. */
  setLiveMetadata(ref: string, ns: string, key: string, xml: string | undefined, label: string): Promise<void>;
  close(): void;
}

export const domainLabel = (uri: string, name: string): string => `${uri}/${name}`;

/** virDomainState as virsh prints it. */
const STATES = ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'];
const VIR_DOMAIN_XML_INACTIVE = 2;
const VIR_DOMAIN_AFFECT_LIVE = 1;
const VIR_DOMAIN_METADATA_ELEMENT = 2;
/** The daemon's own system-mode sockets: the per-driver one (modular daemons) first, as libvirt's client does. */
const SYSTEM_SOCKETS = ['/run/libvirt/virtqemud-sock', '/run/libvirt/libvirt-sock'];

/** The socket of a URI the RPC client serves, or undefined (virsh then). */
export function localSocket(uri: string, exists: (p: string) => boolean = existsSync): string | undefined {
  const m = /^qemu(\+unix)?:\/\/\/system(?:\?(.*))?$/.exec(uri);
  if (!m) return undefined;
  if (m[2] !== undefined) {
    const q = new URLSearchParams(m[2]);
    const keys = [...q.keys()];
    if (keys.length !== 1 || keys[0] !== 'socket' || !q.get('socket')) return undefined;
    return q.get('socket')!;
  }
  return SYSTEM_SOCKETS.find(exists) ?? SYSTEM_SOCKETS[SYSTEM_SOCKETS.length - 1];
}

export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A UUID as libvirt parses it (hex, dashes anywhere), or undefined. */
export function parseUuid(s: string): Buffer | undefined {
  const hex = s.replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** libvirt over its RPC protocol: one socket for the whole command, calls pipelined. */
export class RpcLibvirt implements LibvirtConn {
  readonly via = 'rpc' as const;
  private readonly doms = new Map<string, Promise<RemoteDomain>>();

  private constructor(
    readonly uri: string,
    private readonly client: RpcClient,
  ) {}

  /** Connects and authenticates; undefined when the daemon wants an authentication only virsh speaks (SASL). */
  static async open(uri: string, socket: string, timeoutMs = 60_000): Promise<RpcLibvirt | undefined> {
    let client: RpcClient;
    try {
      client = await RpcClient.open(socket, timeoutMs);
    } catch (e) {
      throw unreachable(uri, e as Error);
    }
    try {
      const types = (await client.call(Proc.authList, undefined, 'the authentication list')).array((r) => r.int(), 20);
      if (types.length > 0 && !types.includes(AUTH_NONE)) {
        if (!types.includes(AUTH_POLKIT)) {
          client.close();
          return undefined;
        }
        await client.call(Proc.authPolkit, undefined, 'polkit authentication');
      }
      await client.call(Proc.connectOpen, new XdrWriter().optString('qemu:///system').uint(0), 'the connection');
    } catch (e) {
      client.close();
      throw unreachable(uri, e as Error);
    }
    return new RpcLibvirt(uri, client);
  }

  close(): void {
    this.client.close();
  }

  private async call(proc: number, body: XdrWriter | undefined, op: string, label: string | undefined) {
    try {
      return await this.client.call(proc, body, op);
    } catch (e) {
      throw this.failed(e as Error, op, label);
    }
  }

  private failed(e: Error, op: string, label: string | undefined): VirshError {
    if (e instanceof RpcTransportError) return unreachable(this.uri, e);
    const kind: VirshFailure = e instanceof RpcError && e.code === VIR_ERR_NO_DOMAIN ? 'unknown-domain' : noPciSlot(e.message) ? 'no-pci-slot' : 'other';
    return failure(kind, e.message, { uri: this.uri, label, op, argv: ['libvirt-rpc', op] });
  }

  /** The domain `ref` names, looked up once: by ID, else UUID, else name, as virsh does. */
  private resolve(ref: string): Promise<RemoteDomain> {
    let p = this.doms.get(ref);
    if (!p) {
      p = this.find(ref);
      this.doms.set(ref, p);
    }
    return p;
  }

  private async find(ref: string): Promise<RemoteDomain> {
    const tries: [number, XdrWriter][] = [];
    if (/^\d+$/.test(ref) && Number(ref) < 2 ** 31) tries.push([Proc.domainLookupById, new XdrWriter().int(Number(ref))]);
    const uuid = parseUuid(ref);
    if (uuid) tries.push([Proc.domainLookupByUuid, new XdrWriter().fixed(uuid)]);
    tries.push([Proc.domainLookupByName, new XdrWriter().string(ref)]);
    for (const [i, [proc, body]] of tries.entries()) {
      try {
        return readDomain(await this.client.call(proc, body, 'the domain lookup'));
      } catch (e) {
        if (e instanceof RpcError && e.code === VIR_ERR_NO_DOMAIN && i < tries.length - 1) continue;
        throw this.failed(e as Error, 'lookup', `'${ref}'`);
      }
    }
    throw new Error('unreachable');
  }

  async lookup(ref: string): Promise<DomainInfo> {
    const dom = await this.resolve(ref);
    const label = domainLabel(this.uri, dom.name);
    const [state, persistent] = await Promise.all([
      this.call(Proc.domainGetState, writeDomain(new XdrWriter(), dom).uint(0), 'domstate', label),
      this.call(Proc.domainIsPersistent, writeDomain(new XdrWriter(), dom), 'dominfo', label),
    ]);
    const s = state.int();
    const info: DomainInfo = { name: dom.name, uuid: formatUuid(dom.uuid), state: STATES[s] ?? `state ${s}`, persistent: persistent.int() === 1, label };
    this.doms.set(info.uuid, Promise.resolve(dom));
    return info;
  }

  async names(): Promise<string[]> {
    const r = await this.call(Proc.connectListAllDomains, new XdrWriter().int(1).uint(0), 'list', undefined);
    const doms = r.array(readDomain, 16384);
    // As `virsh list --all`: running ones by ID, then the others by name.
    doms.sort((a, b) => (a.id >= 0 && b.id >= 0 ? a.id - b.id : a.id >= 0 ? -1 : b.id >= 0 ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return doms.map((d) => d.name);
  }

  async dumpxml(ref: string, which: Which, label: string): Promise<string> {
    const dom = await this.resolve(ref);
    const r = await this.call(Proc.domainGetXmlDesc, writeDomain(new XdrWriter(), dom).uint(which === 'persistent' ? VIR_DOMAIN_XML_INACTIVE : 0), 'dumpxml', label);
    return r.string();
  }

  async define(xml: string, label: string): Promise<void> {
    await this.call(Proc.domainDefineXml, new XdrWriter().string(xml), 'define', label);
  }

  async attachLive(ref: string, xml: string, label: string): Promise<void> {
    const dom = await this.resolve(ref);
    await this.call(Proc.domainAttachDeviceFlags, writeDomain(new XdrWriter(), dom).string(xml).uint(VIR_DOMAIN_AFFECT_LIVE), 'attach-device', label);
  }

  async detachLive(ref: string, xml: string, label: string): Promise<void> {
    const dom = await this.resolve(ref);
    await this.call(Proc.domainDetachDeviceFlags, writeDomain(new XdrWriter(), dom).string(xml).uint(VIR_DOMAIN_AFFECT_LIVE), 'detach-device', label);
  }

  async setLiveMetadata(ref: string, ns: string, key: string, xml: string | undefined, label: string): Promise<void> {
    const dom = await this.resolve(ref);
    const w = writeDomain(new XdrWriter(), dom)
      .int(VIR_DOMAIN_METADATA_ELEMENT)
      .optString(xml)
      .optString(xml === undefined ? undefined : key)
      .optString(ns)
      .uint(VIR_DOMAIN_AFFECT_LIVE);
    await this.call(Proc.domainSetMetadata, w, 'metadata', label);
  }
}

function unreachable(uri: string, e: Error): VirshError {
  const said = e instanceof RpcTransportError && e.message.startsWith('Failed to connect socket') ? `failed to connect to the hypervisor; ${e.message}` : e.message;
  return failure('unreachable', said, { uri, label: undefined, op: 'connect', argv: ['libvirt-rpc', 'connect'] });
}

/** How commands reach libvirt: RPC for a local socket, else (or with VNET_VIRT_LIBVIRT=virsh) virsh. */
export async function openLibvirt(uri: string, env: NodeJS.ProcessEnv = process.env): Promise<LibvirtConn> {
  const socket = env.VNET_VIRT_LIBVIRT === 'virsh' ? undefined : localSocket(uri);
  if (socket !== undefined) {
    const rpc = await RpcLibvirt.open(uri, socket);
    if (rpc) return rpc;
  }
  return new Virsh({ uri });
}
