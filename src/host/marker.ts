// Ownership: every device vnet-virt creates carries its domain's marker in the
// interface alias, so down/check can tell ours from everything else.
import { MARKER_PREFIX } from '../intent/owner.js';
import type { Owner } from '../intent/owner.js';

export function isOurs(alias: string | undefined, owner: Owner): boolean {
  return alias !== undefined && owner.accepts.includes(alias);
}

/** Carries some domain's vnet-virt marker (bridges are shared between domains). */
export function isVnetVirt(alias: string | undefined): boolean {
  return alias !== undefined && alias.startsWith(MARKER_PREFIX);
}
