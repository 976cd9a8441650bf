/**
 * Broker service keys: `sk_<id>_<secret>`. The id names the key in logs and commands and is not secret; the
 * secret is 256 bits from the CSPRNG, shown once at creation. The store keeps, in the `broker_key` entry
 * namespace (shared by every instance, encrypted at rest), only the secret's SHA-256 (enough for a random
 * 256-bit secret: there is nothing to brute-force), with the name, permissions, creation time, expiry and
 * revocation. When a key was last used is kept apart, in `broker_key_used`, so that the throttled usage
 * write of one instance can never overwrite a revocation written meanwhile by another.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseScopes } from '../core/scopes.js';
import { stripControls } from '../core/text.js';
import type { EntryStore } from '../stores/types.js';
import { ACCOUNT_ID, FULL_ACCESS, type KeyPermissions } from './permissions.js';

export const KEY_NAMESPACE = 'broker_key';
export const KEY_USAGE_NAMESPACE = 'broker_key_used';

const KEY_SHAPE = /^sk_([0-9a-f]{16})_([0-9a-f]{64})$/;
export const KEY_ID = /^[0-9a-f]{16}$/;
const MAX_NAME = 64;
const MAX_USERS = 500;
const MAX_EXPIRY_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface BrokerKeyRecord extends KeyPermissions {
  id: string;
  name: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms after which the key is refused; null = never. */
  expiresAt: number | null;
  /** Epoch ms of revocation; null = not revoked. */
  revokedAt: number | null;
}

export type BrokerKeyStatus = 'active' | 'expired' | 'revoked';

export interface BrokerKeyInfo extends BrokerKeyRecord {
  /** Epoch ms, written back at most once a minute per instance; null = never used. */
  lastUsedAt: number | null;
  status: BrokerKeyStatus;
}

interface StoredKey {
  record: BrokerKeyRecord;
  /** SHA-256 of the secret. */
  digest: Buffer;
}

export interface NewKeyInput {
  name: string;
  users?: 'all' | readonly string[];
  scopes?: readonly string[] | null;
  proxy?: boolean;
  /** Days until the key expires; omitted = never. */
  expiresInDays?: number;
  /** Or an exact expiry (epoch ms). */
  expiresAt?: number;
}

/** Thrown for input a person typed wrong (a name, an id list, a scope): the message says what to fix. */
export class KeyInputError extends Error {
  override name = 'KeyInputError';
}

function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The id and secret of a presented `sk_<id>_<secret>` key, or null for anything else. */
export function parseKey(presented: string): { id: string; secret: string } | null {
  const [, id, secret] = KEY_SHAPE.exec(presented) ?? [];
  return id !== undefined && secret !== undefined ? { id, secret } : null;
}

export function keyStatus(record: BrokerKeyRecord, now: number): BrokerKeyStatus {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired';
  return 'active';
}

/** Checks and normalises what `keys create` was given. */
export function checkNewKey(input: NewKeyInput, now: number): Omit<BrokerKeyRecord, 'id' | 'createdAt'> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > MAX_NAME || stripControls(name) !== name)
    throw new KeyInputError(
      `A key needs a name of 1 to ${MAX_NAME} printable characters (say which service uses it).`,
    );
  let users: 'all' | string[] = 'all';
  if (input.users !== undefined && input.users !== 'all') {
    users = [...new Set(input.users.map((user) => user.trim()).filter(Boolean))];
    if (users.length === 0)
      throw new KeyInputError('--users needs "all" or at least one Spotify account id.');
    if (users.length > MAX_USERS) throw new KeyInputError(`--users takes at most ${MAX_USERS} account ids.`);
    const bad = users.find((user) => !ACCOUNT_ID.test(user));
    if (bad !== undefined)
      throw new KeyInputError(
        `${JSON.stringify(stripControls(bad.slice(0, 40)))} is not a Spotify account id (letters, digits, "_", ".", ":", "-").`,
      );
  }
  let scopes: string[] | null = null;
  if (input.scopes !== undefined && input.scopes !== null) {
    try {
      scopes = parseScopes(input.scopes);
    } catch (error) {
      throw new KeyInputError((error as Error).message);
    }
    if (scopes.length === 0) throw new KeyInputError('--scopes needs at least one scope.');
  }
  let expiresAt: number | null = null;
  if (input.expiresInDays !== undefined) {
    const days = input.expiresInDays;
    if (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRY_DAYS)
      throw new KeyInputError(`--expires takes a whole number of days from 1 to ${MAX_EXPIRY_DAYS}.`);
    expiresAt = now + days * DAY_MS;
  } else if (input.expiresAt !== undefined) {
    if (!Number.isFinite(input.expiresAt)) throw new KeyInputError('expiresAt must be epoch milliseconds.');
    expiresAt = input.expiresAt;
  }
  return { name, users, scopes, proxy: input.proxy === true, expiresAt, revokedAt: null };
}

