// Network namespaces as the kernel sees them: every /proc/PID/ns/net, grouped
// by inode, matched against the names in /run/netns. A namespace no name
// points at is anonymous (systemd-nspawn, unshare, containers): `ip netns`
// cannot see it until it gets a handle (`ip netns attach`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface NetnsInfo {
  /** Inode of the namespace: its identity. */
  inode: number;
  /** Names under /run/netns that point at it. */
  names: string[];
  /** Processes inside, lowest PID first (the leader of a container is usually the lowest). */
  pids: number[];
  /** Command name of the lowest PID. */
  comm: string | undefined;
  /** The initial namespace: the host's own (that of PID 1, or of the kernel threads). */
  isHost: boolean;
}

export const NETNS_RUN_DIR = '/run/netns';

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

export function scanNetns(procDir = '/proc', runDir = NETNS_RUN_DIR): NetnsInfo[] {
  const byInode = new Map<number, NetnsInfo>();
  const get = (inode: number): NetnsInfo => {
    let info = byInode.get(inode);
    if (!info) byInode.set(inode, (info = { inode, names: [], pids: [], comm: undefined, isHost: false }));
    return info;
  };
  // Kernel threads (kthreadd is PID 2) always live in the initial namespace: the
  // host's, also when PID 1 is unreadable and we run inside another namespace.
  const hostInode = inodeOf(join(procDir, '1/ns/net')) ?? inodeOf(join(procDir, '2/ns/net')) ?? inodeOf(join(procDir, 'self/ns/net'));
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const inode = inodeOf(join(procDir, entry, 'ns/net'));
    if (inode !== undefined) get(inode).pids.push(Number(entry));
  }
  let names: string[] = [];
  try {
    names = readdirSync(runDir);
  } catch {
    // no named namespaces yet
  }
  for (const name of names) {
    const inode = inodeOf(join(runDir, name));
    if (inode !== undefined && inode !== inodeOf(runDir)) get(inode).names.push(name);
  }
  const out = [...byInode.values()];
  for (const info of out) {
    info.pids.sort((a, b) => a - b);
    info.names.sort();
    info.isHost = info.inode === hostInode;
    const first = info.pids[0];
    if (first !== undefined)
      try {
        info.comm = readFileSync(join(procDir, String(first), 'comm'), 'utf8').trim();
      } catch {
        // the process ended meanwhile
      }
  }
  return out.sort((a, b) => (a.pids[0] ?? Infinity) - (b.pids[0] ?? Infinity));
}

/** Why a namespace handle name is unusable, or undefined. */
export function netnsNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 255) return 'must be 1-255 characters';
  if (name === '.' || name === '..' || /[/\s]/.test(name)) return "must not be '.', '..' or contain '/' or white space";
  return undefined;
}
