// iproute2 spells the mode passthru; libvirt only knows passthrough.
import { at } from '../helpers.js';
import { child } from '../../domain/xml.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'direct-mode-passthru';
export const severity = 'error';
export const description = 'mode="passthru" in a direct source: libvirt spells it passthrough';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'direct' || !('sourceMode' in i) || i.sourceMode !== 'passthru') continue;
    const source = child(i.el, 'source');
    r.report({
      ...(source ? at(source) : { line: i.line, xpath: i.xpath }),
      message: `<source mode="passthru"> is iproute2's spelling; libvirt's schema only accepts "passthrough"`,
      hint: 'write mode="passthrough"',
    });
  }
}
