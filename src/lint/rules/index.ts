// Every lint rule, by id. The ids are a contract: users disable rules by them.
import * as directHostUnreachable from './direct-host-unreachable.js';
import * as directModePassthru from './direct-mode-passthru.js';
import * as fileUnreadable from './file-unreadable.js';
import * as ifnameInvalid from './ifname-invalid.js';
import * as macDuplicate from './mac-duplicate.js';
import * as macMulticast from './mac-multicast.js';
import * as macReservedFe from './mac-reserved-fe.js';
import * as macZero from './mac-zero.js';
import * as macvtapMacMismatch from './macvtap-mac-mismatch.js';
import * as managedNoType from './managed-no-type.js';
import * as managedNoWithoutDev from './managed-no-without-dev.js';
import * as multiqueueTap from './multiqueue-tap.js';
import * as passthroughShared from './passthrough-shared.js';
import * as pciAddressConflict from './pci-address-conflict.js';
import * as recordMismatch from './record-mismatch.js';
import * as reservedTargetPrefix from './reserved-target-prefix.js';
import * as schema from './schema.js';
import * as targetDuplicate from './target-duplicate.js';
import * as targetIsVeth from './target-is-veth.js';
import * as targetMissing from './target-missing.js';
import * as trustRxFiltersNonVirtio from './trust-rx-filters-non-virtio.js';
import * as unmanagedMacvtapWithoutMac from './unmanaged-macvtap-without-mac.js';
import * as vepaNeedsHairpin from './vepa-needs-hairpin.js';
import * as xmlSyntax from './xml-syntax.js';
import type { DomainRule, Rule, StageRule } from '../types.js';

export const stageRules: readonly StageRule[] = [fileUnreadable, xmlSyntax, schema];

/** Rules no option or config can turn off: a file lint cannot read must never pass. */
export const ALWAYS_ON: ReadonlySet<string> = new Set([fileUnreadable.id, xmlSyntax.id]);

export const domainRules: readonly DomainRule[] = [
  managedNoType,
  managedNoWithoutDev,
  reservedTargetPrefix,
  directModePassthru,
  macMulticast,
  macZero,
  macReservedFe,
  macDuplicate,
  targetDuplicate,
  ifnameInvalid,
  passthroughShared,
  pciAddressConflict,
  trustRxFiltersNonVirtio,
  unmanagedMacvtapWithoutMac,
  macvtapMacMismatch,
  targetIsVeth,
  targetMissing,
  multiqueueTap,
  recordMismatch,
  directHostUnreachable,
  vepaNeedsHairpin,
];

export const allRules: readonly Rule[] = [...stageRules, ...domainRules];

export const ruleById: ReadonlyMap<string, Rule> = new Map(allRules.map((r) => [r.id, r]));
