/**
 * Token stores: one interface (types.ts), five backends, chosen by URL with `createStore`.
 * Backend modules import their driver (pg, ioredis, better-sqlite3) only inside `open()`, and only as types at
 * the top, so importing this index never loads a driver the caller doesn't use.
 */
import { homedir } from 'node:os';
import { SpotauthError } from '../core/errors.js';
import { KEYS_ENV, type Keyring } from './encryption.js';
import { MemoryStore } from './memory.js';
import type { TokenStore } from './types.js';

export type { SealedRecord, SealedRow } from './codec.js';
export { RecordCodec } from './codec.js';
export type { Envelope, EnvelopeContext, GeneratedKey } from './encryption.js';
export {
  ACTIVE_KEY_ENV,
  ENVELOPE_ALG,
  ENVELOPE_VERSION,
  envelopeAad,
  envelopeKid,
  generateKey,
  KEYS_ENV,
  Keyring,
  parseEnvelope,
  serializeEnvelope,
} from './encryption.js';
export type { FileStoreOptions } from './file.js';
export { FILE_FORMAT, FILE_FORMAT_VERSION, FileStore } from './file.js';
export { MemoryStore } from './memory.js';
export type { PostgresStoreOptions } from './postgres.js';
export { POSTGRES_MIGRATIONS, PostgresStore } from './postgres.js';
export type { RedisStoreOptions } from './redis.js';
export { RedisStore } from './redis.js';
export type { EncryptedStore, ReencryptResult } from './reencrypt.js';
export { isEncryptedStore, reencryptAll } from './reencrypt.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { SQLITE_MIGRATIONS, SqliteStore } from './sqlite.js';
export type {
  GrantStatus,
  LockHandle,
  ReauthReason,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
} from './types.js';

/** Options of {@link createStore}; each applies only to the backends it names. */
export interface CreateStoreOptions {
  /** The encryption keys for the secret fields. Required by every persistent backend (all but `memory:`). */
  keyring?: Keyring;
  /** Postgres: schema for the tables (created if missing). Also `?schema=` on the URL. */
  schema?: string;
  /** Postgres: table-name prefix. Default `spotauth_`. */
  tablePrefix?: string;
  /** Redis: key prefix. Default `spotauth:`. Also `?prefix=` on the URL. */
  keyPrefix?: string;
  /** Postgres: connections in the pool. Default 10. */
  poolSize?: number;
  /** SQLite: how long a statement waits for another connection's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** File store: how long a write waits for another process's write lock, ms. Default 15 000. */
  lockTimeoutMs?: number;
}

/** The backends {@link createStore} knows, as selected by a store URL. */
export type StoreBackend = 'memory' | 'file' | 'sqlite' | 'postgres' | 'redis';

/**
 * Which backend a store URL selects, and the path or URL handed to it (see {@link createStore} for the
 * forms).
 *
 * @throws {@link SpotauthError} `INVALID_CONFIG` for a URL of no known backend, or a file URL without a
 * path. The message shows the URL with any password masked.
 */
export function parseStoreUrl(url: string): {
  /** The backend selected. */
  backend: StoreBackend;
  /** The file path (file, sqlite) or connection URL (postgres, redis); empty for memory. */
  target: string;
} {
  const trimmed = url.trim();
  if (trimmed === 'memory' || trimmed.startsWith('memory:')) return { backend: 'memory', target: '' };
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { backend: 'postgres', target: trimmed };
  if (/^rediss?:\/\//i.test(trimmed)) return { backend: 'redis', target: trimmed };
  if (/^sqlite:/i.test(trimmed))
    return { backend: 'sqlite', target: pathOf(trimmed.slice('sqlite:'.length)) };
  if (/^file:/i.test(trimmed)) return { backend: 'file', target: pathOf(trimmed.slice('file:'.length)) };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    if (/\.(db|sqlite3?)$/i.test(trimmed)) return { backend: 'sqlite', target: pathOf(trimmed) };
    if (/\.json$/i.test(trimmed)) return { backend: 'file', target: pathOf(trimmed) };
  }
  throw new SpotauthError(
    'INVALID_CONFIG',
    `Unrecognised store '${redactForMessage(trimmed)}'. Use memory:, file:PATH (or a .json path), sqlite:PATH ` +
      '(or a .db/.sqlite/.sqlite3 path), postgres://… or redis://….',
  );
}

/**
 * Where in a shared server a store lives can ride on its URL, so that one setting (`SPOTAUTH_STORE`,
 * `keys reencrypt --store`) names it completely: `postgres://…?schema=NAME` and `redis://…?prefix=NAME:`.
 * The parameter is removed before the URL reaches the driver (ioredis would take any query parameter as
 * one of its own options). Options passed in code win over the URL.
 */
