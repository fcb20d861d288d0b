// Typed, read-only views of <interface> elements. `type` is the discriminant,
// so code that handles ethernet or direct interfaces cannot mix their fields.
import type { DomainDoc } from './doc.js';
import { attr, child, childElements } from './xml.js';
import type { XmlElement } from './xml.js';

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

interface InterfaceBase {
  el: XmlElement;
  /** 0-based position among the domain's <interface> elements. */
  index: number;
  xpath: string;
  line: number;
  mac: string | undefined;
  macEl: XmlElement | undefined;
  model: string | undefined;
  targetDev: string | undefined;
  targetEl: XmlElement | undefined;
  /** The raw managed attribute of <target>, if any. */
  managed: string | undefined;
  queues: number | undefined;
  mtu: number | undefined;
  trustGuestRxFilters: string | undefined;
  pciAddress: PciAddress | undefined;
}

export interface EthernetInterface extends InterfaceBase {
  type: 'ethernet';
}

export interface DirectInterface extends InterfaceBase {
  type: 'direct';
  sourceDev: string | undefined;
  sourceMode: string | undefined;
}

export interface OtherInterface extends InterfaceBase {
  type: string;
  sourceDev: string | undefined;
}

export type InterfaceView = EthernetInterface | DirectInterface | OtherInterface;

export function isEthernet(i: InterfaceView): i is EthernetInterface {
  return i.type === 'ethernet';
}

export function isDirect(i: InterfaceView): i is DirectInterface {
  return i.type === 'direct';
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = v.startsWith('0x') ? Number.parseInt(v, 16) : Number(v);
  return Number.isFinite(n) ? n : undefined;
};

export function pciAddressOf(el: XmlElement): PciAddress | undefined {
  const a = child(el, 'address');
  if (!a || attr(a, 'type') !== 'pci') return undefined;
  const address = {
    domain: num(attr(a, 'domain')) ?? 0,
    bus: num(attr(a, 'bus')) ?? 0,
    slot: num(attr(a, 'slot')) ?? 0,
    function: num(attr(a, 'function')) ?? 0,
  };
  // libvirt reads an all-zero address (or a bare <address type="pci"/>) as "assign one for me".
  const empty = address.domain === 0 && address.bus === 0 && address.slot === 0 && address.function === 0;
  return empty ? undefined : address;
}

export function formatPci(a: PciAddress): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${h(a.function, 1)}`;
}

export function interfaceView(doc: DomainDoc, el: XmlElement, index: number): InterfaceView {
  const macEl = child(el, 'mac');
  const targetEl = child(el, 'target');
  const source = child(el, 'source');
  const driver = child(el, 'driver');
  const mtu = child(el, 'mtu');
  const model = child(el, 'model');
  const type = attr(el, 'type') ?? '';
  // One object, built once (no copy per type).
  const view: InterfaceBase & { type: string; sourceDev?: string | undefined; sourceMode?: string | undefined } = {
    el,
    index,
    xpath: doc.xpath(el),
    line: el.line,
    mac: macEl ? attr(macEl, 'address')?.toLowerCase() : undefined,
    macEl,
    model: model ? attr(model, 'type') : undefined,
    targetDev: targetEl ? attr(targetEl, 'dev') : undefined,
    targetEl,
    managed: targetEl ? attr(targetEl, 'managed') : undefined,
    queues: driver ? num(attr(driver, 'queues')) : undefined,
    mtu: mtu ? num(attr(mtu, 'size')) : undefined,
    trustGuestRxFilters: attr(el, 'trustGuestRxFilters'),
    pciAddress: pciAddressOf(el),
    type,
  };
  if (type === 'direct') {
    view.sourceDev = source && attr(source, 'dev');
    view.sourceMode = source && attr(source, 'mode');
  } else if (type !== 'ethernet') view.sourceDev = source && (attr(source, 'dev') ?? attr(source, 'bridge') ?? attr(source, 'network'));
  return view as InterfaceView;
}

export function interfacesOf(doc: DomainDoc): InterfaceView[] {
  return doc.interfaceElements().map((el, i) => interfaceView(doc, el, i));
}

/** Every device of the domain with a PCI address: [element, address]. */
export function pciAddressesOf(doc: DomainDoc): [XmlElement, PciAddress][] {
  const devices = doc.devices;
  if (!devices) return [];
  const out: [XmlElement, PciAddress][] = [];
  for (const dev of childElements(devices)) {
    const a = pciAddressOf(dev);
    if (a) out.push([dev, a]);
  }
  return out;
}
