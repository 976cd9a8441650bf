import type { NewOutboxEvent, Outbox } from './outbox.js';

/**
 * The one interface every token store implements. Stores hold *plaintext* records in memory only; every
 * persistent backend encrypts the secret fields (access and refresh token) before they leave the process.
 */

import type { ReauthReason } from '../core/grant.js';

export type { ReauthReason };
/**
 * `'active'`: the grant refreshes normally. `'reauth_required'`: Spotify refused its refresh token for good
 * (see `reauthReason`), so the user must log in again; the record is kept to say why.
 */
export type GrantStatus = 'active' | 'reauth_required';

/** What the token manager keeps for one key: a user's grant (`user:<account>`) or the app token (`app:<clientId>`). */
export interface TokenRecord {
  /** Store key, e.g. `user:<spotify account id>` or `app:<client id>`. At most 512 characters. */
  key: string;
  /** The current access token, in clear (persistent backends encrypt it at rest). */
  accessToken: string;
  /** When the access token expires, epoch milliseconds. */
  accessTokenExpiresAt: number;
  /** Absent for app (client-credentials) tokens. */
  refreshToken?: string;
  /** Granted scopes, as returned by the token endpoint. */
  scope: string[];
  /** Whether the grant still works. */
  status: GrantStatus;
  /** Why the user must log in again, when `status` is `'reauth_required'`. */
  reauthReason?: ReauthReason;
  /** Epoch ms when the grant was marked reauth_required. */
  reauthAt?: number;
  /** Epoch ms of the user's original consent (refresh does not change it). */
  authorizedAt: number;
  /** Epoch ms after which Spotify will refuse the refresh token (authorizedAt + 6 months by default). */
  refreshTokenDeadline?: number;
  /** Non-secret metadata (display name, Spotify id, client id, profile name…). Stored unencrypted. */
  meta?: Record<string, string>;
  /** Compare-and-swap version: 1 on create, +1 on every successful put. Managed by the store. */
  version: number;
  /** Epoch ms of the last write. Managed by the store. */
  updatedAt: number;
}

/** A record as given to `put`: the store assigns `version` and `updatedAt`. */
export type TokenRecordInput = Omit<TokenRecord, 'version' | 'updatedAt'>;

/**
 * A held lease on a lock. A lease is short (the token manager uses 3 s) and its holder renews it while its
 * work is alive, so a crashed holder frees the lock within about one lease and a live one is never pre-empted.
 */
export interface LockHandle {
  /**
   * Extends the lease to `ttlMs` from now, if this holder still holds it. False once the lease is lost: it
   * ran out (even if nobody has taken it since) or another holder took it. Never extends someone else's lease.
   */
  renew(ttlMs: number): Promise<boolean>;
  /** Releases the lock if this holder still owns it (an expired lock taken by someone else is left alone). */
  release(): Promise<void>;
}

/** A stored record that exists but cannot be read (corrupt, or encrypted under a key that is gone). */
export interface UnreadableRecord {
  /** Its store key. */
  key: string;
  /** Why: STORE_CORRUPT, DECRYPT_FAILED or KEY_UNKNOWN. */
  code: string;
}

/** Options of {@link TokenStore.list}. */
export interface ListOptions {
  /**
   * Given: records that cannot be read are reported here and skipped, so one bad record does not hide the
   * others. Not given: the first unreadable record throws (the caller must not mistake it for "absent").
   */
  onUnreadable?: (record: UnreadableRecord) => void;
  /**
   * Only records whose key sorts after this one (JavaScript string order). With `limit` and `include`,
   * a way to read a long list a range at a time: this package's stores open (decrypt) nothing outside the
   * range. They are hints — a store that ignores them returns more, in any order — so callers filter again.
   */
  after?: string;
  /** At most this many records in key order, the unreadable ones counted (see `after`). */
  limit?: number;
  /** Only keys this accepts are opened or counted; the others are skipped unread (see `after`). */
  include?: (key: string) => boolean;
}

/** One short-lived entry: a browser session, a login transaction, a broker key. */
export interface StoredEntry {
  /** Unique within its namespace; for secrets presented by clients, a digest of them (never the secret). */
  id: string;
  /** Opaque text (usually JSON). Persistent backends encrypt it at rest, bound to namespace and id. */
  value: string;
  /** Groups entries for deleteByTag (e.g. every session of one user). At most 512 characters. */
  tag?: string;
  /** Epoch ms after which the entry is gone (reads ignore it; purgeExpired removes it). None = kept. */
  expiresAt?: number;
}

/**
 * Entries beside the token records, shared by every process on the store: what lets any instance serve any
 * browser (sessions, single-use login transactions) and every instance see a revoked key.
 */
