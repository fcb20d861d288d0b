// GitLab Code Quality: the Code Climate JSON subset GitLab reads, an array of
// issues with description, check_name, fingerprint, severity and location.
import type { LintResult, Severity } from '../types.js';
import { fingerprints, relativePath } from './common.js';

const SEVERITY: Record<Severity, 'major' | 'minor' | 'info'> = { error: 'major', warning: 'minor', info: 'info' };

export function formatCodeclimate(result: LintResult, opts: { cwd?: string } = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const prints = fingerprints(result.findings, cwd);
  const issues = result.findings.map((f, i) => ({
    type: 'issue',
    check_name: f.rule,
    description: `${f.message}. Fix: ${f.hint}`,
    categories: ['Bug Risk'],
    fingerprint: prints[i],
    severity: SEVERITY[f.severity],
    // GitLab matches paths relative to the repository root, where CI runs.
    location: { path: relativePath(f.file, cwd) ?? f.file, lines: { begin: f.line } },
  }));
  return JSON.stringify(issues) + '\n';
}
