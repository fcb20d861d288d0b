// Markdown for a CI job summary ($GITHUB_STEP_SUMMARY) or a PR comment: the
// counts, a table of findings with links to each rule's docs, and (given by
// the command) a Mermaid picture of the domains' interfaces and devices.
import { ruleDocsUrl } from '../docs.js';
import type { LintResult } from '../types.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
/** A table cell: no line breaks, no column separators, no HTML. */
const cell = (s: string): string => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
const ICON = { error: '❌ error', warning: '⚠️ warning', info: 'ℹ️ info' } as const;

export function formatMarkdown(result: LintResult, picture?: string): string {
  const s = result.summary;
  const verdict = s.error > 0 ? '❌' : s.warning > 0 ? '⚠️' : '✅';
  const lines = [
    '## vnet-virt lint',
    '',
    `${verdict} ${plural(result.files, 'file')}: **${plural(s.error, 'error')}**, ${plural(s.warning, 'warning')}, ${s.info} info${s.skipped ? `, ${s.skipped} skipped` : ''}`,
    '',
  ];
  if (result.findings.length) {
    lines.push('| severity | where | rule | finding | what to do |', '| --- | --- | --- | --- | --- |');
    for (const f of result.findings)
      lines.push(`| ${ICON[f.severity]} | \`${cell(f.file)}:${f.line}\` | [${f.rule}](${ruleDocsUrl(f.rule)}) | ${cell(f.message)} | ${cell(f.hint)} |`);
    lines.push('');
  }
  if (picture) lines.push('### Interfaces and host devices', '', '```mermaid', picture.trimEnd(), '```', '');
  return lines.join('\n');
}
