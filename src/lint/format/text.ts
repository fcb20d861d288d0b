// Text: one line per finding, `file:line: severity rule: message`, its hint and the rule's docs indented below.
import { ruleDocsUrl } from '../docs.js';
import type { LintResult } from '../types.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatText(result: LintResult): string {
  const lines: string[] = [];
  for (const f of result.findings) {
    lines.push(`${f.file}:${f.line}: ${f.severity} ${f.rule}: ${f.message}`);
    lines.push(`  hint: ${f.hint}`);
    lines.push(`  docs: ${ruleDocsUrl(f.rule)}`);
  }
  const s = result.summary;
  const skipped = s.skipped ? `, ${s.skipped} skipped` : '';
  lines.push(
    `${plural(result.files, 'file')}${skipped}: ${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${s.info} info`,
  );
  return lines.join('\n') + '\n';
}
