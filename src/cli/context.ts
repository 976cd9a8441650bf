import { SpotauthError } from '../core/errors.js';
import { FileStore } from '../stores/file.js';
import type { TokenRecord, TokenStore } from '../stores/types.js';
import { CliError, EXIT } from './exit-codes.js';
import { type CliKey, loadCliKey } from './key-source.js';
import { configDir, credentialsFile } from './paths.js';

export const DEFAULT_PROFILE = 'default';
const PROFILE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export interface CliStore {
  dir: string;
  store: TokenStore;
  key: CliKey | null;
}

export function checkProfile(profile: string | undefined): string {
  // An explicit --profile wins over SPOTAUTH_PROFILE, which wins over "default"; empty counts as unset.
  const name = profile || process.env['SPOTAUTH_PROFILE'] || DEFAULT_PROFILE;
  if (!PROFILE_PATTERN.test(name)) {
    throw new CliError(
      `Profile names may contain letters, digits, ".", "_" and "-" (got ${JSON.stringify(name.slice(0, 70))}).`,
      EXIT.USAGE,
    );
  }
  return name;
}

/** Opens the encrypted credentials file. `create` false: a missing key means nothing is stored yet. */
export async function openCliStore(create: boolean): Promise<CliStore> {
  const dir = configDir();
  const key = await loadCliKey(dir, create);
  const store = key ? new FileStore(credentialsFile(dir), { keyring: key.keyring }) : null;
  return { dir, key, store: store ?? emptyStore() };
}

/** The stored login of a profile (records carry their profile name in `meta.profile`). */
export async function findProfile(store: TokenStore, profile: string): Promise<TokenRecord | null> {
  const records = await store.list('user:');
  return records.find((record) => record.meta?.['profile'] === profile) ?? null;
}

export async function requireProfile(store: TokenStore, profile: string): Promise<TokenRecord> {
  const record = await findProfile(store, profile);
  if (!record) {
    throw new SpotauthError(
      'NOT_LOGGED_IN',
      `Not logged in${profile === DEFAULT_PROFILE ? '' : ` (profile "${profile}")`}.`,
    );
  }
  return record;
}

/** The Spotify account of a stored login, for display (its store key also carries the profile). */
export function accountOf(record: TokenRecord): string {
  return record.meta?.['accountId'] ?? record.meta?.['spotifyId'] ?? record.key.slice('user:'.length);
}

/**
 * The store as the login's TokenManager sees it: a grant it saves under `user:<account>` lands under
 * `user:<profile>:<account>`, so two profiles may hold logins of the same Spotify account.
 */
export function profileScoped(store: TokenStore, profile: string): TokenStore {
  const scoped = (key: string) => (key.startsWith('user:') ? `user:${profile}:${key.slice(5)}` : key);
  return {
    kind: store.kind,
    describe: () => store.describe(),
    get: (key) => store.get(scoped(key)),
    put: (record, expectedVersion) => store.put({ ...record, key: scoped(record.key) }, expectedVersion),
    delete: (key) => store.delete(scoped(key)),
    list: (prefix) => store.list(prefix),
    tryLock: (name, ttlMs) => store.tryLock(name, ttlMs),
    ...(store.waitForRelease
      ? { waitForRelease: (name: string, timeoutMs: number) => store.waitForRelease!(name, timeoutMs) }
      : {}),
    close: () => store.close(),
  };
}

function emptyStore(): TokenStore {
  return {
    kind: 'file',
    describe: () => 'no credentials yet',
    get: async () => null,
    put: async () => {
      throw new CliError('Cannot store credentials without an encryption key.');
    },
    delete: async () => {},
    list: async () => [],
    tryLock: async () => null,
    close: async () => {},
  };
}
