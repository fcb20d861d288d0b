// libvirt's RelaxNG schema is what virsh define checks first; its own words are the most useful message.
import type { SchemaProblem } from '../../schema/libvirt.js';
import type { Reporter } from '../types.js';

export const id = 'schema';
export const severity = 'error';
export const description = "the domain does not match libvirt's RelaxNG schema (virt-xml-validate's verdict and text)";
export const stage = 'schema';

export function check(problems: SchemaProblem[], r: Reporter): void {
  const placed = problems.find((p) => p.line > 0) ?? problems[0];
  r.report({
    line: Math.max(1, placed?.line ?? 1),
    xpath: placed?.xpath ?? '/domain',
    message: `does not match libvirt's schema: ${problems.map((p) => p.message).join('; ')}`,
    hint: 'libxml2 often names a parent of the real culprit; check the elements inside it against https://libvirt.org/formatdomain.html',
  });
}
