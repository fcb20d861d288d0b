// Reading domain XML from a file or stdin (bounded: see domain/read), and
// writing results: to stdout, to -o FILE, or in place (see write-file).
import { statSync } from 'node:fs';
import { cannotWrite, errnoOf, inputError, usageError, VnetError } from '../errors.js';
import { DomainDoc } from '../domain/doc.js';
import { inputLabel, readXmlText } from '../domain/read.js';
import { lockForEdit, writeFileSafely } from './write-file.js';
import type { EditLock } from './write-file.js';

/** The text of a domain XML file, or of stdin for '-': bounded, UTF-8 checked. */
export const readText = (file: string): string => readXmlText(file);

export function readDomain(file: string): DomainDoc {
  return DomainDoc.parse(readText(file), inputLabel(file));
}

const editLocks = new Map<string, EditLock>();

/** A FIFO, device or socket; a missing path or a folder is left to the read to report. */
function isSpecial(file: string): boolean {
  try {
    const st = statSync(file);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runs an edit of `input` (read, patch, maybe provision, write). With
 * --in-place it holds the file's edit lock from the read to the rename, so
 * concurrent edits of one file are serialised and none is lost.
 */
export async function editing<T>(input: string, opts: OutputOptions, edit: () => Promise<T>): Promise<T> {
  if (!opts.inPlace || input === '-') return edit();
  // A FIFO or a device has no file to rewrite (and opening a FIFO to lock it would wait for a writer).
  if (isSpecial(input))
    throw usageError('E_USAGE', '--in-place needs a regular file', { file: input, where: '--in-place', hint: 'use -o FILE to write elsewhere' });
  const lock = lockForEdit(input);
  editLocks.set(input, lock);
  try {
    return await edit();
  } finally {
    editLocks.delete(input);
    lock.release();
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
    writeFileSafely(target, text, inPlace ? editLocks.get(target)?.verify : undefined);
  } catch (e) {
    // A bad -o is a bad option value; a file that cannot be rewritten in place is the input's problem.
    if (!inPlace || e instanceof VnetError) throw cannotWrite(target, '-o', e);
    throw inputError('E_WRITE_FAILED', `cannot write (${errnoOf(e) ?? (e as Error).message})`, {
      file: target,
      where: '--in-place',
      hint: 'check that the folder exists and is writable',
      cause: e,
    });
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
