// QEMU refuses to start a guest with two devices in one PCI slot and function.
import { formatPci, pciAddressesOf } from '../../domain/interfaces.js';
import { xpathOf } from '../../domain/xml.js';
import type { XmlElement } from '../../domain/xml.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'pci-address-conflict';
export const severity = 'error';
export const description = 'two devices of a domain on the same PCI domain/bus/slot/function';

export function check(ctx: FileContext, r: Reporter): void {
  const byAddress = new Map<string, XmlElement[]>();
  for (const [el, address] of pciAddressesOf(ctx.doc)) {
    const key = formatPci(address);
    const list = byAddress.get(key);
    if (list) list.push(el);
    else byAddress.set(key, [el]);
  }
  for (const [key, els] of byAddress) {
    if (els.length < 2) continue;
    // XPaths only for the devices that clash: most files have none.
    const places = els.map((el) => ({ line: el.line, xpath: xpathOf(el) }));
    for (const p of places) {
      const others = places.filter((o) => o !== p).map((o) => `${o.xpath} (line ${o.line})`);
      r.report({
        ...p,
        message: `PCI address ${key} is also used by ${others.join(', ')}`,
        hint: 'give each device its own slot or function, or remove the <address> and let libvirt assign one',
      });
    }
  }
}
