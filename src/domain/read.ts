// Reading domain XML bytes, bounded: from a file, a FIFO, a device or stdin,
// reading stops one byte past the limit, so /dev/zero or an endless pipe costs
// at most the limit in memory. Every command and the hook read through here.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, inputError } from '../errors.js';

/** The largest domain XML accepted: libvirt's own limit for a domain XML is 10 MiB. */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads `fd` to its end, but never more than `limit + 1` bytes: a result longer
 * than `limit` means the input is too large (the rest is left unread). `into`,
 * when given, is used as the buffer (lint's lanes reuse one of `limit + 1`
 * bytes per thread; a smaller one is outgrown into a new buffer when the input
 * does not fit). A non-blocking descriptor (a terminal or a pipe some parent
 * made non-blocking) is polled.
 */
export function readBounded(fd: number, limit = MAX_XML_BYTES, into?: Buffer): Buffer {
  let buf = into ?? Buffer.allocUnsafe(Math.min(limit + 1, 64 * 1024));
  let size = 0;
  for (;;) {
    if (size === buf.length) {
      if (size > limit) break;
      const bigger = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 4));
      buf.copy(bigger, 0, 0, size);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, size, buf.length - size, null);
    } catch (e) {
      if (errnoOf(e) !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 10);
      continue;
    }
    if (n === 0) break;
    size += n;
  }
  return buf.subarray(0, size);
}

const tooLarge = (label: string) =>
  inputError('E_TOO_LARGE', `is over ${MAX_XML_BYTES} bytes, the limit`, { file: label, hint: 'a libvirt domain XML is far smaller; is this the right file?' });

/** Whether a folder's entry is a regular file; for a symbolic link, whether what it points at is one. */
export function isRegularEntry(dir: string, entry: Dirent): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, entry.name)).isFile();
  } catch {
    return false;
  }
}

/** How messages name an input: '-' is stdin. */
export const inputLabel = (file: string): string => (file === '-' ? '<stdin>' : file);

/**
 * The bytes of a domain XML: `file`, or stdin for '-'. A FIFO or a device is
 * read as `cat` would, up to the limit. Errors are VnetErrors (exit 3):
 * E_FILE_MISSING, E_IS_DIRECTORY, E_FILE_UNREADABLE, E_TOO_LARGE.
 */
export function readXmlBytes(file: string, into?: Buffer): Buffer {
  const label = inputLabel(file);
  let fd: number | undefined;
  let data: Buffer;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
    // A directory opens, and its read fails with EISDIR: no fstat per file.
    data = readBounded(fd, MAX_XML_BYTES, into);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') throw inputError('E_FILE_MISSING', 'no such file', { file: label, hint: 'check the path' });
    if (errnoOf(e) === 'EISDIR') throw inputError('E_IS_DIRECTORY', 'is a directory, not a domain XML file', { file: label, hint: 'name a .xml file' });
    if (errnoOf(e)) throw inputError('E_FILE_UNREADABLE', `cannot read: ${(e as Error).message}`, { file: label, hint: 'check its permissions', cause: e });
    throw e;
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
  if (data.length > MAX_XML_BYTES) throw tooLarge(label);
  return data;
}

/** UTF-8 text of a domain XML's bytes; anything else is refused (E_ENCODING), never decoded lossily. */
// One decoder for every file: a decode without `stream` starts afresh, also after a failed one.
let decoder: TextDecoder | undefined;

export function decodeXml(data: Uint8Array, label: string): string {
  if (data.length > MAX_XML_BYTES) throw tooLarge(label);
  try {
    // Fatal decoding: a lossy decode would change bytes nobody asked to touch.
    return (decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })).decode(data);
  } catch {
    throw inputError('E_ENCODING', 'is not UTF-8', { file: label, hint: 'convert it to UTF-8 (iconv -t UTF-8), as libvirt writes it' });
  }
}

/** The text of a domain XML file, or of stdin for '-': bounded, UTF-8 checked. */
export function readXmlText(file: string): string {
  // The bytes are decoded before the next read, so one buffer serves every file that fits in it.
  return decodeXml(readXmlBytes(file, (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES))), inputLabel(file));
}

/**
 * The read buffer readXmlText reuses: a fresh 64 KiB per file (a domain XML is
 * a few KiB) made `up` of 1,000 domains allocate 64 MB and collect it again.
 */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;
