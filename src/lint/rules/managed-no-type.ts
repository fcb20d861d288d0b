// managed="no" only means something for a tap QEMU opens itself (type ethernet).
import { targetPlace, isUnmanaged } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'managed-no-type';
export const severity = 'error';
export const description = 'managed="no" on an interface whose type is not ethernet (libvirt refuses it at define)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (!isUnmanaged(i) || i.type === 'ethernet') continue;
    r.report({
      ...targetPlace(i),
      message: `<target managed="no"> on an interface of type '${i.type}': libvirt rejects it ("unmanaged target dev is not supported on interfaces of type ${i.type}")`,
      hint: 'use <interface type="ethernet"> for a device you create yourself, or drop managed="no"',
    });
  }
}
