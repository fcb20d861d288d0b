// A NIC cannot send from a group address: the guest's frames would be dropped or flooded.
import { macPlace } from '../helpers.js';
import { firstOctet } from '../mac.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'mac-multicast';
export const severity = 'error';
export const description = 'multicast MAC (low bit of the first octet set)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    const octet = firstOctet(i.mac);
    if (octet === undefined || (octet & 1) === 0) continue;
    r.report({
      ...macPlace(i),
      message: `MAC ${i.mac} is a multicast address (low bit of the first octet ${i.mac!.slice(0, 2)} is set); a NIC needs a unicast one`,
      hint: 'use a unicast MAC such as 52:54:00:xx:xx:xx, or remove <mac> and let libvirt pick one',
    });
  }
}
