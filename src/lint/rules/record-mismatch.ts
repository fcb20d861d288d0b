// The record is what up, down and the hook create; when it disagrees with <interface>, host and guest diverge.
import { at, macPlace } from '../helpers.js';
import { isMac } from '../mac.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'record-mismatch';
export const severity = 'error';
export const description = "vnet-virt's metadata record disagrees with its interface (MAC, device, kind)";

export function check(ctx: FileContext, r: Reporter): void {
  const entries = ctx.record?.entries ?? [];
  const seen = new Map<string, number>();
  for (const { entry, el } of entries) {
    const place = at(el);
    const kind = entry.kind;
    if (!entry.dev || !entry.mac) {
      r.report({
        ...place,
        message: `record entry <${el.name}> lacks ${!entry.dev ? 'dev' : 'mac'}`,
        hint: 'remove the entry and attach the interface again with vnet-virt attach-tap / attach-macvtap',
      });
      continue;
    }
    if (seen.has(entry.dev)) {
      r.report({
        ...place,
        message: `device '${entry.dev}' is recorded twice (also line ${seen.get(entry.dev)})`,
        hint: 'keep one entry per device',
      });
      continue;
    }
    seen.set(entry.dev, el.line);
    const i = ctx.interfaces.find((x) => x.targetDev === entry.dev);
    if (!i) {
      r.report({
        ...place,
        message: `record lists ${kind} '${entry.dev}' but no interface has target dev '${entry.dev}': vnet-virt would create a device no NIC uses`,
        hint: `remove the entry, or point an <interface type="ethernet">'s <target dev> at '${entry.dev}'`,
      });
      continue;
    }
    if (i.type !== 'ethernet' || i.managed !== 'no') {
      r.report({
        line: i.line,
        xpath: i.xpath,
        message: `record says '${entry.dev}' is a ${kind} vnet-virt creates, but its interface is ${i.type !== 'ethernet' ? `of type '${i.type}'` : 'not managed="no"'}: libvirt would ${i.type !== 'ethernet' ? 'not open it' : 'create or rename the device itself'}`,
        hint: `use <interface type="ethernet"> with <target dev="${entry.dev}" managed="no"/>`,
      });
      continue;
    }
    // A macvtap's MAC has rules of its own: macvtap-mac-mismatch and unmanaged-macvtap-without-mac.
    if (kind === 'tap' && isMac(entry.mac) && i.mac !== entry.mac) {
      r.report({
        ...macPlace(i),
        message: i.mac
          ? `interface MAC ${i.mac} differs from the MAC ${entry.mac} recorded for tap '${entry.dev}' (record line ${el.line})`
          : `interface has no <mac>, but the record gives tap '${entry.dev}' the MAC ${entry.mac} (line ${el.line}): libvirt will generate another`,
        hint: `set <mac address="${entry.mac}"/>, or update the record`,
      });
    }
  }
}

