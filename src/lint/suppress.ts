// Inline suppression: `<!-- vnet-virt-disable-next-line RULE[, RULE...] -->`
// silences those rules (all of them when none is named) on the line after the comment;
// a reason may follow a colon: `<!-- vnet-virt-disable-next-line mac-zero: a lab guest -->`.
import { ALWAYS_ON } from './rules/index.js';
import type { Finding } from './types.js';

const DIRECTIVE = /<!--\s*vnet-virt-disable-next-line\b([\s\S]*?)-->/g;

/** Per line that a directive covers: the rule ids it silences ('*' for all). */
export function directives(text: string): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  if (!text.includes('vnet-virt-disable-next-line')) return out;
  // Matches come in order: count lines from where the last one ended.
  let line = 1;
  let pos = 0;
  for (const m of text.matchAll(DIRECTIVE)) {
    // A reason may follow a colon, `RULE: why` (ESLint's ` -- why` is not allowed in an XML comment).
    const list = m[1]!.split(':')[0]!.split(/[\s,]+/).filter(Boolean);
    const end = m.index! + m[0].length;
    for (let i = text.indexOf('\n', pos); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) line++;
    pos = end;
    const set = out.get(line + 1) ?? new Set<string>();
    for (const id of list.length ? list : ['*']) set.add(id);
    out.set(line + 1, set);
  }
  return out;
}

/**
 * Drops the findings a directive in their file silences. `directivesOf` gives a
 * file's directives (lint's lanes read them as they lint the file); file-unreadable
 * and xml-syntax stay.
 */
export function suppress(
  findings: Finding[],
  directivesOf: (file: string) => readonly (readonly [number, readonly string[]])[] | undefined,
): { kept: Finding[]; suppressed: number } {
  const byFile = new Map<string, Map<number, ReadonlySet<string>>>();
  const kept: Finding[] = [];
  for (const f of findings) {
    if (ALWAYS_ON.has(f.rule)) {
      kept.push(f);
      continue;
    }
    let lines = byFile.get(f.file);
    if (!lines) byFile.set(f.file, (lines = new Map((directivesOf(f.file) ?? []).map(([line, ids]) => [line, new Set(ids)]))));
    const ids = lines.get(f.line);
    if (!ids || !(ids.has('*') || ids.has(f.rule))) kept.push(f);
  }
  return { kept, suppressed: findings.length - kept.length };
}
