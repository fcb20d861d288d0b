// libvirt blanks out managed target names with its own prefixes and picks a fresh one.
import { isUnmanaged, reservedPrefixOf, targetPlace } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'reserved-target-prefix';
export const severity = 'warning';
export const description = 'target dev starting with vnet, vif, macvtap or macvlan without managed="no" (libvirt silently renames it)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    const dev = i.targetDev;
    if (dev === undefined || isUnmanaged(i)) continue;
    const prefix = reservedPrefixOf(dev);
    if (prefix === undefined) continue;
    r.report({
      ...targetPlace(i),
      message: `target dev '${dev}' starts with '${prefix}', which libvirt reserves for names it generates: it is dropped and the device gets another name (e.g. vnet0)`,
      hint:
        i.type === 'ethernet'
          ? `pick a name without that prefix (e.g. t-${dev.slice(prefix.length) || 'guest'}), or add managed="no" if you create '${dev}' yourself`
          : 'pick a name without that prefix, or remove <target> and let libvirt name the device',
    });
  }
}
