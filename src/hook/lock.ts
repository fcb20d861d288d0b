// The lock hooks take around their work: host/lock.ts's abstract-socket lock,
// keyed by the configured `lock` setting and the namespace, with the hook's error.
import { acquireLock as acquire, lockTimeout } from '../host/lock.js';
import type { HeldLock, LockOptions } from '../host/lock.js';

export { lockHolder, socketName } from '../host/lock.js';
export type { HeldLock } from '../host/lock.js';

const hookLockError = lockTimeout('E_HOOK_LOCK', 'another vnet-virt hook holds it: see the hook log');

export function acquireLock(key: string, opts: LockOptions & { waitMs: number }): Promise<HeldLock> {
  return acquire(key, { timeoutError: hookLockError, ...opts });
}
