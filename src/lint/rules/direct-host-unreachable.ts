// The kernel does not pass frames between a macvtap and its lower device's own stack.
import { child } from '../../domain/xml.js';
import { at } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'direct-host-unreachable';
export const severity = 'info';
export const description = 'a direct or macvtap guest cannot reach the host through the lower device itself';

const HINT =
  'if the guest must talk to this host, give the host a macvlan on the same device (mode bridge), or use a bridge, or a macvtap on a veth whose peer is on a bridge (vnet-virt attach-macvtap --veth-peer P --bridge BR)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'direct' || !('sourceMode' in i)) continue;
    const source = child(i.el, 'source');
    r.report({
      ...(source ? at(source) : { line: i.line, xpath: i.xpath }),
      message: `the guest reaches the network through '${i.sourceDev ?? '?'}' but not this host through '${i.sourceDev ?? '?'}' itself (macvtap does not deliver to its lower device)`,
      hint: HINT,
    });
  }
  for (const { entry, el } of ctx.record?.entries ?? []) {
    if (entry.kind !== 'macvtap' || entry.bridge) continue;
    r.report({
      ...at(el),
      message: `macvtap '${entry.dev}' sits on '${entry.lower}' with no bridge behind it: the guest cannot reach this host through '${entry.lower}'`,
      hint: HINT,
    });
  }
}
