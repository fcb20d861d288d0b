// MAC addresses and interface names: what is valid for libvirt and Linux.
import { usageError } from '../errors.js';

/** Why a MAC is unusable, or undefined when it is fine for a guest NIC. */
export function macProblem(mac: string): string | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) return 'is not six colon-separated hex octets';
  if (/^(00:){5}00$/.test(mac)) return 'is all zero';
  if (Number.parseInt(mac.slice(0, 2), 16) & 1) return 'is a multicast address (low bit of the first octet set)';
  return undefined;
}

export function normalizeMac(mac: string): string {
  return mac.toLowerCase();
}

/** Why a Linux interface name is unusable, or undefined when it is fine. */
export function ifnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name) > 15) return `is ${Buffer.byteLength(name)} bytes long; Linux allows at most 15`;
  if (name === '.' || name === '..') return `'${name}' is not allowed`;
  const bad = name.match(/[/:\s]/)?.[0];
  if (bad !== undefined) return /\s/.test(bad) ? 'contains white space' : `contains '${bad}'`;
  // iproute2 and the kernel read '%d' in a new name as "pick the next free number".
  if (name.includes('%')) return "contains '%', which the kernel treats as a name pattern";
  return undefined;
}

export const MACVTAP_MODES = ['vepa', 'bridge', 'private', 'passthru', 'source'] as const;
export type MacvtapMode = (typeof MACVTAP_MODES)[number];

/** libvirt's spelling of direct modes (iproute2's passthru is libvirt's passthrough). */
export const DIRECT_MODES = ['vepa', 'bridge', 'private', 'passthrough'] as const;
export type DirectMode = (typeof DIRECT_MODES)[number];

export const NIC_MODELS = [
  'virtio',
  'virtio-transitional',
  'virtio-non-transitional',
  'e1000',
  'e1000e',
  'igb',
  'rtl8139',
  'vmxnet3',
  'ne2k_pci',
  'pcnet',
  'i82551',
  'i82557b',
  'i82559er',
  'usb-net',
  'spapr-vlan',
  'lan9118',
  'smc91c111',
] as const;

/** An interface name given as an option: the name, or a usage error (exit 2) naming the option. */
export function checkIfname(value: string, option: string): string {
  const problem = ifnameProblem(value);
  if (problem)
    throw usageError('E_IFNAME_INVALID', `interface name '${value}' ${problem}`, {
      where: option,
      hint: 'give a name of 1-15 bytes without /, :, % or white space',
    });
  return value;
}

/** A MAC given as an option, normalised; or a usage error (exit 2) naming the option. */
export function checkMac(value: string, option = '--mac', example = '52:54:00:12:34:56'): string {
  const problem = macProblem(value);
  if (problem) throw usageError('E_MAC_INVALID', `MAC '${value}' ${problem}`, { where: option, hint: `give a unicast MAC such as ${example}` });
  return normalizeMac(value);
}

/** A mode given as --mode (default: the first of `modes`), with its accepted other spellings; or a usage error (exit 2). */
export function checkMode<M extends string>(value: string | undefined, modes: readonly M[], aliases: Record<string, M>, what: string): M {
  const spelled = value ?? modes[0]!;
  const mode = (aliases[spelled] ?? spelled) as M;
  if (!modes.includes(mode))
    throw usageError('E_MODE_UNKNOWN', `unknown ${what} mode '${spelled}'`, { where: '--mode', hint: `use one of ${modes.join(', ')}` });
  return mode;
}