export function storeLocation(
  backend: 'postgres' | 'redis',
  target: string,
): {
  /** The connection URL without the location parameter. */
  url: string;
  /** Postgres: the `?schema=` value. */
  schema?: string;
  /** Redis: the `?prefix=` value. */
  keyPrefix?: string;
} {
  const name = backend === 'postgres' ? 'schema' : 'prefix';
  const at = target.indexOf('?');
  if (at === -1) return { url: target };
  const query = new URLSearchParams(target.slice(at + 1));
  const values = query.getAll(name);
  if (values.length === 0) return { url: target };
  const value = values[0]!;
  if (values.length > 1 || value === '' || (backend === 'redis' && !REDIS_PREFIX.test(value))) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      backend === 'redis'
        ? "The store URL's prefix must be given once: 1 to 64 letters, digits and ':_.-' (e.g. ?prefix=myapp:)."
        : "The store URL's schema must be given once (e.g. ?schema=myapp).",
    );
  }
  query.delete(name);
  const rest = query.toString();
  const url = target.slice(0, at) + (rest ? `?${rest}` : '');
  return backend === 'postgres' ? { url, schema: value } : { url, keyPrefix: value };
}

const REDIS_PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;

/**
 * Opens the token store a URL names. The driver (`better-sqlite3`, `pg`, `ioredis`) is loaded only for
 * the backend used; SQL backends create or migrate their tables on open.
 *
 * | URL | Backend |
 * |---|---|
 * | `memory:` | {@link MemoryStore}: this process only, plaintext, lost on exit |
 * | `file:PATH`, or a path ending `.json` | {@link FileStore}: one encrypted JSON file (the CLI) |
 * | `sqlite:PATH`, or a path ending `.db`, `.sqlite`, `.sqlite3` | {@link SqliteStore} |
 * | `postgres://…` (`?schema=NAME` optional) | {@link PostgresStore} |
 * | `redis://…`, `rediss://…` (`?prefix=NAME:` optional) | {@link RedisStore} |
 *
 * `~/` in a path is the home directory. Options given in code win over those on the URL.
 *
 * @throws {@link SpotauthError} `INVALID_CONFIG` for an unknown URL, a bad `?schema=` / `?prefix=`, or a
 * persistent backend without `options.keyring`; `STORE_UNAVAILABLE` when the database cannot be reached;
 * `STORE_CORRUPT` for a store file that is not a spotauth store.
 *
 * @example
 * ```ts
 * const keyring = Keyring.fromEnv(process.env); // SPOTAUTH_ENCRYPTION_KEYS="k1:<base64 of 32 bytes>"
 * if (!keyring) throw new Error('Set SPOTAUTH_ENCRYPTION_KEYS (spotauth keys generate).');
 * const store = await createStore(process.env.SPOTAUTH_STORE ?? 'sqlite:./tokens.db', { keyring });
 * ```
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<TokenStore> {
  const { backend, target } = parseStoreUrl(url);
  if (backend === 'memory') return new MemoryStore();
  const keyring = options.keyring;
  if (!keyring) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      `The ${backend} token store needs an encryption key: set ${KEYS_ENV}="k1:<base64 of 32 bytes>" ` +
        '(create one with `spotauth keys generate`) or pass a Keyring.',
    );
  }
  switch (backend) {
    case 'file': {
      const { FileStore } = await import('./file.js');
      return new FileStore(target, { keyring, lockTimeoutMs: options.lockTimeoutMs });
    }
    case 'sqlite': {
      const { SqliteStore } = await import('./sqlite.js');
      return SqliteStore.open(target, { keyring, busyTimeoutMs: options.busyTimeoutMs });
    }
    case 'postgres': {
      const { PostgresStore } = await import('./postgres.js');
      const location = storeLocation(backend, target);
      return PostgresStore.open(location.url, {
        keyring,
        schema: options.schema ?? location.schema,
        tablePrefix: options.tablePrefix,
        poolSize: options.poolSize,
      });
    }
    case 'redis': {
      const { RedisStore } = await import('./redis.js');
      const location = storeLocation(backend, target);
      return RedisStore.open(location.url, { keyring, keyPrefix: options.keyPrefix ?? location.keyPrefix });
    }
  }
}

/** `sqlite:///abs.db` and `sqlite://./rel.db` both work; `~/` means the home directory. */
function pathOf(rest: string): string {
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '') {
    throw new SpotauthError('INVALID_CONFIG', 'The store URL names no file path (e.g. sqlite:./tokens.db).');
  }
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

function redactForMessage(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@').slice(0, 200);
}
