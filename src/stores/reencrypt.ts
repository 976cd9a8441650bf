/**
 * Key rotation, step 3 of: add a key, make it active (it is the last one listed), re-encrypt, retire the old key.
 * Rewrites go through the normal CAS `put`, so a token refresh running at the same time is never overwritten.
 */
import { isSpotauthError } from '../core/errors.js';
import type { TokenStore } from './types.js';

/** Implemented by every encrypting backend: which key ids each stored record references, read without decrypting. */
export interface EncryptedStore extends TokenStore {
  /** The key id new writes are encrypted with. */
  readonly activeKid: string;
  /** For each stored record, the key ids its envelopes name (read without decrypting anything). */
  keyIdsInUse(): Promise<
    Array<{
      /** The record's key. */
      key: string;
      /** The key ids its envelopes name. */
      kids: string[];
    }>
  >;
}

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

/** Whether a store encrypts at rest (has `keyIdsInUse`); the memory store does not. */
export function isEncryptedStore(store: TokenStore): store is EncryptedStore {
  return typeof (store as Partial<EncryptedStore>).keyIdsInUse === 'function';
}

/**
 * Key rotation, step 3: rewrites every record and entry not entirely under the keyring's active key.
 * Rewrites are compare-and-swap writes, so a refresh running meanwhile is never overwritten; a record
 * that keeps changing is skipped and counted. A store that does not encrypt reports everything current.
 *
 * @throws {@link SpotauthError} `KEY_UNKNOWN` / `DECRYPT_FAILED` for a record that cannot be read with
 * the keyring given; `STORE_UNAVAILABLE`.
 */
export async function reencryptAll(store: TokenStore): Promise<ReencryptResult> {
  const result: ReencryptResult = { scanned: 0, rewritten: 0, current: 0, skipped: 0, entriesRewritten: 0 };
  if (!isEncryptedStore(store)) {
    result.scanned = (await store.list()).length;
    result.current = result.scanned;
    return result;
  }
  // Entries first: broker keys live there, and a retired key must not break them.
  result.entriesRewritten = await store.entries.reencrypt();
  for (const { key, kids } of await store.keyIdsInUse()) {
    result.scanned++;
    if (kids.every((kid) => kid === store.activeKid)) {
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
