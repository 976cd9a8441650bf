import { chmod, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotauthError } from '../core/errors.js';
import { MemoryEntries } from '../stores/entries.js';
import { FileStore } from '../stores/file.js';
import { MemoryStore } from '../stores/memory.js';
import type { StoreEncryption, TokenRecord, TokenStore } from '../stores/types.js';
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
  await secureConfigDir(dir);
  const key = await loadCliKey(dir, create);
  const store = key ? new FileStore(credentialsFile(dir), { keyring: key.keyring }) : null;
  return { dir, key, store: store ?? emptyStore() };
}

/**
 * The config folder holds the key and the credentials: nobody else may write there (they could plant a key
 * they know, or swap the files). A folder of ours with loose permissions is tightened to 0700 (its files to
 * 0600), with a note; a folder or file that another user owns, or a link in place of a file, is refused.
 */
export async function secureConfigDir(dir: string): Promise<void> {
  const uid = process.getuid?.();
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new CliError(`Cannot inspect the config folder ${dir} (${error.code ?? 'error'}).`);
  });
  if (info === null) return;
  if (!info.isDirectory())
    throw new CliError(`The config path ${dir} is not a folder; move it away or set SPOTAUTH_CONFIG_DIR.`);
  if (uid !== undefined && info.uid !== uid) {
    throw new CliError(
      `The config folder ${dir} belongs to another user, who could read or replace its credentials; refusing to use it. Remove it or set SPOTAUTH_CONFIG_DIR.`,
    );
  }
  if ((info.mode & 0o077) !== 0) {
    await chmod(dir, 0o700);
    process.stderr.write(
      `spotauth: the config folder ${dir} was open to other users (mode ${(info.mode & 0o777).toString(8)}); it is now 0700.\n`,
    );
  }
  for (const name of ['key', 'credentials.json', 'credentials.json.bak']) {
    const path = join(dir, name);
    const file = await lstat(path).catch(() => null);
    if (file === null) continue;
    if (!file.isFile() || (uid !== undefined && file.uid !== uid)) {
      throw new CliError(
        `${path} is not a plain file of yours (a link, or another user's); refusing to trust it. Remove it and log in again.`,
      );
    }
    if ((file.mode & 0o077) !== 0) await chmod(path, 0o600);
  }
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
  const waitForRelease = store.waitForRelease?.bind(store);
  return {
    kind: store.kind,
    describe: () => store.describe(),
    get: (key) => store.get(scoped(key)),
    put: (record, expectedVersion, options) =>
      store.put({ ...record, key: scoped(record.key) }, expectedVersion, options),
    delete: (key, options) => store.delete(scoped(key), options),
    list: (prefix, options) => store.list(prefix, options),
    quarantine: (key) => store.quarantine(scoped(key)),
    entries: store.entries,
    outbox: store.outbox,
    encryption: profileScopedEncryption(store.encryption, profile),
    tryLock: (name, ttlMs) => store.tryLock(name, ttlMs),
    ...(waitForRelease ? { waitForRelease } : {}),
    close: () => store.close(),
  };
}

/** The profile's own records as its scoped store names them; other profiles' logins are not its to rewrite. */
function profileScopedEncryption(
  encryption: StoreEncryption | null,
  profile: string,
): StoreEncryption | null {
  if (!encryption) return null;
  const own = `user:${profile}:`;
  return {
    activeKid: encryption.activeKid,
    keyIdsInUse: async () =>
      (await encryption.keyIdsInUse()).flatMap(({ key, kids }) =>
        key.startsWith(own)
          ? [{ key: `user:${key.slice(own.length)}`, kids }]
          : key.startsWith('user:')
            ? []
            : [{ key, kids }],
      ),
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
    quarantine: async () => null,
    entries: new MemoryEntries(),
    outbox: new MemoryStore().outbox,
    encryption: null,
    tryLock: async () => null,
    close: async () => {},
  };
}
