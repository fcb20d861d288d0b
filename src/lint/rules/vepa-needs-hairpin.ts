// In vepa mode every frame goes out to the switch; guests on one device meet only if the switch sends it back.
import { child } from '../../domain/xml.js';
import { at } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'vepa-needs-hairpin';
export const severity = 'info';
export const description = 'guests in vepa mode reach each other only through a hairpin-capable switch';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'direct' || !('sourceMode' in i)) continue;
    if (i.sourceMode !== undefined && i.sourceMode !== 'vepa') continue;
    const source = child(i.el, 'source');
    r.report({
      ...(source ? at(source) : { line: i.line, xpath: i.xpath }),
      message: `mode ${i.sourceMode === undefined ? 'vepa (libvirt\'s default)' : 'vepa'}: guests on '${i.sourceDev ?? '?'}' reach each other only if the switch port behind it reflects frames (hairpin)`,
      hint: 'use mode="bridge" for guest-to-guest traffic on one device, or turn on hairpin / reflective relay on the switch port',
    });
  }
  for (const { entry, el } of ctx.record?.entries ?? []) {
    if (entry.kind !== 'macvtap' || entry.mode !== 'vepa') continue;
    r.report({
      ...at(el),
      message: `macvtap '${entry.dev}' is in vepa mode: guests on '${entry.lower}' reach each other only if the port behind it reflects frames`,
      hint: entry.vethPeer && entry.bridge
        ? `turn hairpin on for the veth peer: bridge link set dev ${entry.vethPeer} hairpin on (or use --mode bridge)`
        : 'use --mode bridge for guest-to-guest traffic, or turn on hairpin on the switch port',
    });
  }
}
