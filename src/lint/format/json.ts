// JSON: one object, {files, findings, summary}; its schema is schemas/lint-result.json.
import type { LintResult } from '../types.js';

export function formatJson(result: LintResult): string {
  return JSON.stringify({ files: result.files, findings: result.findings, summary: result.summary }) + '\n';
}