export interface EntryStore {
  /** Creates or replaces. */
  put(namespace: string, entry: StoredEntry): Promise<void>;
  /**
   * Replaces an entry only while it still exists (and has not expired); false otherwise. Unlike put, it
   * never brings back an entry that another instance deleted meanwhile (a logout).
   */
  update(namespace: string, entry: StoredEntry): Promise<boolean>;
  /** The entry, or null when absent or expired. */
  get(namespace: string, id: string): Promise<StoredEntry | null>;
  /** Reads and deletes in one atomic step: of concurrent takers, exactly one gets the entry. */
  take(namespace: string, id: string): Promise<StoredEntry | null>;
  /** Whether an entry was deleted. */
  delete(namespace: string, id: string): Promise<boolean>;
  /** Deletes every entry of the namespace with this tag; returns how many. */
  deleteByTag(namespace: string, tag: string): Promise<number>;
  /** Every live entry of a namespace, ordered by id (for small namespaces such as keys). */
  list(namespace: string): Promise<StoredEntry[]>;
  /** Removes expired entries (backends with native expiry do nothing); returns how many. */
  purgeExpired(): Promise<number>;
  /** Rewrites every entry not encrypted under the active key (key rotation); returns how many. */
  reencrypt(): Promise<number>;
}

/** Options of a store write ({@link TokenStore.put}, {@link TokenStore.delete}). */
export interface WriteOptions {
  /**
   * Outbox events written in the same atomic step as this change: both happen, or neither (a failed
   * compare-and-swap appends nothing).
   */
  events?: readonly NewOutboxEvent[];
}

/**
 * Where token records (and the entries and outbox beside them) live: the one interface every backend
 * implements. Records are plaintext on this interface; a persistent backend encrypts the secret fields
 * before they leave the process. Get one with `createStore`, or implement it for a backend of your own.
 *
 * Every method may throw `SpotauthError` `STORE_UNAVAILABLE` (transient: the backend cannot be
 * reached); reads may throw `STORE_CORRUPT`, `DECRYPT_FAILED` or `KEY_UNKNOWN` for a record that exists
 * but cannot be read — never null for it, so a damaged record is not mistaken for a logout.
 */
export interface TokenStore {
  /**
   * The backend, e.g. `'memory'`, `'file'`, `'sqlite'`, `'postgres'`, `'redis'`; part of the encryption AAD.
   */
  readonly kind: string;
  /** Human-readable, secret-free description (path, host…), for status output and logs. */
  describe(): string;
  /** The record stored under `key`, or null when there is none. */
  get(key: string): Promise<TokenRecord | null>;
  /**
   * Compare-and-swap write. `expectedVersion` null → create only (fails if the key exists);
   * a number → succeeds only if the stored version equals it. Throws `SpotauthError` code
   * `STORE_CONFLICT` otherwise. Returns the stored record with its new version.
   */
  put(record: TokenRecordInput, expectedVersion: number | null, options?: WriteOptions): Promise<TokenRecord>;
  /** Deletes the record if present (with `options.events`, only then are they appended). */
  delete(key: string, options?: WriteOptions): Promise<void>;
  /** Every record whose key starts with `prefix` (all records without one). */
  list(prefix?: string, options?: ListOptions): Promise<TokenRecord[]>;
  /**
   * Moves the raw stored bytes of `key` aside (kept for the operator, never read again by spotauth) and
   * removes the record, so a fresh login can replace a record that cannot be read. Returns a secret-free
   * description of where the bytes went, or null when there was no record.
   */
  quarantine(key: string): Promise<string | null>;
  /**
   * Try to take an exclusive lock named `name` as a lease of `ttlMs`, across every process sharing this store.
   * Returns null if someone else holds it. A lease that is not renewed expires after ttlMs.
   */
  tryLock(name: string, ttlMs: number): Promise<LockHandle | null>;
  /**
   * Resolves once the lock `name` may be free: promptly after its holder releases it (each store uses what
   * it has: a direct wake-up in this process, Redis pub/sub, PostgreSQL LISTEN/NOTIFY, short polls of a
   * local table or file), when the holder's lease runs out unrenewed, or after `timeoutMs`, whichever comes
   * first. It does not take the lock: call tryLock again. Optional for custom stores; without it the token
   * manager polls tryLock.
   */
  waitForRelease?(name: string, timeoutMs: number): Promise<void>;
  /** Sessions, login transactions and other short-lived entries, on the same backend. */
  readonly entries: EntryStore;
  /** Webhook events, appended atomically with the writes that cause them (WriteOptions.events). */
  readonly outbox: Outbox;
  /**
   * How this store encrypts at rest: `null` for a store that keeps nothing beyond the process (memory), or
   * one that leaves encryption to its backend. Required, so that a backend cannot forget it: key rotation
   * (`spotauth keys reencrypt`, `reencryptAll`) reads it to find records under retired keys.
   */
  readonly encryption: StoreEncryption | null;
  /** Releases connections, subscribers and file handles; the store cannot be used afterwards. */
  close(): Promise<void>;
}

/** The encryption capability of a store that seals its records with a {@link Keyring}. */
export interface StoreEncryption {
  /** The key id new writes are sealed under (the keyring's active key). */
  readonly activeKid: string;
  /** Every record's key, with the key ids its stored bytes reference, read without decrypting. */
  keyIdsInUse(): Promise<
    Array<{
      /** The record's key. */
      key: string;
      /** The key ids its envelopes name. */
      kids: string[];
    }>
  >;
}
