// Writing a result file without breaking what is there:
// - a regular file (or a new one) gets a temporary file in the same folder and a
//   rename, so readers see the old file or the new one;
// - a file with several hard links is rewritten in its own inode, so every link
//   sees the change (see docs/reference.md, --in-place);
// - anything else (a character device, a FIFO, /dev/stdout, /proc/self/fd/N) is
//   opened and written, as `cat > FILE` would: never replaced.
// An --in-place edit holds an advisory lock on the file from the read to the
// rename (flock(2), taken through util-linux flock(1) on a shared descriptor),
// so two edits at once are serialised instead of one being lost.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoOf, inputError } from '../errors.js';

/** Seconds an --in-place edit waits for another edit of the same file to finish. */
export const EDIT_LOCK_WAIT_S = 30;

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

/** Whether following `file`'s links leads through /proc or /dev/fd (/dev/stdout, /proc/self/fd/N): a descriptor, not a file to replace. */
function throughDescriptor(file: string): boolean {
  let p = resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    if (/^\/(proc|dev\/fd)\//.test(p)) return true;
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return false;
    }
    if (!st.isSymbolicLink()) return false;
    p = resolve(dirname(p), readlinkSync(p));
  }
  return false;
}

const TMP_INFIX = '.vnet-virt-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) !== 'ESRCH';
  }
}

/** Removes `.NAME.vnet-virt-PID-*.tmp` files next to `target` whose writer is no longer running (a kill -9 mid-write). */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(target);
  const prefix = `.${basename(target)}${TMP_INFIX}`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)-[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** Rewrites a file with several hard links in its own inode: every link sees the new text. */
function overwriteInode(target: string, data: Buffer): void {
  const fd = openSync(target, 'r+');
  try {
    writeAll(fd, data);
    ftruncateSync(fd, data.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function replaceByRename(target: string, data: Buffer, st: Stats | undefined, verify?: () => void): void {
  removeStaleTemps(target);
  const tmp = join(dirname(target), `.${basename(target)}${TMP_INFIX}${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  // A new file gets the usual 0666 minus the umask; an existing one keeps its own mode.
  const fd = openSync(tmp, 'wx', st === undefined ? 0o666 : 0o600);
  try {
    writeAll(fd, data);
    if (st !== undefined) {
      // The umask must not narrow the mode of the file we replace.
      fchmodSync(fd, st.mode & 0o7777);
      if (st.uid !== process.getuid?.() || st.gid !== process.getgid?.()) fchownSync(fd, st.uid, st.gid);
    }
    fsyncSync(fd);
    closeSync(fd);
    verify?.();
    renameSync(tmp, target);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}

/**
 * Writes `text` to `file` as the header of this module says. A symbolic link
 * is followed, not replaced; an existing file keeps its mode and owner.
 * `verify` runs just before a rename or rewrite (an --in-place edit checks
 * that nobody changed the file since it was read).
 */
export function writeFileSafely(file: string, text: string, verify?: () => void): void {
  const data = Buffer.from(text, 'utf8');
  if (throughDescriptor(file)) return writeThrough(file, data);
  let target = file;
  let st: Stats | undefined;
  try {
    target = realpathSync(file);
    st = statSync(target);
  } catch {
    // a new file
  }
  if (st && !st.isFile()) return writeThrough(target, data);
  if (st && st.nlink > 1) {
    verify?.();
    return overwriteInode(target, data);
  }
  replaceByRename(target, data, st, verify);
}

/** Opens and writes a device, FIFO or descriptor as `cat > FILE` would (a FIFO waits for its reader). */
function writeThrough(file: string, data: Buffer): void {
  const fd = openSync(file, 'w');
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** An --in-place edit's hold on its file, from the read to the rename. */
export interface EditLock {
  /** Throws E_CHANGED_WHILE_EDITING when the file is no longer the one that was read. */
  verify(): void;
  release(): void;
}

const sameFile = (a: Stats, b: Stats): boolean =>
  a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * Takes the advisory lock (flock(2), exclusive) on `file` for an --in-place
 * edit, waiting up to EDIT_LOCK_WAIT_S for another edit to finish. flock
 * belongs to the open file description, so util-linux flock(1) run on our
 * descriptor takes it for us and it lasts until we close the descriptor (or
 * die: a kill -9 never leaves it behind). A rename by the previous holder
 * gives the path a new inode: then the lock is taken again on the new one.
 */
export function lockForEdit(file: string, label = file): EditLock {
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      // Reading reports a missing or unreadable file with its own message.
      return { verify: () => {}, release: () => {} };
    }
    const r = spawnSync('flock', ['-x', '-w', String(EDIT_LOCK_WAIT_S), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    const locked = r.status === 0;
    if (!locked && !(r.error && errnoOf(r.error) === 'ENOENT')) {
      closeSync(fd);
      throw inputError('E_FILE_BUSY', `another process has held its edit lock for ${EDIT_LOCK_WAIT_S} s${r.stderr ? ` (${r.stderr.trim()})` : ''}`, {
        file: label,
        where: '--in-place',
        hint: 'wait for the other vnet-virt edit to end, then run this again',
      });
    }
    // Without flock(1) (not util-linux) the check before the rename still catches a concurrent change.
    const held = fstatSync(fd);
    let now: Stats | undefined;
    try {
      now = statSync(file);
    } catch {
      // renamed away and not back: read it again below
    }
    if (now && held.ino === now.ino && held.dev === now.dev) {
      return {
        verify: () => {
          let cur: Stats | undefined;
          try {
            cur = statSync(file);
          } catch {
            // gone: changed
          }
          if (!cur || !sameFile(cur, held))
            throw inputError('E_CHANGED_WHILE_EDITING', 'changed while vnet-virt was editing it; nothing written', {
              file: label,
              where: '--in-place',
              hint: 'run the command again on the new file',
            });
        },
        release: () => closeSync(fd),
      };
    }
    closeSync(fd);
    if (attempt > 100) throw inputError('E_FILE_BUSY', 'keeps being replaced while vnet-virt tries to lock it', { file: label, where: '--in-place', hint: 'run this again when nothing else rewrites the file' });
  }
}
