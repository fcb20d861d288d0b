// The hook at `migrate begin`, which libvirt runs on the destination of a live
// migration with the domain XML on stdin and whose stdout (when not empty) it
// uses as the domain's XML there. Two jobs, both before QEMU starts:
// - the host map: this host's names for the bridges and lower devices other
//   hosts name differently (/etc/vnet-virt/host-map.conf), applied to the
//   record and to direct/bridge interfaces, byte-exact elsewhere;
// - refusing the migration when a bridge or lower device the guest needs does
//   not exist here: the `prepare begin` that follows would otherwise fail late
//   or, with create-bridge, land the guest on a new, empty bridge.
import { existsSync, readFileSync } from 'node:fs';
import { parseXml, attr, childElements, namespaceOf, localName, escapeAttr } from '../domain/xml.js';
import type { XmlElement } from '../domain/xml.js';
import { RECORD_NS } from '../domain/record.js';
import { VnetError, ExitCode } from '../errors.js';
import { run, ipArgv } from '../host/run.js';
import type { Runner } from '../host/run.js';
import type { HookIO, HookOverrides, HookResult } from './types.js';
import { loadSettings } from './settings.js';

export const HOST_MAP_FILE = '/etc/vnet-virt/host-map.conf';
export const HOST_MAP_ENV = 'VNET_VIRT_HOOK_HOST_MAP';

export interface HostMap {
  file: string;
  bridge: ReadonlyMap<string, string>;
  lower: ReadonlyMap<string, string>;
}

const mapError = (message: string, file: string, line: number): VnetError =>
  new VnetError(message, {
    code: 'E_HOST_MAP',
    exitCode: ExitCode.invalidInput,
    file,
    where: `line ${line}`,
    hint: 'write "bridge NAME = THIS-HOST-NAME" or "lower NAME = THIS-HOST-NAME"',
  });

/** `bridge br0 = br-lan` / `lower eth0 = ens3` lines; `#` comments. A typo fails the migration, never passes silently. */
export function parseHostMap(text: string, file: string): HostMap {
  const bridge = new Map<string, string>();
  const lower = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^(bridge|lower)\s+(\S+)\s*=\s*(\S+)$/.exec(line);
    if (!m) throw mapError(`cannot read "${line}"`, file, i + 1);
    const [, kind, from, to] = m as unknown as [string, 'bridge' | 'lower', string, string];
    if (Buffer.byteLength(to) > 15 || /[/:%\s]/.test(to)) throw mapError(`"${to}" is not a device name`, file, i + 1);
    const target = kind === 'bridge' ? bridge : lower;
    if (target.has(from)) throw mapError(`${kind} ${from} is mapped twice`, file, i + 1);
    target.set(from, to);
  });
  return { file, bridge, lower };
}

