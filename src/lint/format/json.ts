// JSON: one object, {files, findings, summary}; its schema is schemas/lint-result.json.
import { ruleDocsUrl } from '../docs.js';
import type { LintResult } from '../types.js';

export function formatJson(result: LintResult): string {
  const findings = result.findings.map((f) => ({ ...f, helpUri: ruleDocsUrl(f.rule) }));
  return JSON.stringify({ files: result.files, findings, summary: result.summary }) + '\n';
}
