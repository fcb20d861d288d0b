// The MAC of the host's end of a guest's link that joins a bridge: a tap, the
// bridge-side end of a veth pair, a container veth's host end.
//
// A Linux bridge without a MAC of its own takes the lowest MAC among its
// ports. A port with a random MAC (what `ip tuntap add` and `ip link add type
// veth` give) sorts below the uplink about half the time, and then the bridge's
// MAC, the address of the host's own IP on it, changes when the port joins and
// again when it leaves: neighbours' ARP caches point at a MAC that is gone, and
// the host is unreachable for up to a minute (seen in the fleet test: SSH to a
// host took 37 to 116 s after its guest stopped). libvirt avoids it for its own
// taps with the guest MAC under a first octet of 0xfe; so does vnet-virt. 0xfe
// sorts above every globally administered and almost every random MAC.
import { normalizeMac } from '../domain/names.js';
import { fnv1a } from './fnv.js';

const hex = (b: number): string => (b & 0xff).toString(16).padStart(2, '0');

/**
 * The guest MAC with its first octet made 0xfe (0xfa when the guest's is 0xfe,
 * so the two ends differ). Without a guest MAC, five octets from a hash of
 * `seed` (the device name): stable across runs.
 */
export function bridgePortMac(guestMac: string | undefined, seed: string): string {
  if (guestMac === undefined) {
    const h = fnv1a(seed);
    return ['fe', '00', hex(h >>> 24), hex(h >>> 16), hex(h >>> 8), hex(h)].join(':');
  }
  const [first, ...rest] = normalizeMac(guestMac).split(':');
  return [first === 'fe' ? 'fa' : 'fe', ...rest].join(':');
}
