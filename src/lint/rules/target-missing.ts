// libvirt does not create a managed="no" device: the start fails when it is not there.
import { liveLink, recordedFor, targetPlace, where } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'target-missing';
export const severity = 'error';
export const description = '--host: a managed="no" device that does not exist (a warning when a vnet-virt record will create it)';
export const hostOnly = true;

export function check(ctx: FileContext, r: Reporter): void {
  if (!ctx.host) return;
  for (const i of ctx.interfaces) {
    if (i.type !== 'ethernet' || i.managed !== 'no' || !i.targetDev) continue;
    if (liveLink(ctx, i.targetDev)) continue;
    const recorded = recordedFor(ctx, i.targetDev);
    r.report({
      ...targetPlace(i),
      severity: recorded ? 'warning' : 'error',
      message: recorded
        ? `target '${i.targetDev}' does not exist${where(ctx)} yet; vnet-virt's record will create it (vnet-virt up, or the hook at VM start)`
        : `target '${i.targetDev}' does not exist${where(ctx)}: libvirt will refuse to start the guest ("target managed='no' but specified dev doesn't exist")`,
      hint: recorded
        ? 'run vnet-virt up FILE before starting the guest, or install the hook (vnet-virt hook install)'
        : `create it first (ip tuntap add dev ${i.targetDev} mode tap), or record it with vnet-virt attach-tap --tap ${i.targetDev}`,
    });
  }
}
