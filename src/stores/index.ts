/**
 * Token stores: one interface (types.ts), five backends, chosen by URL with `createStore`.
 * Backend modules import their driver (pg, ioredis, better-sqlite3) only inside `open()`, and only as types at
 * the top, so importing this index never loads a driver the caller doesn't use.
 */
import './backends.js';
import { type CreateStoreOptions, requireKeyring, resolve } from './registry.js';
import type { TokenStore } from './types.js';

export { filePathOf, storeLocation } from './backends.js';
// The kit for backend authors: what every built-in backend uses to seal records, check writes, keep
// entries and the webhook outbox, and hand out leases. A new backend built from these behaves like ours
// (and `spotauth/testing` checks that it does).
export type { SealedRecord, SealedRow } from './codec.js';
export {
  checkInput,
  conflictError,
  corrupt,
  openListed,
  RecordCodec,
  sealedKids,
  stamp,
  validateSealed,
} from './codec.js';
export type { GeneratedKey } from './encryption.js';
export {
  ACTIVE_KEY_ENV,
  envelopeKid,
  generateKey,
  KEYS_ENV,
  Keyring,
} from './encryption.js';
export {
  checkEntry,
  checkEntryArgs,
  copyEntry,
  EntryCodec,
  entryCorrupt,
  live,
  MemoryEntries,
} from './entries.js';
export type { FileStoreOptions } from './file.js';
export { FileStore } from './file.js';
export { assertLockArgs, newLockOwner } from './lock-owner.js';
export { jitteredPoll, ReleaseSignals, type WaitOptions, waitForRelease } from './lock-wait.js';
export { MemoryStore } from './memory.js';
export type { ClaimedEvent, NewOutboxEvent, Outbox, OutboxDelivery, OutboxEvent } from './outbox.js';
export { appendTo, DocumentOutbox, type StoredOutboxEvent } from './outbox-shared.js';
export type { PostgresStoreOptions } from './postgres.js';
export { PostgresStore } from './postgres.js';
export type { RedisStoreOptions } from './redis.js';
export { RedisStore } from './redis.js';
export type { ReencryptResult } from './reencrypt.js';
export { reencryptAll } from './reencrypt.js';
export {
  type CreateStoreOptions,
  parseStoreUrl,
  registeredStoreBackends,
  registerStoreBackend,
  requireKeyring,
  type StoreBackend,
} from './registry.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { SqliteStore } from './sqlite.js';
export type {
  EntryStore,
  GrantStatus,
  ListOptions,
  LockHandle,
  ReauthReason,
  StoredEntry,
  StoreEncryption,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';

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
 * | the scheme of a backend added with {@link registerStoreBackend} | that backend |
 *
 * `~/` in a path is the home directory. Options given in code win over those on the URL. Persistent
 * backends need `options.keyring`.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a URL of no registered backend, a bad `?schema=` /
 * `?prefix=`, or a persistent backend without `options.keyring`; `STORE_UNAVAILABLE` when the database
 * cannot be reached; `STORE_CORRUPT` for a store file that is not a spotauth store.
 *
 * @example
 * ```ts
 * const keyring = Keyring.fromEnv(process.env); // SPOTAUTH_ENCRYPTION_KEYS="k1:<base64 of 32 bytes>"
 * if (!keyring) throw new Error('Set SPOTAUTH_ENCRYPTION_KEYS (spotauth keys generate).');
 * const store = await createStore(process.env.SPOTAUTH_STORE ?? 'sqlite:./tokens.db', { keyring });
 * ```
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<TokenStore> {
  const { backend, target } = resolve(url);
  if (backend.persistent) requireKeyring(options, backend.name);
  return backend.open(target, options);
}
