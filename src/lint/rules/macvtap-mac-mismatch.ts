// libvirt starts such a guest without a word, and its network is dead: the macvtap drops its frames.
import { liveLink, macPlace, recordedMacvtap, where } from '../helpers.js';
import { isMac } from '../mac.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'macvtap-mac-mismatch';
export const severity = 'error';
export const description = 'interface MAC differs from the recorded or live macvtap MAC';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'ethernet' || !i.targetDev || !isMac(i.mac)) continue;
    const mac = i.mac.toLowerCase();
    const differ: string[] = [];
    const recorded = recordedMacvtap(ctx, i.targetDev);
    if (recorded && isMac(recorded.mac) && recorded.mac !== mac) differ.push(`the recorded macvtap MAC ${recorded.mac}`);
    const live = liveLink(ctx, i.targetDev);
    if (live?.kind === 'macvtap' && live.mac && live.mac !== mac) differ.push(`the live macvtap's MAC ${live.mac}${where(ctx)}`);
    if (differ.length === 0) continue;
    const want = live?.kind === 'macvtap' && live.mac ? live.mac : recorded!.mac;
    r.report({
      ...macPlace(i),
      message: `MAC ${mac} of the guest differs from ${differ.join(' and ')} of target '${i.targetDev}': libvirt starts the guest, but the macvtap drops its frames`,
      hint: `set <mac address="${want}"/>, or recreate the macvtap with the guest's MAC (ip link set ${i.targetDev} address ${mac})`,
    });
  }
}
