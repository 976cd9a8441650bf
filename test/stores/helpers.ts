import { randomBytes } from 'node:crypto';
import { Keyring } from '../../src/stores/encryption.js';
import type { TokenRecordInput } from '../../src/stores/types.js';

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

export function canary(): string {
  return `tok_CANARY_${randomBytes(12).toString('hex')}`;
}

export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex');
}

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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Decides whether a service-backed suite runs. Unreachable + CI → the suite fails (a missing service must not
 * turn into a green build); unreachable locally → skipped, loudly.
 */
export async function serviceGate(
  label: string,
  where: string,
  probe: () => Promise<void>,
): Promise<{ run: boolean; failure?: string }> {
  try {
    await probe();
    return { run: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env['CI'])
      return { run: false, failure: `${label} not reachable at ${where} (${reason}); CI requires it.` };
    console.warn(`SKIPPED: ${label} not reachable at ${where} (${reason}). Start it to run these tests.`);
    return { run: false };
  }
}
