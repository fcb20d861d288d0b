// What findings link to: the package's version and home, and each rule's
// section of docs/rules.md, read from the installed package itself.
import { readFileSync } from 'node:fs';
import { packageInfo } from '../version.js';
export { packageInfo };

// dist/src/lint/docs.js -> the package root, where package.json and docs/ are shipped.
const root = new URL('../../../', import.meta.url);

/** The https URL of a rule's section of docs/rules.md (its heading is the rule id). */
export const ruleDocsUrl = (id: string): string => `${packageInfo().homepage.replace(/#.*$/, '')}/blob/main/docs/rules.md#${id}`;

export interface RuleDoc {
  /** The section's first paragraph, without the severity in bold. */
  summary: string;
  /** The section as markdown, heading left out: severity, bad and good examples, why. */
  markdown: string;
  /** The Why: paragraph. */
  why: string;
}

let sections: Map<string, string> | undefined;

/** A rule's section of docs/rules.md; undefined when the docs are not there. */
export function ruleDoc(id: string): RuleDoc | undefined {
  if (!sections) {
    sections = new Map();
    let text = '';
    try {
      text = readFileSync(new URL('docs/rules.md', root), 'utf8');
    } catch {
      // A package installed without docs/ still lints; SARIF then says less.
    }
    for (const part of text.split(/^## /m).slice(1)) {
      const nl = part.indexOf('\n');
      sections.set(part.slice(0, nl).trim(), part.slice(nl + 1).trim());
    }
  }
  const markdown = sections.get(id);
  if (markdown === undefined) return undefined;
  const paragraph = (markdown.split(/\n\s*\n/)[0] ?? '').replace(/^\*\*\w+[^*]*\*\*\s*/, '');
  const why = /^Why: ([\s\S]*?)(?:\n\s*\n|$)/m.exec(markdown)?.[1] ?? '';
  const flat = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
  return { summary: flat(paragraph), markdown, why: flat(why) };
}

// One-word ids would differ from their name only in case, which SARIF counts as the same (SARIF1001).
const NAMES: Readonly<Record<string, string>> = { schema: 'LibvirtSchemaMismatch' };

/** A readable name for a rule id, as SARIF wants it (not the id): mac-duplicate -> MacDuplicate. */
export const ruleName = (id: string): string => NAMES[id] ?? id.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
