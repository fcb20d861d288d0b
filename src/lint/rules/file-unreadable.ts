// A named input that cannot be read (missing, unreadable, too big) is a finding on it, never a silent pass.
import type { Reporter } from '../types.js';

export const id = 'file-unreadable';
export const severity = 'error';
export const description = 'an input file is missing, cannot be read, or is too big to be a domain XML';
export const stage = 'read';

export function check(failure: { message: string; hint: string }, r: Reporter): void {
  r.report({ line: 1, xpath: '/', message: failure.message, hint: failure.hint });
}
