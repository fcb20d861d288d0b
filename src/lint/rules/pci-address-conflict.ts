// QEMU refuses to start a guest with two devices in one PCI slot and function.
import { formatPci, pciAddressesOf } from '../../domain/interfaces.js';
import type { PciAddress } from '../../domain/interfaces.js';
import { xpathOf } from '../../domain/xml.js';
import type { XmlElement } from '../../domain/xml.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'pci-address-conflict';
export const severity = 'error';
export const description = 'two devices of a domain on the same PCI domain/bus/slot/function';

export function check(ctx: FileContext, r: Reporter): void {
  // Keyed by the plain numbers (the same groups as by formatPci's text, without hex and padding per device).
  const byAddress = new Map<string, { address: PciAddress; els: XmlElement[] }>();
  for (const [el, address] of pciAddressesOf(ctx.doc)) {
    const key = `${address.domain}:${address.bus}:${address.slot}.${address.function}`;
    const group = byAddress.get(key);
    if (group) group.els.push(el);
    else byAddress.set(key, { address, els: [el] });
  }
  for (const { address, els } of byAddress.values()) {
    if (els.length < 2) continue;
    const key = formatPci(address);
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
