// Text: one line per finding, `file:line: severity rule: message`, its hint and the rule's docs indented below.
import { ruleDocsUrl } from '../docs.js';
import type { LintResult } from '../types.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The text report in pieces of about 64 KB: a run with 100,000s of findings never holds it all as one string. */
export function* textChunks(result: LintResult): Generator<string> {
  let chunk = '';
  for (const f of result.findings) {
    chunk += `${f.file}:${f.line}: ${f.severity} ${f.rule}: ${f.message}\n  hint: ${f.hint}\n  docs: ${ruleDocsUrl(f.rule)}\n`;
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  const s = result.summary;
  const skipped = s.skipped ? `, ${s.skipped} skipped` : '';
  yield `${chunk}${plural(result.files, 'file')}${skipped}: ${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${s.info} info\n`;
}

export function formatText(result: LintResult): string {
  return [...textChunks(result)].join('');
}
