// Reading domain XML from a file or stdin, and writing results: to stdout, to
// a file, or in place through a temporary file and a rename (never half-written).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inputError, usageError } from '../errors.js';
import { DomainDoc } from '../domain/doc.js';

/** The largest domain XML accepted: libvirt's own limit for a domain XML is 10 MiB. */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

export function readText(file: string): string {
  let buf: Buffer;
  try {
    if (file !== '-' && statSync(file).isDirectory())
      throw usageError('E_IS_DIRECTORY', 'is a directory, not a domain XML file', { file, hint: 'name a .xml file' });
    buf = readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT')
      throw inputError('E_FILE_MISSING', 'no such file', { file, hint: 'check the path' });
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E') && !('exitCode' in e))
      throw inputError('E_FILE_UNREADABLE', `cannot read: ${e.message}`, { file });
    throw e;
  }
  if (buf.length > MAX_XML_BYTES)
    throw inputError('E_TOO_LARGE', `is ${buf.length} bytes; the limit is ${MAX_XML_BYTES}`, { file });
  return buf.toString('utf8');
}

export function readDomain(file: string): DomainDoc {
  return DomainDoc.parse(readText(file), file === '-' ? '<stdin>' : file);
}

/** Writes `text` to `file` atomically, keeping the file's mode. */
export function writeAtomic(file: string, text: string): void {
  let mode = 0o644;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch {
    // a new file
  }
  const tmp = join(dirname(file), `.${basename(file)}.vnet-virt-${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}

export async function unifiedDiff(file: string, before: string, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const label = file === '-' ? '<stdin>' : file;
  if (before === after) return '';
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

/**
 * Sends a patched document where the options say: the XML to stdout (default),
 * to -o FILE, or in place; --print-diff shows a unified diff instead of the XML.
 * Returns where the XML went ('-' for stdout, or undefined when only a diff or JSON was printed).
 */
export async function emitDocument(
  input: string,
  before: string,
  after: string,
  opts: OutputOptions,
  stdout: (s: string) => void,
): Promise<string | undefined> {
  if (opts.inPlace && opts.output) throw usageError('E_USAGE', '-o and --in-place exclude each other', { where: '--in-place' });
  if (opts.inPlace && input === '-') throw usageError('E_USAGE', '--in-place needs a file, not stdin', { where: '--in-place' });
  const target = opts.inPlace ? input : opts.output;
  // In place, an unchanged document is not rewritten; -o always gets the document.
  if (target && (after !== before || !opts.inPlace)) writeAtomic(target, after);
  if (opts.printDiff) {
    if (!opts.json) stdout(await unifiedDiff(input, before, after));
    return target;
  }
  if (target) return target;
  if (!opts.json) stdout(after);
  return '-';
}
