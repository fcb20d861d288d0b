// In vepa mode every frame goes out to the switch; guests on one device meet only if the switch sends it back.
// With --host, a lower device that is a veth whose peer is a bridge port with hairpin on is such a switch: silent.
import { child } from '../../domain/xml.js';
import type { HostFacts, Link } from '../../host/facts.js';
import { at } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'vepa-needs-hairpin';
export const severity = 'info';
export const description = 'guests in vepa mode reach each other only through a hairpin-capable switch';

/** The live bridge port behind a lower device: the named veth peer, else the lower device's own veth peer. */
function portBehind(host: HostFacts, lower: string | undefined, vethPeer?: string): Link | undefined {
  let name = vethPeer;
  if (name === undefined) {
    const l = lower !== undefined ? host.links.get(lower) : undefined;
    if (l?.kind !== 'veth') return undefined;
    name = l.link;
  }
  const port = name !== undefined ? host.links.get(name) : undefined;
  return port?.hairpin !== undefined ? port : undefined;
}

/** What --host adds to the message: the port's hairpin is off (said), or on (then there is nothing to report). */
function hostView(ctx: FileContext, lower: string | undefined, vethPeer?: string): { reflects: boolean; note: string } {
  const port = ctx.host ? portBehind(ctx.host, lower, vethPeer) : undefined;
  if (!port) return { reflects: false, note: '' };
  return { reflects: port.hairpin === true, note: `; hairpin is off on bridge port '${port.name}'${port.master ? ` of ${port.master}` : ''}` };
}

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'direct' || !('sourceMode' in i)) continue;
    if (i.sourceMode !== undefined && i.sourceMode !== 'vepa') continue;
    const live = hostView(ctx, i.sourceDev);
    if (live.reflects) continue;
    const source = child(i.el, 'source');
    r.report({
      ...(source ? at(source) : { line: i.line, xpath: i.xpath }),
      message: `mode ${i.sourceMode === undefined ? 'vepa (libvirt\'s default)' : 'vepa'}: guests on '${i.sourceDev ?? '?'}' reach each other only if the switch port behind it reflects frames (hairpin)${live.note}`,
      hint: 'use mode="bridge" for guest-to-guest traffic on one device, or turn on hairpin / reflective relay on the switch port',
    });
  }
  for (const { entry, el } of ctx.record?.entries ?? []) {
    if (entry.kind !== 'macvtap' || entry.mode !== 'vepa') continue;
    const live = hostView(ctx, entry.lower, entry.vethPeer);
    if (live.reflects) continue;
    r.report({
      ...at(el),
      message: `macvtap '${entry.dev}' is in vepa mode: guests on '${entry.lower}' reach each other only if the port behind it reflects frames${live.note}`,
      hint: entry.vethPeer && entry.bridge
        ? `turn hairpin on for the veth peer: bridge link set dev ${entry.vethPeer} hairpin on (or use --mode bridge)`
        : 'use --mode bridge for guest-to-guest traffic, or turn on hairpin on the switch port',
    });
  }
}
