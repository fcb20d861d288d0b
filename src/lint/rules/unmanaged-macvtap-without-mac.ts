// A macvtap only passes frames for its own MAC; without <mac> libvirt invents one that never matches it.
import { liveLink, recordedMacvtap, targetPlace, where } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'unmanaged-macvtap-without-mac';
export const severity = 'error';
export const description = 'a recorded or live macvtap target without a <mac> (libvirt generates one that cannot match)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'ethernet' || !i.targetDev || i.macEl) continue;
    const recorded = recordedMacvtap(ctx, i.targetDev);
    const live = liveLink(ctx, i.targetDev);
    const liveMacvtap = live?.kind === 'macvtap' ? live : undefined;
    if (!recorded && !liveMacvtap) continue;
    const mac = recorded?.mac ?? liveMacvtap?.mac;
    const how = recorded ? 'recorded as a macvtap' : `a live macvtap${where(ctx)}`;
    r.report({
      ...targetPlace(i),
      message: `target '${i.targetDev}' is ${how} but the interface has no <mac>: libvirt generates a MAC the macvtap does not accept, and the guest has no network`,
      hint: mac ? `add <mac address="${mac}"/> (the macvtap's MAC)` : "add <mac address=...> equal to the macvtap's MAC",
    });
  }
}
