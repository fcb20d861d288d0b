// Two NICs with one MAC confuse every switch and bridge between them, whether in one guest or two.
import { macPlace, othersList } from '../helpers.js';
import { isMac } from '../mac.js';
import type { Claim, FileContext, Reporter } from '../types.js';

export const id = 'mac-duplicate';
export const severity = 'error';
export const description = 'one MAC on two interfaces, in one domain or across the files linted together';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) if (isMac(i.mac)) r.claim(i.mac.toLowerCase(), macPlace(i));
}

export function conflict(claim: Claim, others: Claim[], total: number): { message: string; hint: string } {
  return {
    message: `MAC ${claim.key} is also used by ${othersList(claim, others, total)}`,
    hint: 'give each interface its own MAC (or remove <mac> and let libvirt generate one)',
  };
}
