// One device can back only one NIC: the second guest fails to start or steals the first one's traffic.
import { isAutoRenamed, othersList, targetPlace } from '../helpers.js';
import type { Claim, FileContext, Reporter } from '../types.js';

export const id = 'target-duplicate';
export const severity = 'error';
export const description = 'one target dev on two interfaces, in one domain or across files';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (!i.targetDev || isAutoRenamed(i)) continue;
    r.claim(i.targetDev, targetPlace(i));
  }
}

export function conflict(claim: Claim, others: Claim[], total: number): { message: string; hint: string } {
  return {
    message: `target dev '${claim.key}' is also the target of ${othersList(claim, others, total)}`,
    hint: 'give each interface its own device name',
  };
}
