/**
 * Key rotation, step 3 of: add a key, make it active (it is the last one listed), re-encrypt, retire the old key.
 * Rewrites go through the normal CAS `put`, so a token refresh running at the same time is never overwritten.
 */
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import type { TokenStore } from './types.js';

/** What {@link reencryptAll} did. */
export interface ReencryptResult {
  /** Records looked at. */
  scanned: number;
  /** Records rewritten under the active key. */
  rewritten: number;
  /** Records already entirely under the active key. */
  current: number;
  /** Records deleted meanwhile, or rewritten by others on every one of our attempts. */
  skipped: number;
  /** Entries (sessions, login transactions, broker keys) rewritten under the active key. */
  entriesRewritten: number;
}

/**
 * Key rotation, step 3: rewrites every record and entry not entirely under the keyring's active key.
 * Rewrites are compare-and-swap writes, so a refresh running meanwhile is never overwritten; a record
 * that keeps changing is skipped and counted. A store that does not encrypt (`encryption: null`)
 * reports everything current.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a store without an `encryption` property;
 * `KEY_UNKNOWN` / `DECRYPT_FAILED` for a record that cannot be read with the keyring given;
 * `STORE_UNAVAILABLE`.
 */
export async function reencryptAll(store: TokenStore): Promise<ReencryptResult> {
  const result: ReencryptResult = { scanned: 0, rewritten: 0, current: 0, skipped: 0, entriesRewritten: 0 };
  const encryption = store.encryption;
  // A store written in plain JavaScript can still leave the capability out; saying nothing about it must not
  // read as "every record is under the active key".
  if (encryption === undefined) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      `The ${store.kind} store does not say whether it encrypts (its 'encryption' property is missing), so its records cannot be checked for retired keys.`,
    );
  }
  if (encryption === null) {
    result.scanned = (await store.list()).length;
    result.current = result.scanned;
    return result;
  }
  // Entries first: broker keys live there, and a retired key must not break them.
  result.entriesRewritten = await store.entries.reencrypt();
  for (const { key, kids } of await encryption.keyIdsInUse()) {
    result.scanned++;
    if (kids.every((kid) => kid === encryption.activeKid)) {
      result.current++;
      continue;
    }
    const outcome = await rewrite(store, key);
    result[outcome]++;
  }
  return result;
}

/** Re-reads and rewrites on conflict: the concurrent writer may still be running with an older keyring. */
async function rewrite(store: TokenStore, key: string): Promise<'rewritten' | 'skipped'> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = await store.get(key);
    if (!record) return 'skipped';
    const { version, updatedAt: _updatedAt, ...input } = record;
    try {
      await store.put(input, version);
      return 'rewritten';
    } catch (error) {
      if (!isSpotauthError(error, 'STORE_CONFLICT')) throw error;
    }
  }
  return 'skipped';
}
