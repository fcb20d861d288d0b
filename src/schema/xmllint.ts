// The schema check run by libxml2's own xmllint, the program virt-xml-validate
// wraps: one process for many files (the schema is compiled once per run),
// native speed, and on another core than the rules. Its stderr is parsed back
// into one verdict per file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { SchemaProblem, SchemaVerdict } from './libvirt.js';

/** The xmllint on PATH, or undefined. */
export function findXmllint(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'xmllint');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface XmllintInput {
  /** A path, or '-' for the bytes in `data`. */
  path: string;
  data?: Uint8Array;
}

// xmllint's diagnostic lines: "FILE:LINE: [element NAME: ]KIND error : MESSAGE", or without FILE:LINE.
const DIAGNOSTIC = /^(?:(.*?):(\d+): )?(?:element ([^:]*): )?(?:Relax-NG validity|parser|namespace|validity|IO|I\/O) error : (.*)$/;

/**
 * Splits xmllint's stderr into verdicts, in the order of `names` (as passed to xmllint).
 * "NAME validates" / "NAME fails to validate" close a file; a file xmllint could not
 * parse gets no such line, only "NAME:LINE: parser error" lines.
 */
export function parseXmllintOutput(names: readonly string[], stderr: string): (SchemaVerdict | undefined)[] {
  const closing = new Map<string, { index: number; valid: boolean }>();
  names.forEach((n, index) => {
    closing.set(`${n} validates`, { index, valid: true });
    closing.set(`${n} fails to validate`, { index, valid: false });
  });
  const byName = new Map(names.map((n, i) => [n, i]));
  const verdicts: (SchemaVerdict | undefined)[] = new Array(names.length);
  const parseProblems = new Map<number, SchemaProblem[]>();
  let pending: SchemaProblem[] = [];
  for (const line of stderr.split('\n')) {
    const close = closing.get(line);
    if (close) {
      verdicts[close.index] = close.valid ? { kind: 'valid' } : { kind: 'invalid', problems: pending };
      pending = [];
      continue;
    }
    const m = DIAGNOSTIC.exec(line);
    if (!m) continue; // the source excerpt and caret xmllint prints under a parser error
    const [, file, lineNo, element, message] = m;
    const problem: SchemaProblem = { message: message!.trim(), line: lineNo ? Number(lineNo) : 0, xpath: undefined, element };
    const owner = file !== undefined ? byName.get(file) : undefined;
    if (owner !== undefined && /: (?:parser|namespace) error : /.test(line)) {
      const list = parseProblems.get(owner) ?? [];
      list.push(problem);
      parseProblems.set(owner, list);
    } else pending.push(problem);
  }
  // undefined: xmllint said nothing about the file (it could not read it, say).
  return names.map((_, i) => {
    const problems = parseProblems.get(i);
    return verdicts[i] ?? (problems && { kind: 'not-well-formed', problems });
  });
}

/** Arguments per xmllint process: far below ARG_MAX (2 MiB on Linux), counting the environment. */
const MAX_ARG_BYTES = 256 * 1024;

function chunks(inputs: readonly XmllintInput[]): XmllintInput[][] {
  const out: XmllintInput[][] = [];
  let current: XmllintInput[] = [];
  let bytes = 0;
  for (const input of inputs) {
    const size = Buffer.byteLength(input.path) + 1;
    // stdin goes alone: it is the process's only '-'.
    if (current.length && (bytes + size > MAX_ARG_BYTES || input.data || current[0]!.data)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(input);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

/** An unlinked temporary file for xmllint's stderr: reading it once at the end is cheaper than a pipe that wakes us per line. */
function scratchFile(): number {
  const path = join(tmpdir(), `vnet-virt-xmllint-${process.pid}-${randomBytes(6).toString('hex')}.log`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  return fd;
}

function readAll(fd: number): string {
  const buf = Buffer.allocUnsafe(fstatSync(fd).size);
  let at = 0;
  while (at < buf.length) {
    const n = readSync(fd, buf, at, buf.length - at, at);
    if (n === 0) break;
    at += n;
  }
  return buf.subarray(0, at).toString('utf8');
}

function runOnce(xmllint: string, rng: string, inputs: XmllintInput[]): Promise<(SchemaVerdict | undefined)[]> {
  // A relative path that starts with '-' would read as an option.
  const names = inputs.map((i) => (i.path.startsWith('-') && i.path !== '-' ? `./${i.path}` : i.path));
  const stdin = inputs[0]?.data;
  return new Promise((resolve, reject) => {
    const err = scratchFile();
    const finish = (fn: () => void): void => {
      try {
        fn();
      } finally {
        closeSync(err);
      }
    };
    const child = spawn(xmllint, ['--noout', '--nonet', '--relaxng', rng, ...names], {
      stdio: [stdin ? 'pipe' : 'ignore', 'ignore', err],
      env: { ...process.env, LC_ALL: 'C' },
    });
    child.on('error', (e) => finish(() => reject(e)));
    child.on('close', (code) =>
      finish(() => {
        const stderr = readAll(err);
        // 0: all valid, 1: a file is not well-formed, 3/4: a file is invalid; anything else is xmllint's own failure.
        if (code !== 0 && code !== 1 && code !== 3 && code !== 4)
          reject(new Error(`xmllint exited with ${code}: ${stderr.trim().split('\n').slice(0, 3).join(' ')}`));
        else resolve(parseXmllintOutput(names, stderr));
      }),
    );
    if (stdin) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(stdin);
    }
  });
}

/**
 * Validates every input against `rng`: the inputs are cut into `parallel` runs
 * (more when the argument limit asks for it) that run side by side.
 */
export async function validateWithXmllint(
  xmllint: string,
  rng: string,
  inputs: readonly XmllintInput[],
  parallel = 1,
): Promise<(SchemaVerdict | undefined)[]> {
  const per = Math.ceil(inputs.length / Math.max(1, parallel));
  const parts: XmllintInput[][] = [];
  for (let i = 0; i < inputs.length; i += per) parts.push(...chunks(inputs.slice(i, i + per)));
  const results: (SchemaVerdict | undefined)[][] = new Array(parts.length);
  let next = 0;
  const runner = async (): Promise<void> => {
    for (let i = next++; i < parts.length; i = next++) results[i] = await runOnce(xmllint, rng, parts[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, runner));
  return results.flat();
}
