// Deterministic defaults: MACs and device names derived from stable inputs
// (domain UUID or name, interface position), never from the clock. Kept apart
// from names.ts so that the hook's path does not load node:crypto.
import { createHash } from 'node:crypto';

function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('\0')).digest();
}

/** A MAC in QEMU's range 52:54:00:xx:xx:xx, the same for the same (identity, index). */
export function deriveMac(identity: string, index: number): string {
  const d = digest('mac', identity, String(index));
  return ['52', '54', '00', ...[d[0]!, d[1]!, d[2]!].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * A readable device name of at most 15 bytes, stable for (prefix, domain name, index):
 * `t-web1-0`, or with a hash when the name must be cut, `t-averylo3f2a-0`.
 */
export function deriveIfname(prefix: string, domainName: string, index: number): string {
  const suffix = `-${index}`;
  const clean = domainName.replace(/[^A-Za-z0-9_-]/g, '');
  const plain = `${prefix}${clean}${suffix}`;
  if (Buffer.byteLength(plain) <= 15 && clean === domainName) return plain;
  const hash = digest('ifname', domainName).toString('hex').slice(0, 4);
  const room = 15 - prefix.length - suffix.length - hash.length;
  return `${prefix}${clean.slice(0, Math.max(0, room))}${hash}${suffix}`;
}
