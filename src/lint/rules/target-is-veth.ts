// QEMU opens a target with TUNSETIFF; a veth, bridge or NIC of that name makes it fail with EINVAL.
import { at, isAutoRenamed, liveLink, targetPlace, where } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'target-is-veth';
export const severity = 'error';
export const description = 'the target dev is recorded or live as a veth, bridge or other non-tap device (QEMU cannot open it)';

const TAP_TYPES = new Set(['ethernet', 'bridge', 'network']);

function recordedRole(ctx: FileContext, dev: string): { role: string; line: number } | undefined {
  for (const { entry, el } of ctx.record?.entries ?? []) {
    if (entry.bridge === dev) return { role: `the bridge of recorded ${entry.kind} '${entry.dev}'`, line: at(el).line };
    if (entry.kind !== 'macvtap') continue;
    if (entry.lower === dev)
      return { role: `${entry.vethPeer ? 'a veth end' : 'the lower device'} under recorded macvtap '${entry.dev}'`, line: el.line };
    if (entry.vethPeer === dev) return { role: `the veth peer of recorded macvtap '${entry.dev}'`, line: el.line };
  }
  return undefined;
}

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (!TAP_TYPES.has(i.type) || !i.targetDev || isAutoRenamed(i)) continue;
    const dev = i.targetDev;
    const recorded = recordedRole(ctx, dev);
    const live = liveLink(ctx, dev);
    const liveBad = live && live.kind !== 'tap' && live.kind !== 'macvtap' ? live : undefined;
    if (!recorded && !liveBad) continue;
    const what = liveBad
      ? `a live ${liveBad.kind === 'other' ? 'non-tap device' : liveBad.kind}${where(ctx)}`
      : `${recorded!.role} (record, line ${recorded!.line})`;
    r.report({
      ...targetPlace(i),
      message: `target '${dev}' is ${what}: QEMU can only open a tap or macvtap ("Unable to create tap device ${dev}: Invalid argument")`,
      hint: 'point the target at a tap, or at a macvtap stacked on the veth end (vnet-virt attach-macvtap --lower VETH --macvtap NAME)',
    });
  }
}
