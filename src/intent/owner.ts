// Who owns a device: a domain's identity as the marker its devices carry.
// Pure data derived from the domain; host/marker.ts reads devices against it.
import { inputError } from '../errors.js';

export const MARKER_PREFIX = 'vnet-virt:';
/** The kernel keeps at most 255 bytes of an interface alias (IFALIASZ - 1). */
export const MAX_ALIAS_BYTES = 255;

/** Who owns a device: the marker we write, and every marker we accept as this domain's. */
export interface Owner {
  /** `vnet-virt:<identity>`: the UUID, or `name:<name>` when the domain has no UUID. */
  marker: string;
  /** The UUID form and the name form: a file without <uuid> and libvirt's XML of the same domain agree. */
  accepts: readonly string[];
}

export function ownerOf(domain: { uuid: string | undefined; name: string | undefined; file: string }): Owner {
  const byName = domain.name !== undefined && domain.name !== '' ? `${MARKER_PREFIX}name:${domain.name}` : undefined;
  const byUuid = domain.uuid ? `${MARKER_PREFIX}${domain.uuid}` : undefined;
  const marker = byUuid ?? byName;
  if (marker === undefined)
    throw inputError('E_NO_IDENTITY', 'the domain has neither <uuid> nor <name>: its devices could not be marked as its own', {
      file: domain.file,
      where: '/domain',
      hint: 'give the domain a <name> or a <uuid>',
    });
  if (Buffer.byteLength(marker) > MAX_ALIAS_BYTES)
    throw inputError('E_NAME_TOO_LONG', `the ownership marker '${marker.slice(0, 40)}...' is over ${MAX_ALIAS_BYTES} bytes`, {
      file: domain.file,
      where: '/domain/name',
      hint: 'give the domain a <uuid> (the marker is then the UUID)',
    });
  return { marker, accepts: [byUuid, byName].filter((m): m is string => m !== undefined) };
}
