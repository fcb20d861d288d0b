// Many booted guests in one libvirtd at once: each case gets its own bridge and
// /28 of 192.0.2.0/24 in the daemons' namespace, boots when a slot is free,
// and reads back the guest's verdict and its per-peer results.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { run, type RunResult } from '../../src/host/run.js';
import { cliPath, ipIn, linksIn, repoRoot, requireOrSkip, type LinkInfo } from '../helpers.js';
import { waitShutoff, type Libvirt } from './harness.js';

/** The .guest/ on disk was built by this very scripts/setup-guest.sh (its stamp carries the script's hash). */
export function guestIsCurrent(): boolean {
  try {
    const stamp = readFileSync(join(repoRoot, '.guest', 'stamp'), 'utf8').trim();
    const hash = createHash('sha256').update(readFileSync(join(repoRoot, 'scripts', 'setup-guest.sh'))).digest('hex').slice(0, 16);
    return stamp.endsWith(` ${hash}`);
  } catch {
    return false;
  }
}

/** Gate for tests that need the guest's newer /init (vnet.peers): skips outside CI, fails in CI. */
export function requireCurrentGuest(t: TestContext): boolean {
  return requireOrSkip(t, guestIsCurrent(), '.guest/ was built by an older scripts/setup-guest.sh: run `bash scripts/setup-guest.sh`');
}

/** `vnet-virt ARGS`, without blocking the other cases' polling (runCli is synchronous). */
export const cli = (...args: string[]): Promise<RunResult> => run([process.execPath, cliPath, ...args], { timeoutMs: 120_000 });

/** Case k's share of 192.0.2.0/24: a /28 whose .1 is on its bridge brK, .2 the guest, .3 a sibling. */
export interface Subnet {
  bridge: string;
  bridgeIp: string;
  guestCidr: string;
  siblingIp: string;
  siblingCidr: string;
}

export function subnet(k: number): Subnet {
  if (!Number.isInteger(k) || k < 1 || k > 15) throw new Error(`subnet ${k}: 1..15`);
  const base = 16 * k;
  return {
    bridge: `br${k}`,
    bridgeIp: `192.0.2.${base + 1}`,
    guestCidr: `192.0.2.${base + 2}/28`,
    siblingIp: `192.0.2.${base + 3}`,
    siblingCidr: `192.0.2.${base + 3}/28`,
  };
}

/** brK holding 192.0.2.(16k+1)/28 in namespace ns. */
export function makeBridge(ns: string, s: Subnet): void {
  ipIn(ns, 'link', 'add', s.bridge, 'type', 'bridge');
  ipIn(ns, 'addr', 'add', `${s.bridgeIp}/28`, 'dev', s.bridge);
  ipIn(ns, 'link', 'set', s.bridge, 'up');
}

/**
 * Moves ns's next interface index up by about `count` (ifb devices made and
 * deleted in one group). A macvtap's /dev/tapN is named by its ifindex, which
 * each namespace counts from 1 while /dev is shared: a macvtap here must not
 * get the number of one in another test's namespace.
 */
export function bumpIfindex(ns: string, count: number): boolean {
  const lines = Array.from({ length: count }, (_, i) => `link add name vnet-bump${i} group 4242 type ifb`).join('\n');
  const made = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  spawnSync('ip', ['-n', ns, 'link', 'del', 'group', '4242'], { stdio: 'ignore' });
  return made.status === 0;
}

export function link(ns: string, name: string): LinkInfo {
  const l = linksIn(ns).find((x) => x.ifname === name);
  if (!l) throw new Error(`${name} missing in ${ns}: ${linksIn(ns).map((x) => x.ifname).join(' ')}`);
  return l;
}

/** At most n holders at once; the others queue in order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface Booted {
  /** The first PING-OK / PING-FAIL line (the verdict on vnet.peer), or '(no verdict)'. */
  verdict: string;
  /** PEER-OK / PEER-FAIL per peer, when the guest was given vnet.peers. */
  peers: Map<string, 'OK' | 'FAIL'>;
  /** Serial log tail and libvirt's logs: for assertion messages. */
  details: string;
  ms: number;
}

export function peerResults(serial: string): Map<string, 'OK' | 'FAIL'> {
  const out = new Map<string, 'OK' | 'FAIL'>();
  for (const m of serial.matchAll(/^PEER-(OK|FAIL) (\S+)\r?$/gm)) out.set(m[2]!, m[1] as 'OK' | 'FAIL');
  return out;
}

const readSerial = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no serial log)';
  }
};

/** Waits until the running domain shuts off and reads what its guest said. */
export async function collect(lv: Libvirt, name: string, serialLog: string, t0: number, timeoutMs: number): Promise<Booted> {
  await waitShutoff(lv, name, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}\n--- serial log ---\n${readSerial(serialLog)}`);
  });
  const log = readSerial(serialLog);
  return {
    verdict: log.split(/\r?\n/).find((l) => /^PING-(OK|FAIL)/.test(l)) ?? '(no verdict)',
    peers: peerResults(log),
    details: `--- serial log ---\n${log.split('\n').slice(-40).join('\n')}\n${lv.logs(name)}`,
    ms: Date.now() - t0,
  };
}

/** virsh define + start; throws with libvirt's logs when either fails. */
export async function defineAndStart(lv: Libvirt, name: string, xmlFile: string): Promise<void> {
  const def = await lv.virsh('define', xmlFile);
  if (def.code !== 0) throw new Error(`virsh define ${name}: ${def.stderr}\n${lv.logs()}`);
  const st = await lv.virsh('start', name);
  if (st.code !== 0) throw new Error(`virsh start ${name}: ${st.stderr}\n${lv.logs(name)}`);
}
