/**
 * Fixtures for store contract runs: keyrings rebuilt from key ids, sample records, canary secrets.
 */
import { randomBytes } from 'node:crypto';
import { Keyring } from '../stores/encryption.js';
import type { TokenRecordInput } from '../stores/types.js';

const keyCache = new Map<string, Buffer>();

/** The same kid always maps to the same key within a test run, so keyrings can be rebuilt from kids. */
export function keyFor(kid: string): Buffer {
  let key = keyCache.get(kid);
  if (!key) {
    key = randomBytes(32);
    keyCache.set(kid, key);
  }
  return key;
}

/** A keyring holding `kids`; the last one is active (as with SPOTAUTH_ENCRYPTION_KEYS). */
export function keyringOf(...kids: string[]): Keyring {
  return new Keyring(new Map(kids.map((kid) => [kid, keyFor(kid)])));
}

/** A token-shaped secret to search for in raw storage: it must never appear there in the clear. */
export function canary(): string {
  return `tok_CANARY_${randomBytes(12).toString('hex')}`;
}

/** A plausible active user grant under `key`, one hour from expiry, with `overrides` applied. */
export function sampleRecord(key: string, overrides: Partial<TokenRecordInput> = {}): TokenRecordInput {
  const now = Date.now();
  return {
    key,
    accessToken: `at_${randomBytes(8).toString('hex')}`,
    accessTokenExpiresAt: now + 3_600_000,
    refreshToken: `rt_${randomBytes(8).toString('hex')}`,
    scope: ['user-read-email', 'playlist-read-private'],
    status: 'active',
    authorizedAt: now - 1000,
    refreshTokenDeadline: now + 180 * 86_400_000,
    meta: { displayName: 'Ada', spotifyId: 'ada' },
    ...overrides,
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
