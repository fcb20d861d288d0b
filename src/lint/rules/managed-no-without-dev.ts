// An unmanaged target names a device that already exists; without a name there is nothing to open.
import { targetPlace, isUnmanaged } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'managed-no-without-dev';
export const severity = 'error';
export const description = '<target managed="no"> without dev';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (!isUnmanaged(i) || (i.targetDev !== undefined && i.targetDev !== '')) continue;
    r.report({
      ...targetPlace(i),
      message: '<target managed="no"> has no dev: libvirt cannot know which existing device to use',
      hint: 'name the pre-created tap or macvtap: <target dev="tap0" managed="no"/>',
    });
  }
}
