// GitHub Actions workflow commands: each finding becomes an annotation on its file and line.
import { ruleDocsUrl } from '../docs.js';
import type { LintResult, Severity } from '../types.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

// https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts: escapeData / escapeProperty
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function formatGithub(result: LintResult): string {
  return result.findings
    .map(
      (f) =>
        `::${COMMAND[f.severity]} file=${escapeProperty(f.file)},line=${f.line},title=${escapeProperty(`vnet-virt ${f.rule}`)}::${escapeData(`${f.message}\nhint: ${f.hint}\ndocs: ${ruleDocsUrl(f.rule)}`)}\n`,
    )
    .join('');
}
