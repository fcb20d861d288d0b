// What several formats share: a finding's path relative to the working folder,
// and a fingerprint that survives lines moving (rule, file, element, message).
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import type { Finding } from '../types.js';

/** The path of `file` relative to `cwd` with '/' separators, or undefined when it is outside `cwd` (or stdin). */
export function relativePath(file: string, cwd: string): string | undefined {
  if (file === '<stdin>') return undefined;
  const abs = isAbsolute(file) ? file : `${cwd}${sep}${file}`;
  const rel = relative(cwd, abs);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * One fingerprint per finding: the same problem keeps it when lines above it move,
 * and equal findings in one file are told apart by their order.
 */
export function fingerprints(findings: readonly Finding[], cwd: string): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const base = [f.rule, relativePath(f.file, cwd) ?? f.file, f.xpath, f.message].join('\0');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return createHash('sha256').update(`${base}\0${n}`).digest('hex').slice(0, 32);
  });
}
