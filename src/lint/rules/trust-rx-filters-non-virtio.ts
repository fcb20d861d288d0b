// Only virtio-net tells the host its RX filter changes; other models never trigger it.
import type { FileContext, Reporter } from '../types.js';

export const id = 'trust-rx-filters-non-virtio';
export const severity = 'warning';
export const description = 'trustGuestRxFilters="yes" on a non-virtio model (it has no effect)';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.trustGuestRxFilters !== 'yes') continue;
    if (i.model !== undefined && i.model.startsWith('virtio')) continue;
    r.report({
      line: i.line,
      xpath: i.xpath,
      message:
        i.model === undefined
          ? 'trustGuestRxFilters="yes" without <model type="virtio">: the default model does not report RX filter changes, so it has no effect'
          : `trustGuestRxFilters="yes" has no effect with model '${i.model}': only virtio-net reports RX filter changes`,
      hint: 'add <model type="virtio"/>, or drop trustGuestRxFilters',
    });
  }
}