/** The host map, or undefined when this host has none. */
export function loadHostMap(env: Readonly<Record<string, string | undefined>>, readFile = (p: string) => readFileSync(p, 'utf8')): HostMap | undefined {
  const file = env[HOST_MAP_ENV] || HOST_MAP_FILE;
  try {
    return parseHostMap(readFile(file), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A device the guest needs on this host, after the map. */
export interface Need {
  kind: 'bridge' | 'lower';
  name: string;
  /** The name the incoming XML used, when the map changed it. */
  was?: string;
  /** The interface it is for (target or source device). */
  iface: string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function walk(el: XmlElement, visit: (e: XmlElement) => void): void {
  visit(el);
  for (const c of el.children) if (c.kind === 'element') walk(c, visit);
}

/**
 * Applies the map to the XML (only attribute values change; every other byte
 * stays) and lists the bridges and lower devices the guest needs here.
 */
export function mapDomain(xml: string, map: HostMap | undefined): { xml: string; changed: boolean; needs: Need[] } {
  const tree = parseXml(xml);
  const edits: Edit[] = [];
  const needs: Need[] = [];
  const q = (el: XmlElement, name: string): string => {
    const a = el.attrs.find((x) => x.name === name)!;
    return xml[a.end - 1] === "'" ? "'" : '"';
  };
  const use = (el: XmlElement, name: string, kind: Need['kind'], iface: string): void => {
    const a = el.attrs.find((x) => x.name === name);
    if (!a) return;
    const to = (kind === 'bridge' ? map?.bridge : map?.lower)?.get(a.value);
    if (to !== undefined && to !== a.value) {
      const quote = q(el, name);
      edits.push({ start: a.start, end: a.end, text: `${name}=${quote}${escapeAttr(to)}${quote}` });
      needs.push({ kind, name: to, was: a.value, iface });
    } else {
      needs.push({ kind, name: a.value, iface });
    }
  };
  walk(tree.root, (el) => {
    if (namespaceOf(el) === RECORD_NS) {
      const local = localName(el);
      const dev = attr(el, 'dev') ?? '?';
      if (local === 'tap') use(el, 'bridge', 'bridge', dev);
      if (local === 'macvtap') {
        use(el, 'bridge', 'bridge', dev);
        // With a veth peer, vnet-virt makes the lower device itself: its name is the record's on every host.
        if (attr(el, 'veth-peer') === undefined) use(el, 'lower', 'lower', dev);
      }
      return;
    }
    if (el.name !== 'interface' || el.parent?.name !== 'devices') return;
    const type = attr(el, 'type');
    const source = childElements(el, 'source')[0];
    if (!source) return;
    if (type === 'direct') use(source, 'dev', 'lower', attr(source, 'dev') ?? '?');
    if (type === 'bridge') use(source, 'bridge', 'bridge', attr(source, 'bridge') ?? '?');
  });
  edits.sort((a, b) => b.start - a.start);
  let out = xml;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { xml: out, changed: edits.length > 0, needs };
}

/** The first need that this host lacks, as the one-line refusal. */
export async function checkNeeds(domain: string, needs: Need[], map: HostMap | undefined, netns: string | undefined, runner: Runner = run): Promise<void> {
  if (needs.length === 0) return;
  const r = await runner(ipArgv(netns, ['-j', 'link', 'show']), { timeoutMs: 10_000 });
  if (r.code !== 0) throw new VnetError(`ip link show failed: ${r.stderr.trim()}`, { code: 'E_HOST', exitCode: ExitCode.hostFailedUndone });
  const have = new Set((JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname));
  const missing = needs.find((n) => !have.has(n.name));
  if (!missing) return;
  const mapFile = map?.file ?? HOST_MAP_FILE;
  const mapped = missing.was ? ` (mapped from ${missing.was} by ${mapFile})` : '';
  throw new VnetError(`migration refused: ${missing.kind} ${missing.name}${mapped} does not exist on this host (interface ${missing.iface})`, {
    code: 'E_MIGRATE_NEEDS',
    exitCode: ExitCode.invalidInput,
    where: domain,
    hint: `create it, or map it to this host's name in ${mapFile} ("${missing.kind} ${missing.was ?? missing.name} = NAME"); a new empty bridge is never made for an incoming guest`,
  });
}

/**
 * `migrate begin`: returns the XML to print (undefined: print nothing, libvirt
 * keeps its own), or throws the one-line refusal.
 */
export async function migrateBegin(domain: string, xml: string, env: Readonly<Record<string, string | undefined>>, netns: string | undefined, runner: Runner = run): Promise<string | undefined> {
  const map = loadHostMap(env);
  const { xml: mapped, changed, needs } = mapDomain(xml, map);
  await checkNeeds(domain, needs, map, netns, runner);
  return changed ? mapped : undefined;
}

/** The hook's `migrate begin` call: the mapped XML on stdout when the map changed it; a refusal is one line and exit 3. */
export async function hookMigrateBegin(domain: string, io: HookIO, overrides: HookOverrides): Promise<HookResult> {
  const xml = await io.stdin();
  try {
    // Work only for a guest of vnet-virt's, or on a host that maps names.
    if (!xml.includes(RECORD_NS) && !existsSync(io.env[HOST_MAP_ENV] || HOST_MAP_FILE)) return { code: 0, outcome: 'no-record' };
    const netns = overrides.netns ?? loadSettings(io.env).netns;
    const out = await migrateBegin(domain, xml, io.env, netns);
    if (out !== undefined) io.stdout?.(out);
    return { code: 0, outcome: 'done' };
  } catch (e) {
    const err = e instanceof VnetError ? e : new VnetError(e instanceof Error ? e.message : String(e), { code: 'E_INTERNAL', exitCode: ExitCode.hostFailedUndone });
    io.stderr(`vnet-virt: ${domain}: ${err.oneLine().replace(new RegExp(`^${domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), '')}\n`);
    return { code: err.exitCode, outcome: 'failed' };
  }
}
