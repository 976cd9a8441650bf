/**
 * Token stores: one interface (types.ts), five backends, chosen by URL with `createStore`.
 * Backend modules import their driver (pg, ioredis, better-sqlite3) only inside `open()`, and only as types at
 * the top, so importing this index never loads a driver the caller doesn't use.
 */
import './backends.js';
import { type CreateStoreOptions, requireKeyring, resolve } from './registry.js';
import type { TokenStore } from './types.js';

export { filePathOf, storeLocation } from './backends.js';
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
export {
  type CreateStoreOptions,
  parseStoreUrl,
  registeredStoreBackends,
  registerStoreBackend,
  requireKeyring,
  type StoreBackend,
} from './registry.js';
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

/**
 * Opens the store a URL names: `memory:`, `file:PATH` (or a `.json` path), `sqlite:PATH` (or a `.db`,
 * `.sqlite`, `.sqlite3` path), `postgres://…[?schema=NAME]`, `redis://…[?prefix=NAME:]`, or the scheme of
 * any backend registered with `registerStoreBackend`. Persistent backends need `options.keyring`.
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<TokenStore> {
  const { backend, target } = resolve(url);
  if (backend.persistent) requireKeyring(options, backend.name);
  return backend.open(target, options);
}