/** The keys as the store holds them: what `spotauth keys create|list|revoke` and the verifier use. */
export class BrokerKeys {
  constructor(
    readonly entries: EntryStore,
    readonly now: () => number = Date.now,
  ) {}

  /** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
  async create(input: NewKeyInput): Promise<{ key: string; record: BrokerKeyRecord }> {
    const now = this.now();
    const checked = checkNewKey(input, now);
    for (;;) {
      const id = randomBytes(8).toString('hex');
      if (await this.entries.get(KEY_NAMESPACE, id)) continue; // 64-bit ids: practically never
      const secret = randomBytes(32).toString('hex');
      const record: BrokerKeyRecord = { id, createdAt: now, ...checked };
      await this.#write(record, secretDigest(secret));
      return { key: `sk_${id}_${secret}`, record };
    }
  }

  /** Every key, newest first, with its status and when it was last used. */
  async list(): Promise<BrokerKeyInfo[]> {
    const [entries, usage] = await Promise.all([
      this.entries.list(KEY_NAMESPACE),
      this.entries.list(KEY_USAGE_NAMESPACE),
    ]);
    const lastUsed = new Map(usage.map((entry) => [entry.id, Number(entry.value)]));
    const now = this.now();
    return entries
      .map((entry) => decode(entry.id, entry.value).record)
      .map((record) => ({
        ...record,
        lastUsedAt: lastUsed.get(record.id) ?? null,
        status: keyStatus(record, now),
      }))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** Revokes a key (kept, marked revoked, for the record). Null when there is no such key. */
  async revoke(id: string): Promise<BrokerKeyRecord | null> {
    if (!KEY_ID.test(id)) return null;
    const stored = await this.find(id);
    if (!stored) return null;
    if (stored.record.revokedAt !== null) return stored.record;
    const record = { ...stored.record, revokedAt: this.now() };
    await this.#write(record, stored.digest);
    return record;
  }

  async find(id: string): Promise<StoredKey | null> {
    const entry = await this.entries.get(KEY_NAMESPACE, id);
    return entry && decode(id, entry.value);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.entries.put(KEY_USAGE_NAMESPACE, { id, value: String(at) });
  }

  async #write(record: BrokerKeyRecord, digest: Buffer): Promise<void> {
    const value = JSON.stringify({
      v: 1,
      name: record.name,
      secret_sha256: digest.toString('hex'),
      users: record.users,
      scopes: record.scopes,
      proxy: record.proxy,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
      revoked_at: record.revokedAt,
    });
    await this.entries.put(KEY_NAMESPACE, { id: record.id, value });
  }
}

function decode(id: string, value: string): StoredKey {
  const raw = JSON.parse(value) as {
    name: string;
    secret_sha256: string;
    users: 'all' | string[];
    scopes: string[] | null;
    proxy: boolean;
    created_at: number;
    expires_at: number | null;
    revoked_at: number | null;
  };
  return {
    digest: Buffer.from(raw.secret_sha256, 'hex'),
    record: {
      id,
      name: raw.name,
      users: raw.users,
      scopes: raw.scopes,
      proxy: raw.proxy === true,
      createdAt: raw.created_at,
      expiresAt: raw.expires_at,
      revokedAt: raw.revoked_at,
    },
  };
}

/** Who made a request: a stored key, or a bootstrap key from SPOTAUTH_BROKER_KEYS (full access). */
export interface Principal {
  /** The key id (`bootstrap` for SPOTAUTH_BROKER_KEYS), for logs. */
  keyId: string;
  name: string;
  permissions: KeyPermissions;
}

export type KeyRejection = 'missing' | 'malformed' | 'unknown' | 'wrong_secret' | 'revoked' | 'expired';

export interface KeyVerifierOptions {
  keys: BrokerKeys;
  /** SPOTAUTH_BROKER_KEYS: full access, compared in constant time. */
  bootstrap: readonly string[];
  /**
   * How long this instance may answer from its memory of a key before reading the store again. Bounds how
   * long a revocation elsewhere takes to show here; capped at 500 ms, so every instance refuses a revoked
   * or expired key within 1 s.
   */
  cacheMs?: number;
  /** How often this instance writes a key's last use back (per key). Default 60 s. */
  touchEveryMs?: number;
  now?: () => number;
  /** A failed usage write is not the request's problem: it is reported here. */
  onTouchError?: (error: unknown) => void;
}

