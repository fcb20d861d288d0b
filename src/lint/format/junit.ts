// JUnit XML for CI servers that show test reports: one test suite per file,
// one failed test case per error; warnings and info are passing cases with the text.
import type { Finding, LintResult } from '../types.js';
import { ruleDocsUrl } from '../docs.js';

const esc = (s: string): string =>
  s
    // XML 1.0 cannot hold most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

function testcase(f: Finding): string {
  const name = esc(`${f.rule} at line ${f.line}`);
  const body = esc(`${f.file}:${f.line}: ${f.xpath}\n${f.message}\nhint: ${f.hint}\n${ruleDocsUrl(f.rule)}`);
  const head = `    <testcase classname="${esc(f.file)}" name="${name}" time="0">`;
  if (f.severity === 'error')
    return `${head}\n      <failure type="${esc(f.rule)}" message="${esc(f.message)}">${body}</failure>\n    </testcase>`;
  return `${head}\n      <system-out>${esc(`${f.severity}: `)}${body}</system-out>\n    </testcase>`;
}

export function formatJunit(result: LintResult): string {
  const byFile = new Map<string, Finding[]>((result.linted ?? []).map((f) => [f, []]));
  for (const f of result.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  for (const [file, findings] of byFile) {
    const failed = findings.filter((f) => f.severity === 'error').length;
    const cases = findings.length ? findings.map(testcase) : [`    <testcase classname="${esc(file)}" name="lint" time="0"/>`];
    tests += cases.length;
    failures += failed;
    suites.push(`  <testsuite name="${esc(file)}" tests="${cases.length}" failures="${failed}" errors="0" skipped="0" time="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="vnet-virt lint" tests="${tests}" failures="${failures}" errors="0" time="0">\n` +
    (suites.length ? suites.join('\n') + '\n' : '') +
    '</testsuites>\n'
  );
}
