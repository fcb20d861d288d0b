// Reading domain XML from a file or stdin, and writing results: to stdout, to
// a file, or in place through a temporary file and a rename (never half-written).
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { inputError, usageError, VnetError } from '../errors.js';
import { DomainDoc } from '../domain/doc.js';

/** The largest domain XML accepted: libvirt's own limit for a domain XML is 10 MiB. */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

const errno = (e: unknown): string | undefined =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

export function readText(file: string): string {
  let buf: Buffer;
  try {
    if (file !== '-' && statSync(file).isDirectory())
      throw inputError('E_IS_DIRECTORY', 'is a directory, not a domain XML file', { file, hint: 'name a .xml file' });
    buf = readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    if (e instanceof VnetError) throw e;
    if (errno(e) === 'ENOENT') throw inputError('E_FILE_MISSING', 'no such file', { file, hint: 'check the path' });
    if (errno(e)) throw inputError('E_FILE_UNREADABLE', `cannot read: ${(e as Error).message}`, { file, hint: 'check its permissions' });
    throw e;
  }
  const label = file === '-' ? '<stdin>' : file;
  if (buf.length > MAX_XML_BYTES)
    throw inputError('E_TOO_LARGE', `is ${buf.length} bytes; the limit is ${MAX_XML_BYTES}`, { file: label, hint: 'a libvirt domain XML is far smaller; check the file' });
  try {
    // Fatal decoding: a lossy decode would change bytes nobody asked to touch.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    throw inputError('E_ENCODING', 'is not UTF-8', { file: label, hint: 'convert it to UTF-8 (iconv -t UTF-8), as libvirt writes it' });
  }
}

export function readDomain(file: string): DomainDoc {
  return DomainDoc.parse(readText(file), file === '-' ? '<stdin>' : file);
}

/**
 * Writes `text` to `file` through a temporary file in the same folder and a
 * rename, so readers see the old file or the new one. An existing file keeps
 * its mode and owner; a symbolic link is followed, not replaced.
 */
export function writeAtomic(file: string, text: string): void {
  let target = file;
  // A new file gets the usual 0666 minus the umask; an existing one keeps its own mode.
  let mode: number | undefined;
  let owner: { uid: number; gid: number } | undefined;
  try {
    target = realpathSync(file);
    const st = statSync(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    // a new file
  }
  const tmp = join(dirname(target), `.${basename(target)}.vnet-virt-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode === undefined ? 0o666 : 0o600);
  try {
    writeSync(fd, text);
    // The umask must not narrow the mode of the file we replace.
    if (mode !== undefined) fchmodSync(fd, mode);
    if (owner && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) fchownSync(fd, owner.uid, owner.gid);
    fsyncSync(fd);
    closeSync(fd);
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

export async function unifiedDiff(file: string, before: string, after: string): Promise<string> {
  if (before === after) return '';
  const { createTwoFilesPatch } = await import('diff');
  const label = file === '-' ? '<stdin>' : file.replace(/^\/+/, '');
  return createTwoFilesPatch(`a/${label}`, `b/${label}`, before, after, undefined, undefined, { context: 3 })
    .split('\n')
    .slice(1)
    .join('\n');
}

export interface OutputOptions {
  output?: string | undefined;
  inPlace?: boolean | undefined;
  printDiff?: boolean | undefined;
  json?: boolean | undefined;
}

/** Where a patched document went, as the --json results report it. */
export interface Emitted {
  /** The file written (or left as it was, in place), '-' for stdout, null when only a diff was asked for. */
  output: string | null;
  /** Whether a file was written. */
  written: boolean;
  /** The patched XML, when it went to stdout inside a --json result. */
  xml?: string;
  /** The unified diff, with --print-diff inside a --json result. */
  diff?: string;
}

/** Rejects output options that exclude each other; call it before reading anything. */
export function checkOutputOptions(input: string, opts: OutputOptions): void {
  if (opts.inPlace && opts.output !== undefined)
    throw usageError('E_USAGE', '-o and --in-place exclude each other', { where: '--in-place', hint: 'give one of them' });
  if (opts.inPlace && input === '-')
    throw usageError('E_USAGE', '--in-place needs a file, not stdin', { where: '--in-place', hint: 'use -o FILE, or name the input file' });
}

function writeOutput(target: string, text: string, inPlace: boolean): void {
  try {
    writeAtomic(target, text);
  } catch (e) {
    const init = { file: target, where: inPlace ? '--in-place' : '-o', hint: 'check that the folder exists and is writable', cause: e };
    const message = `cannot write (${errno(e) ?? (e as Error).message})`;
    // A bad -o is a bad option value; a file that cannot be rewritten in place is the input's problem.
    throw inPlace ? inputError('E_WRITE_FAILED', message, init) : usageError('E_WRITE_FAILED', message, init);
  }
}

/**
 * Sends a patched document where the options say: the XML to stdout (default),
 * to -o FILE, or in place; --print-diff shows a unified diff instead of the XML
 * on stdout. With --json nothing is printed here: the caller prints one result.
 */
export async function emitDocument(
  input: string,
  before: string,
  after: string,
  opts: OutputOptions,
  stdout: (s: string) => void,
): Promise<Emitted> {
  checkOutputOptions(input, opts);
  const target = opts.inPlace ? input : opts.output;
  // In place, an unchanged document is not rewritten; -o always gets the document.
  const written = target !== undefined && (after !== before || !opts.inPlace);
  if (written) writeOutput(target, after, !!opts.inPlace);
  const emitted: Emitted = { output: target ?? (opts.printDiff ? null : '-'), written };
  if (opts.printDiff) {
    const diff = await unifiedDiff(input, before, after);
    if (opts.json) emitted.diff = diff;
    else stdout(diff);
  } else if (target === undefined) {
    if (opts.json) emitted.xml = after;
    else stdout(after);
  }
  return emitted;
}
