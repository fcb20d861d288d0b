// A stand-in for `ip` in pure tests: keeps a set of links, understands the
// commands the planner writes (single or -batch), and fails on request.
import type { RunOptions, RunResult } from '../../src/host/run.js';

export interface FakeLink {
  name: string;
  kind: 'tap' | 'veth' | 'macvtap' | 'bridge';
  alias?: string;
  master?: string;
  up: boolean;
  mtu: number;
  mac: string;
  link?: string;
  mode?: string;
  multiQueue?: boolean;
  group?: string;
}

/** How an injected failure looks: 'named' = ip says "Command failed -:N"; 'silent' = ip exits 255 without it. */
export type FailStyle = 'named' | 'silent';

function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

export class FakeIp {
  readonly links = new Map<string, FakeLink>();
  /** Every command line applied or attempted, without the `ip [-n NS]` prefix. */
  readonly log: string[] = [];
  processes = 0;
  private macs = 0;
  /** Return an error text to make this command fail. */
  failWhen: (line: string) => string | undefined = () => undefined;
  style: FailStyle = 'named';
  /** Called before each command; may abort a controller (simulating a kill). */
  beforeCommand: (line: string) => boolean = () => false;
  /** Called after each command that worked; true = the process is killed right after it. */
  afterCommand: (line: string) => boolean = () => false;

  add(l: Partial<FakeLink> & { name: string; kind: FakeLink['kind'] }): void {
    this.links.set(l.name, { up: false, mtu: 1500, mac: this.nextMac(), ...l });
  }

  private nextMac(): string {
    return `02:00:00:00:00:${(++this.macs).toString(16).padStart(2, '0')}`;
  }

  json(): string {
    return JSON.stringify(
      [...this.links.values()].map((l, i) => ({
        ifindex: i + 2,
        ifname: l.name,
        flags: l.up ? ['BROADCAST', 'UP'] : ['BROADCAST'],
        mtu: l.mtu,
        address: l.mac,
        ...(l.master && { master: l.master }),
        ...(l.alias !== undefined && { ifalias: l.alias }),
        ...(l.link && { link: l.link }),
        group: l.group ?? 'default',
        linkinfo:
          l.kind === 'tap'
            ? { info_kind: 'tun', info_data: { type: 'tap', vnet_hdr: true, multi_queue: Boolean(l.multiQueue) } }
            : l.kind === 'macvtap'
              ? { info_kind: 'macvtap', info_data: { mode: l.mode } }
              : { info_kind: l.kind },
      })),
    );
  }

  private del(name: string): void {
    const l = this.links.get(name);
    if (!l) throw new Error(`Cannot find device "${name}"`);
    this.links.delete(name);
    if (l.kind === 'veth' && l.link) this.links.delete(l.link);
    for (const o of this.links.values()) if (o.master === name) delete o.master;
    for (const o of [...this.links.values()]) if (o.link === name && o.kind === 'macvtap') this.links.delete(o.name);
  }

  private apply(w: string[]): void {
    const need = (name: string): FakeLink => {
      const l = this.links.get(name);
      if (!l) throw new Error(`Cannot find device "${name}"`);
      return l;
    };
    const fresh = (name: string): void => {
      if (this.links.has(name)) throw new Error('RTNETLINK answers: File exists');
    };
    const [obj, verb] = w;
    if (obj === 'tuntap' && verb === 'add') {
      fresh(w[3]!);
      return this.add({ name: w[3]!, kind: 'tap', multiQueue: w.includes('multi_queue') });
    }
    if (obj !== 'link') throw new Error(`fake ip: unknown command ${w.join(' ')}`);
    if (verb === 'del' && w[2] === 'group') {
      const members = [...this.links.values()].filter((l) => l.group === w[3]);
      if (members.length === 0) throw new Error('RTNETLINK answers: No such device');
      for (const m of members) if (this.links.has(m.name)) this.del(m.name);
      return;
    }
    if (verb === 'del') return this.del(w[3]!);
    if (verb === 'add') {
      if (w.includes('bridge')) {
        fresh(w[3]!);
        return this.add({ name: w[3]!, kind: 'bridge' });
      }
      if (w.includes('veth')) {
        // link add dev A type veth peer name B [address MAC]
        const p = w.indexOf('peer');
        const b = w[p + 2]!;
        const macOf = (from: number, to: number): { mac: string } | object => {
          const at = w.indexOf('address', from);
          return at > 0 && at < to ? { mac: w[at + 1]! } : {};
        };
        const a = w[3]!;
        fresh(a);
        fresh(b);
        this.add({ name: a, kind: 'veth', link: b, ...macOf(4, p) });
        return this.add({ name: b, kind: 'veth', link: a, ...macOf(p, w.length) });
      }
      const [lower, name, mac, mode] = [w[3]!, w[5]!, w[7]!, w[w.length - 1]!];
      need(lower);
      fresh(name);
      return this.add({ name, kind: 'macvtap', link: lower, mac, mode });
    }
    if (verb === 'set') {
      const l = need(w[3]!);
      for (let i = 4; i < w.length; i++) {
        const k = w[i]!;
        if (k === 'up') l.up = true;
        else if (k === 'down') l.up = false;
        else if (k === 'nomaster') delete l.master;
        else if (k === 'alias') {
          const v = w[++i]!;
          if (v === '') delete l.alias;
          else l.alias = v;
        } else if (k === 'master') {
          const b = w[++i]!;
          if (this.links.get(b)?.kind !== 'bridge') throw new Error(`Error: argument "${b}" is wrong: Device does not exist`);
          l.master = b;
        } else if (k === 'mtu') l.mtu = Number(w[++i]);
        else if (k === 'group') l.group = w[++i]!;
        else if (k === 'address') l.mac = w[++i]!;
        else if (k === 'type') {
          i += 2;
          l.mode = w[i]!;
        } else throw new Error(`fake ip: unknown link set ${k}`);
      }
      return;
    }
    throw new Error(`fake ip: unknown command ${w.join(' ')}`);
  }

  /** Runs one command line; returns the error text when it fails. */
  private line(text: string): string | undefined {
    this.log.push(text);
    const injected = this.failWhen(text);
    if (injected) return injected;
    try {
      this.apply(words(text));
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  readonly runner = async (argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    this.processes++;
    const rest = argv[1] === '-n' ? argv.slice(3) : argv.slice(1);
    if (rest.join(' ') === '-j -d link show') return { argv, code: 0, stdout: this.json(), stderr: '' };
    const batch = rest[0] === '-batch';
    const lines = batch ? (opts.input ?? '').split('\n').filter((l) => l !== '') : [rest.join(' ')];
    for (let i = 0; i < lines.length; i++) {
      if (this.beforeCommand(lines[i]!)) return { argv, code: 143, stdout: '', stderr: '' };
      const text = batch ? lines[i]! : rest.map((a) => (/\s/.test(a) || a === '' ? `"${a}"` : a)).join(' ');
      const err = this.line(text);
      if (err === undefined && this.afterCommand(text)) return { argv, code: 143, stdout: '', stderr: '' };
      if (err === undefined) continue;
      if (!batch) return { argv, code: 2, stdout: '', stderr: err + '\n' };
      if (this.style === 'silent') return { argv, code: 255, stdout: '', stderr: err + '\n' };
      return { argv, code: 1, stdout: '', stderr: `${err}\nCommand failed -:${i + 1}\n` };
    }
    return { argv, code: 0, stdout: '', stderr: '' };
  };
}
