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

export interface CreateStoreOptions {
  /** Required by every persistent backend (all but `memory:`). */
  keyring?: Keyring;
  /** Postgres: schema for the tables (created if missing). */
  schema?: string;
  /** Postgres: table-name prefix. Default `spotauth_`. */
  tablePrefix?: string;
  /** Redis: key prefix. Default `spotauth:`. */
  keyPrefix?: string;
  /** Postgres pool size. */
  poolSize?: number;
  /** SQLite busy timeout. */
  busyTimeoutMs?: number;
  /** File store: how long to wait for another process's write lock. */
  lockTimeoutMs?: number;
}

export type StoreBackend = 'memory' | 'file' | 'sqlite' | 'postgres' | 'redis';

/** Which backend a store URL selects, and the path or URL handed to it. */
export function parseStoreUrl(url: string): { backend: StoreBackend; target: string } {
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
      return PostgresStore.open(target, {
        keyring,
        schema: options.schema,
        tablePrefix: options.tablePrefix,
        poolSize: options.poolSize,
      });
    }
    case 'redis': {
      const { RedisStore } = await import('./redis.js');
      return RedisStore.open(target, { keyring, keyPrefix: options.keyPrefix });
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
