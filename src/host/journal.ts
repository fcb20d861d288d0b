// The journal of an `up` in progress. A device gets its marker (the alias)
// only after it exists: the kernel ignores an alias given to RTM_NEWLINK, and
// `ip tuntap add` takes none. So before the first device is created, up writes
// here what it is about to create and for whom; a kill -9 between a creation
// and its marker then leaves a device the journal still names as that domain's:
// the next up finishes it (marks it, fixes it), the next down removes it. A run
// that ends (done, or failed and undone) removes its journal; runs hold the
// namespace's lock, so every other journal found is one a killed run left.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VnetError, ExitCode } from '../errors.js';
import type { Link, LinkKind } from './facts.js';

export const DEFAULT_STATE_DIR = '/run/vnet-virt';

export interface JournalEntry {
  device: string;
  kind: LinkKind;
  /** The marker the device is to carry. */
  marker: string;
}

interface JournalFile {
  path: string;
  entries: JournalEntry[];
}

/** The state folder: an option, else $VNET_VIRT_STATE_DIR, else /run/vnet-virt. */
export const stateDirOf = (dir: string | undefined): string => dir ?? process.env['VNET_VIRT_STATE_DIR'] ?? DEFAULT_STATE_DIR;

/**
 * The journal folder of a namespace: by name and inode, so a namespace deleted
 * and made again under the same name does not inherit an old journal.
 */
export function journalDir(stateDir: string, netns: string | undefined): string {
  let ino = 0;
  try {
    ino = statSync(netns === undefined ? '/proc/self/ns/net' : `/run/netns/${netns}`).ino;
  } catch {
    // the probe already reported a missing namespace
  }
  return join(stateDir, 'pending', netns === undefined ? `self-${ino}` : `ns-${netns}-${ino}`);
}

/** The journals in `dir`, but `except` (a run's own, which it need not read back: thousands of entries at fleet scale). */
function readJournals(dir: string, except?: string): JournalFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && join(dir, n) !== except);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const path = join(dir, n);
    try {
      const j = JSON.parse(readFileSync(path, 'utf8')) as { entries?: JournalEntry[] };
      return Array.isArray(j.entries) ? [{ path, entries: j.entries }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Devices a killed run created and could not mark yet, with the marker they
 * were for: only those that still exist, carry no alias and are of the kind
 * the journal names.
 */
export function pendingClaims(dir: string, links: ReadonlyMap<string, Link>): Map<string, string> {
  const claims = new Map<string, string>();
  for (const j of readJournals(dir))
    for (const e of j.entries) {
      const l = links.get(e.device);
      if (l && l.alias === undefined && l.kind === e.kind) claims.set(e.device, e.marker);
    }
  return claims;
}

/** Writes this run's journal (atomically: a rename) and returns its path; nothing has changed when it cannot. */
export function writeJournal(dir: string, entries: readonly JournalEntry[]): string {
  const path = join(dir, `${process.pid}-${Date.now()}.json`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, JSON.stringify({ pid: process.pid, started: new Date().toISOString(), entries }) + '\n', { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  } catch (e) {
    throw new VnetError(`cannot write the journal of this run in ${dir}: ${(e as Error).message}; nothing was changed`, {
      code: 'E_JOURNAL',
      exitCode: ExitCode.hostFailedUndone,
      hint: 'run as root, or point VNET_VIRT_STATE_DIR at a writable folder',
    });
  }
  return path;
}

/** unlink, not rmSync: rmSync loads node's rimraf on every call (the hook pays each module it loads). */
function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Removes this run's journal, and the namespace's folder when nothing else is
 * pending there, so /run/vnet-virt/pending does not fill with empty folders,
 * one per namespace ever used. Runs hold the namespace's lock, so no other run
 * writes into this folder meanwhile; a killed run's journal keeps it (rmdir
 * fails with ENOTEMPTY).
 */
export function removeJournal(path: string): void {
  unlinkIfThere(path);
  removeIfEmpty(dirname(path));
}

/** A namespace's folder goes once nothing is pending in it; a journal written meanwhile keeps it (ENOTEMPTY). */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

/**
 * Drops the entries of killed runs that need nothing any more (`resolved`:
 * the device is gone, or carries a marker); a journal left empty is removed.
 */
export function pruneJournals(dir: string, resolved: (e: JournalEntry) => boolean, except?: string): void {
  try {
    prune(dir, resolved, except);
  } catch {
    // Best effort: an entry left behind only names devices that are gone or marked.
  }
}

function prune(dir: string, resolved: (e: JournalEntry) => boolean, except?: string): void {
  // A run killed while writing its journal leaves the temporary file: it had created nothing yet.
  try {
    for (const n of readdirSync(dir)) if (n.endsWith('.tmp') && join(dir, n) !== `${except}.tmp`) unlinkIfThere(join(dir, n));
  } catch {
    return;
  }
  for (const j of readJournals(dir, except)) {
    const left = j.entries.filter((e) => !resolved(e));
    if (left.length === j.entries.length) continue;
    if (left.length === 0) unlinkIfThere(j.path);
    else {
      writeFileSync(`${j.path}.tmp`, JSON.stringify({ entries: left }) + '\n', { mode: 0o600 });
      renameSync(`${j.path}.tmp`, j.path);
    }
  }
  removeIfEmpty(dir);
}