const MAX_CACHED = 10_000;

/** Per instance: turns an Authorization header into a Principal, or says why not. */
export class KeyVerifier {
  readonly #keys: BrokerKeys;
  readonly #bootstrap: Buffer[];
  readonly #cacheMs: number;
  readonly #touchEveryMs: number;
  readonly #now: () => number;
  readonly #onTouchError: (error: unknown) => void;
  readonly #cache = new Map<string, { stored: StoredKey | null; until: number }>();
  readonly #reading = new Map<string, Promise<StoredKey | null>>();
  readonly #touched = new Map<string, number>();

  constructor(options: KeyVerifierOptions) {
    this.#keys = options.keys;
    this.#bootstrap = options.bootstrap.map(secretDigest);
    this.#cacheMs = Math.min(500, Math.max(0, options.cacheMs ?? 500));
    this.#touchEveryMs = options.touchEveryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#onTouchError = options.onTouchError ?? (() => {});
  }

  /** Whether any bootstrap key is configured (the API is usable without `keys create`). */
  get hasBootstrap(): boolean {
    return this.#bootstrap.length > 0;
  }

  async verify(
    authorization: string | undefined,
  ): Promise<{ principal: Principal } | { rejected: KeyRejection; keyId: string }> {
    if (authorization === undefined || authorization === '') return { rejected: 'missing', keyId: 'none' };
    // The scheme is case-insensitive (RFC 9110 §11.1); the key is printable ASCII of bounded length.
    const presented = /^bearer [\x21-\x7e]{1,512}$/i.test(authorization) ? authorization.slice(7) : null;
    if (presented === null) return { rejected: 'malformed', keyId: presentedKeyId(authorization) };
    // Every bootstrap key is compared, so the time taken says nothing about which one nearly matched.
    let bootstrap = false;
    if (this.#bootstrap.length > 0) {
      const digest = secretDigest(presented);
      for (const key of this.#bootstrap) bootstrap = timingSafeEqual(key, digest) || bootstrap;
    }
    if (bootstrap)
      return {
        principal: {
          keyId: 'bootstrap',
          name: 'SPOTAUTH_BROKER_KEYS',
          permissions: FULL_ACCESS,
        },
      };
    const parsed = parseKey(presented);
    if (!parsed) return { rejected: 'malformed', keyId: presentedKeyId(authorization) };
    const stored = await this.#lookup(parsed.id);
    if (!stored) return { rejected: 'unknown', keyId: parsed.id };
    if (!timingSafeEqual(stored.digest, secretDigest(parsed.secret)))
      return { rejected: 'wrong_secret', keyId: parsed.id };
    const now = this.#now();
    const status = keyStatus(stored.record, now);
    if (status !== 'active') return { rejected: status, keyId: parsed.id };
    this.#touch(parsed.id, now);
    const { record } = stored;
    return {
      principal: {
        keyId: record.id,
        name: record.name,
        permissions: { users: record.users, scopes: record.scopes, proxy: record.proxy },
      },
    };
  }

  async #lookup(id: string): Promise<StoredKey | null> {
    const started = this.#now();
    const cached = this.#cache.get(id);
    if (cached && cached.until > started) return cached.stored;
    const running = this.#reading.get(id);
    if (running) return running;
    // Valid until `cacheMs` after the read *started*: a revocation committed before a read began is
    // seen by it, and one committed after is seen by every read starting cacheMs later.
    const reading = this.#keys
      .find(id)
      .then((stored) => {
        if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
        if (this.#cacheMs > 0) this.#cache.set(id, { stored, until: started + this.#cacheMs });
        return stored;
      })
      .finally(() => this.#reading.delete(id));
    this.#reading.set(id, reading);
    return reading;
  }

  #touch(id: string, now: number): void {
    const last = this.#touched.get(id);
    if (last !== undefined && now - last < this.#touchEveryMs) return;
    if (this.#touched.size >= MAX_CACHED) this.#touched.clear();
    this.#touched.set(id, now);
    this.#keys.touch(id, now).catch(this.#onTouchError);
  }
}

/**
 * The id part of a presented key, for the log: only keys shaped `sk_<id>_…` have one, and the id is not
 * secret. Anything else is logged as absent or unrecognised, never echoed.
 */
export function presentedKeyId(header: string | undefined): string {
  if (header === undefined) return 'none';
  return /^bearer sk_([A-Za-z0-9]{1,32})_/i.exec(header)?.[1] ?? 'unrecognised';
}
