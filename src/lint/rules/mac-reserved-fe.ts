// libvirt gives the host side of taps an FE:xx MAC so the bridge never picks it; a guest with one collides with that.
import { macPlace } from '../helpers.js';
import { firstOctet } from '../mac.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'mac-reserved-fe';
export const severity = 'warning';
export const description = 'first octet 0xFE, which libvirt reserves for the host side of taps';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (firstOctet(i.mac) !== 0xfe) continue;
    r.report({
      ...macPlace(i),
      message: `MAC ${i.mac} starts with fe, which libvirt uses for the host end of taps it creates (the bridge's own address may follow it)`,
      hint: 'use 52:54:00:xx:xx:xx for the guest side',
    });
  }
}
