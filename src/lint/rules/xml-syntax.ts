// A file that is not well-formed XML cannot be read by libvirt at all; nothing else can be checked.
import type { Reporter } from '../types.js';

export const id = 'xml-syntax';
export const severity = 'error';
export const description = 'the file is not well-formed XML';
export const stage = 'parse';

export function check(failure: { message: string; line: number }, r: Reporter): void {
  r.report({
    line: Math.max(1, failure.line),
    xpath: '/',
    message: `not well-formed XML: ${failure.message}`,
    hint: 'fix the XML at that line (xmllint --noout FILE shows the same place)',
  });
}
