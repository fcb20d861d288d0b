// Ownership: every device vnet-virt creates carries its domain's marker in the
// interface alias, so down/check can tell ours from everything else.
import { MARKER_PREFIX } from '../intent/owner.js';
import type { Owner } from '../intent/owner.js';
import type { HostFacts, Link } from './facts.js';

export function isOurs(alias: string | undefined, owner: Owner): boolean {
  return alias !== undefined && owner.accepts.includes(alias);
}

/** A device without marker that a killed up of this owner created (named in its journal). */
export function isPendingFor(link: Link, facts: HostFacts, owner: Owner): boolean {
  const marker = link.alias === undefined ? facts.pending?.get(link.name) : undefined;
  return marker !== undefined && owner.accepts.includes(marker);
}

/** This owner's device: it carries the owner's marker, or the journal says the owner's up created it. */
export function ownsLink(link: Link, facts: HostFacts, owner: Owner): boolean {
  return isOurs(link.alias, owner) || isPendingFor(link, facts, owner);
}

/** Carries some domain's vnet-virt marker (bridges are shared between domains). */
export function isVnetVirt(alias: string | undefined): boolean {
  return alias !== undefined && alias.startsWith(MARKER_PREFIX);
}
