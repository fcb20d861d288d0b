// The all-zero MAC is no address at all; QEMU and the kernel treat it as unset.
import { macPlace } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'mac-zero';
export const severity = 'error';
export const description = 'MAC 00:00:00:00:00:00';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.mac !== '00:00:00:00:00:00') continue;
    r.report({
      ...macPlace(i),
      message: 'MAC 00:00:00:00:00:00 is all zero, which is not a usable address',
      hint: 'use a unicast MAC such as 52:54:00:xx:xx:xx, or remove <mac> and let libvirt pick one',
    });
  }
}
