/**
 * Redis via ioredis. Each record is one JSON string (a SealedRecord: secret fields are envelopes) at
 * `<prefix>rec:<key>`; locks are `<prefix>lock:<name>` (`SET NX PX`, a lease renewed with `PEXPIRE`).
 * Compare-and-swap, renewal and release run as Lua scripts, which Redis executes atomically. A release
 * publishes the lock's name on `<prefix>released`; waiters listen there on one subscriber connection per store
 * (opened on the first wait), so they hear of a release at once instead of polling Redis.
 */
import type { Redis } from 'ioredis';
import { SpotauthError } from '../core/errors.js';
import {
  checkInput,
  conflictError,
  isRange,
  listRange,
  openListed,
  RecordCodec,
  sealedKids,
  stamp,
  validateSealed,
} from './codec.js';
import type { Keyring } from './encryption.js';
import { EntryCodec } from './entries.js';
import { assertLockArgs, newLockOwner } from './lock-owner.js';
import { jitteredPoll, ReleaseSignals, waitForRelease } from './lock-wait.js';
import { RedisEntries } from './redis-entries.js';
import { appendFragment, RedisOutbox } from './redis-outbox.js';
import type {
  ListOptions,
  LockHandle,
  StoreEncryption,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';
import { hostPort, redactUrl, scrubPassword } from './url.js';

/** Options of {@link RedisStore.open}. */
export interface RedisStoreOptions {
  /** The encryption keys for the secret fields (required: this backend never stores a token in clear). */
  keyring: Keyring;
  /** Prefix of every Redis key this store touches. Default `spotauth:`. */
  keyPrefix?: string;
  /** How long to wait for the connection, ms. Default 5000. */
  connectTimeoutMs?: number;
}

/** KEYS[1] record (+ KEYS[2..3] outbox when events come along); ARGV[1] expected version ('' = create only), ARGV[2] new JSON. Returns 1, or the conflict. */
const PUT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return {0, cjson.decode(current).version} end
else
  if not current then return {0, -1} end
  local version = cjson.decode(current).version
  if tostring(version) ~= ARGV[1] then return {0, version} end
end
redis.call('SET', KEYS[1], ARGV[2])
if #KEYS > 1 then ${appendFragment(2, 3, 3)} end
return {1, 0}`;

/** KEYS[1] record, KEYS[2..3] outbox; ARGV from 1 as appendFragment wants. Events only if it existed. */
const DELETE_SCRIPT = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
${appendFragment(2, 3, 1)}
return 1`;

/** KEYS[1] lock; ARGV[1] owner, ARGV[2] channel, ARGV[3] lock name. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`;

/** KEYS[1] lock; ARGV[1] owner, ARGV[2] lease ms. A lease that ran out is gone from Redis: it stays lost. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** While the subscriber connection is down, waiters look at the lock this often instead. */
const fallbackPollMs = jitteredPoll(50, 100);

/**
 * A token store in Redis (`ioredis`), for servers with several instances. Each record is one JSON value
 * whose secrets are envelopes; compare-and-swap, lock renewal and release run as Lua scripts (atomic),
 * and a release is published so waiting instances wake at once. Install `ioredis`.
 */
export class RedisStore implements TokenStore {
  readonly kind = 'redis';
  readonly #redis: Redis;
  readonly #url: string;
  readonly #prefix: string;
  readonly #codec: RecordCodec;
  readonly #released = new ReleaseSignals();
  readonly #channel: string;
  #subscriber: Promise<Redis | null> | undefined;
  #closed = false;
  readonly entries: RedisEntries;
  readonly outbox: RedisOutbox;

  private constructor(redis: Redis, url: string, prefix: string, keyring: Keyring) {
    this.#redis = redis;
    this.#url = url;
    this.#prefix = prefix;
    this.#codec = new RecordCodec(this.kind, keyring);
    this.#channel = `${prefix}released`;
    this.outbox = new RedisOutbox(prefix, (fn) => this.#call(fn));
    this.entries = new RedisEntries(prefix, new EntryCodec(this.kind, keyring), (fn) => this.#call(fn));
  }

  /**
   * Connects and checks the connection with a PING.
   *
   * @param url - A `redis://` or `rediss://` (TLS) URL.
   * @throws `SpotauthError` `STORE_UNAVAILABLE` when Redis cannot be reached.
   */
  static async open(url: string, options: RedisStoreOptions): Promise<RedisStore> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 2,
    });
    // ioredis emits 'error' on every failed reconnect; without a listener Node would crash the process.
    redis.on('error', () => {});
    const store = new RedisStore(redis, url, options.keyPrefix ?? 'spotauth:', options.keyring);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw store.#translate(error);
    }
    return store;
  }

  get encryption(): StoreEncryption {
    return { activeKid: this.#codec.keyring.activeKid, keyIdsInUse: () => this.#keyIdsInUse() };
  }

  describe(): string {
    return `redis ${redactUrl(this.#url)} (key prefix ${this.#prefix})`;
  }

  async get(key: string): Promise<TokenRecord | null> {
    const raw = await this.#call((r) => r.get(this.#recordKey(key)));
    return raw === null ? null : this.#open(raw);
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    const stored = stamp(record, (expectedVersion ?? 0) + 1, Date.now());
    const json = JSON.stringify(this.#codec.seal(stored));
    const events = options?.events;
    const keys = [this.#recordKey(record.key)];
    const args = [expectedVersion === null ? '' : String(expectedVersion), json];
    if (events?.length) {
      keys.push(this.outbox.dueKey, this.outbox.logKey);
      args.push(...this.outbox.appendArgs(events, stored.updatedAt));
    }
    const [ok, actual] = (await this.#call((r) => r.eval(PUT_SCRIPT, keys.length, ...keys, ...args))) as [
      number,
      number,
    ];
    if (ok !== 1) throw conflictError(record.key, expectedVersion, actual === -1 ? null : actual);
    return stored;
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    const events = options?.events;
    if (!events?.length) {
      await this.#call((r) => r.del(this.#recordKey(key)));
      return;
    }
    await this.#call((r) =>
      r.eval(
        DELETE_SCRIPT,
        3,
        this.#recordKey(key),
        this.outbox.dueKey,
        this.outbox.logKey,
        ...this.outbox.appendArgs(events, Date.now()),
      ),
    );
  }

  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    const namespace = this.#recordKey('').length;
    const storeKey = (redisKey: string) => redisKey.slice(namespace);
    // A range fetches only its own values: the keys first, then MGET of those in range.
    const keys = await this.#scanKeys(prefix);
    const chosen = isRange(options) ? listRange(keys, storeKey, options) : keys;
    return openListed(
      await this.#values(chosen),
      ({ key }) => storeKey(key),
      ({ raw }) => this.#open(raw),
      options,
    );
  }

  async quarantine(key: string): Promise<string | null> {
    const target = `${this.#prefix}quarantine:${Date.now()}:${key}`;
    // RENAME moves the value atomically; outside the `rec:` namespace nothing lists or reads it again.
    const moved = await this.#call((r) => r.renamenx(this.#recordKey(key), target)).catch(
      (error: unknown) => {
        if (error instanceof SpotauthError && /no such key/i.test(error.message)) return null;
        throw error;
      },
    );
    return moved === 1 ? `Redis key ${target}` : null;
  }

  async #keyIdsInUse(): Promise<Array<{ key: string; kids: string[] }>> {
    return (await this.#scan('')).map(({ raw }) => {
      const sealed = this.#validate(raw);
      return { key: sealed.key, kids: sealedKids(sealed) };
    });
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    const owner = newLockOwner();
    const lockKey = this.#lockKey(name);
    const ok = await this.#call((r) => r.set(lockKey, owner, 'PX', Math.ceil(ttlMs), 'NX'));
    if (ok !== 'OK') return null;
    return {
      renew: async (leaseMs) => {
        assertLockArgs(name, leaseMs);
        return (await this.#call((r) => r.eval(RENEW_SCRIPT, 1, lockKey, owner, Math.ceil(leaseMs)))) === 1;
      },
      release: async () => {
        const released = await this.#call((r) =>
          r.eval(RELEASE_SCRIPT, 1, lockKey, owner, this.#channel, name),
        );
        // Our own subscriber hears it too; waking here as well saves this process the round trip.
        if (released === 1) this.#released.notify(name);
      },
    };
  }

  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    const subscribed = (await this.#subscribe()) !== null;
    const lockKey = this.#lockKey(name);
    await waitForRelease({
      signals: this.#released,
      name,
      timeoutMs,
      ...(subscribed ? {} : { pollMs: fallbackPollMs }),
      leaseRemainingMs: async () => {
        const ms = await this.#call((r) => r.pttl(lockKey));
        // -2: no such key (free). -1: a key without expiry, which this store never writes: look again soon.
        return ms === -2 ? 0 : ms === -1 ? 100 : ms;
      },
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const subscriber = await this.#subscriber?.catch(() => null);
    subscriber?.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /** The subscriber connection, opened once; null while it cannot be had (waiters then poll). */
  #subscribe(): Promise<Redis | null> {
    if (this.#closed) return Promise.resolve(null);
    this.#subscriber ??= (async () => {
      const subscriber = this.#redis.duplicate();
      subscriber.on('error', () => {});
      subscriber.on('message', (channel: string, name: string) => {
        if (channel === this.#channel) this.#released.notify(name);
      });
      try {
        // ioredis subscribes again by itself after a reconnect; a release missed meanwhile is still
        // noticed when the holder's lease would run out.
        await subscriber.subscribe(this.#channel);
        return subscriber;
      } catch {
        subscriber.disconnect();
        this.#subscriber = undefined;
        return null;
      }
    })();
    return this.#subscriber;
  }

  #lockKey(name: string): string {
    return `${this.#prefix}lock:${name}`;
  }

  /** Every record with its value, in key order. */
  async #scan(prefix: string): Promise<Array<{ key: string; raw: string }>> {
    return this.#values(await this.#scanKeys(prefix));
  }

  /** The Redis keys of records under `prefix`: SCAN (not KEYS) so a big keyspace never blocks the server; sorted for a stable order. */
  async #scanKeys(prefix: string): Promise<string[]> {
    const pattern = `${escapeGlob(`${this.#prefix}rec:${prefix}`)}*`;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#call((r) => r.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return [...new Set(keys)].sort();
  }

  /** The values of `keys` (Redis keys), skipping those deleted since they were listed. */
  async #values(keys: string[]): Promise<Array<{ key: string; raw: string }>> {
    if (keys.length === 0) return [];
    const values = await this.#call((r) => r.mget(keys));
    return keys.flatMap((key, i) => {
      const raw = values[i];
      return raw == null ? [] : [{ key, raw }];
    });
  }

  #recordKey(key: string): string {
    return `${this.#prefix}rec:${key}`;
  }

  #validate(raw: string) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SpotauthError(
        'STORE_CORRUPT',
        `A record under ${this.#prefix}rec: in Redis is not valid JSON.`,
      );
    }
    return validateSealed(value, `Redis (${this.#prefix}rec:)`);
  }

  #open(raw: string): TokenRecord {
    return this.#codec.open(this.#validate(raw));
  }

  async #call<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#redis);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): SpotauthError {
    if (error instanceof SpotauthError) return error;
    const message = scrubPassword(error instanceof Error ? error.message : String(error), this.#url);
    return new SpotauthError('STORE_UNAVAILABLE', `Redis at ${hostPort(this.#url, 6379)}: ${message}`, {
      transient: true,
    });
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
