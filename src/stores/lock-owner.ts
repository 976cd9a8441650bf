import { randomBytes } from 'node:crypto';

/** An unguessable lock owner id, so one holder can never release (or forge) another holder's lock. */
export function newLockOwner(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The checks every `tryLock` makes.
 *
 * @throws TypeError for a name not 1–512 characters, or a non-positive `ttlMs`.
 */
export function assertLockArgs(name: string, ttlMs: number): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 512) {
    throw new TypeError('lock name must be 1 to 512 characters');
  }
  if (!Number.isFinite(ttlMs) || ttlMs < 1) {
    throw new TypeError('lock ttlMs must be a positive number of milliseconds');
  }
}
