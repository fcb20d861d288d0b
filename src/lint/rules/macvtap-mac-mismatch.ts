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
    const recorded = recordedMacvtap(ctx, i.targetDev);
    const recordedMac = recorded && isMac(recorded.mac) && recorded.mac !== mac ? recorded.mac : undefined;
    const live = liveLink(ctx, i.targetDev);
    const liveMac = live?.kind === 'macvtap' && live.mac && live.mac !== mac ? live.mac : undefined;
    if (!recordedMac && !liveMac) continue;
    const differ = [
      ...(recordedMac ? [`the recorded macvtap MAC ${recordedMac}`] : []),
      ...(liveMac ? [`the live macvtap's MAC ${liveMac}${where(ctx)}`] : []),
    ];
    // The live device is what the guest must match now; when only the record is off, the record is what to fix.
    const liveAgrees = live?.kind === 'macvtap' && live.mac === mac;
    const hint = liveAgrees
      ? `the live macvtap already has ${mac}: correct the record entry's mac to ${mac} (vnet-virt detach, then attach-macvtap again)`
      : `set <mac address="${liveMac ?? recordedMac}"/>, or recreate the macvtap with the guest's MAC (ip link set ${i.targetDev} address ${mac})`;
    r.report({
      ...macPlace(i),
      message: `MAC ${mac} of the guest differs from ${differ.join(' and ')} of target '${i.targetDev}': ${
        liveAgrees ? 'a macvtap created from the record (vnet-virt up, the hook) drops its frames' : 'libvirt starts the guest, but the macvtap drops its frames'
      }`,
      hint,
    });
  }
}
