import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import { reauthReasonFor, reauthRequiredError, SIX_MONTHS_MS } from '../core/grant.js';
import type { SpotifyAuth } from '../core/spotify-auth.js';
import type { TokenSet } from '../core/token-endpoint.js';
import { isUnreadableRecordError } from '../stores/codec.js';
import type { NewOutboxEvent } from '../stores/outbox.js';
import type {
  ListOptions,
  LockHandle,
  ReauthReason,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from '../stores/types.js';
import { grantEvents } from './grant-events.js';
import { RefreshLease, waitForLock } from './lease.js';
import { backoffDelay, DEFAULT_RETRY, jitter, type RetryPolicy, withRetries } from './retry.js';

export { SIX_MONTHS_MS } from '../core/grant.js';

/**
 * The refresh lock's lease. A holder that dies frees its user within one lease (plus the waiters' look),
 * so this is what a crash costs the next caller: 3 s, against 45 s with the old fixed lock. The holder
 * renews every lease/3 (1 s), so it loses the lock only if its process or its store stalls for 2 s straight
 * — and even then the fencing below keeps every refresh token. Shorter would cost more renewals (one small
 * store write per second per refresh in flight, and a refresh normally ends before the first) and stall
 * tolerance; longer, a longer wait after a crash. It is also the grace a refused refresh gives a holder that
 * lost its lease mid-request before the grant is marked (rotate mode only; see #onRefused).
 */
export const DEFAULT_LOCK_LEASE_MS = 3_000;

/** Options of {@link TokenManager}. Every duration is in milliseconds. */
export interface TokenManagerOptions {
  /** The Spotify app the tokens belong to; its client refreshes them. */
  auth: SpotifyAuth;
  /** Where grants live (see `createStore`). Share one store between processes to share their logins. */
  store: TokenStore;
  /** Refresh this long before the access token expires, ms. Default 60 000 (60 s). */
  refreshSkewMs?: number;
  /** Up to this much more, ms, at random, so many users' refreshes don't line up. Default 10 000 (10 s). */
  refreshJitterMs?: number;
  /**
   * Lease of the refresh lock, renewed by its holder while its request is alive: a crashed holder blocks
   * others about this long, a live one is never pre-empted. In ms; default 3000.
   */
  lockLeaseMs?: number;
  /** @deprecated The old name of `lockLeaseMs` (the lock was a fixed 45 s TTL); used when that is not set. */
  lockTtlMs?: number;
  /** How often the holder renews its lease, ms. Default a third of `lockLeaseMs` (1000). */
  lockRenewIntervalMs?: number;
  /**
   * How long a caller waits for another process's refresh before a transient `LOCK_TIMEOUT`, ms. Default:
   * the token request timeout (the longest a live holder's refresh takes) + one lease + 2 s, i.e. 35 000
   * with the defaults.
   */
  lockWaitMs?: number;
  /**
   * Refresh-token lifetime counted from the original authorization, ms. Default 182 days
   * (15 724 800 000 ms): Spotify's refresh tokens die 6 months after consent, refreshing does not extend them.
   *
   * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
   */
  refreshTokenLifetimeMs?: number;
  /**
   * Retries of transient refresh failures, per field. Defaults: 3 attempts, backoff from 200 ms up to 2 s,
   * a Retry-After over 5 s surfaced rather than waited out.
   */
  retry?: Partial<RetryPolicy>;
  /**
   * How long a valid token read from the store may be served from this process's memory without reading
   * the store again, ms. Bounds how stale a logout or revocation elsewhere can look here. Default 5000;
   * 0 turns the cache off.
   */
  cacheTtlMs?: number;
  /**
   * Write grant events (`grant.linked`, `grant.reauth_required`, `grant.deleted`) to the store's outbox in
   * the same step as each change, for the broker's webhooks. Default false (nothing would send them).
   */
  webhookEvents?: boolean;
  /** The clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * The Spotify profile fields that identify a user (`GET /me`). `account_id` is preferred over `id` when
 * Spotify sends it: it is the stable account identifier.
 */
export interface SpotifyIdentity {
  /** The user's Spotify id. */
  id: string;
  /** The account id, when Spotify sends one; keys the grant in preference to `id`. */
  account_id?: string | undefined;
  /** The display name, kept in the grant's `meta` for status pages. */
  display_name?: string | null | undefined;
}

/** A valid access token and what it may do. */
export interface AccessToken {
  /** The bearer token for the Web API. */
  accessToken: string;
  /** When it expires, epoch milliseconds. */
  expiresAt: number;
  /** The scopes granted (empty for an app token). */
  scope: string[];
}

/** The events a {@link TokenManager} emits, for metrics and logs; none carries a token in clear. */
export interface TokenManagerEvents {
  /** A new grant was stored after a login. */
  saved: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
      /** The grant as stored now. */
      record: TokenRecord;
    },
  ];
  /** An access token was refreshed; `rotated` is true when Spotify also sent a new refresh token. */
  refreshed: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
      /** The grant as stored now. */
      record: TokenRecord;
      /** Whether a new refresh token came back. */
      rotated: boolean;
    },
  ];
  /** A refresh attempt failed (transient or not); a still-valid token keeps being served. */
  refresh_failed: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
      /** Why it failed. */
      error: SpotauthError;
    },
  ];
  /** The grant was found dead and marked: the user must log in again. */
  reauth_required: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
      /** Why the user must log in again. */
      reason: ReauthReason;
      /** The grant as stored now. */
      record: TokenRecord;
    },
  ];
  /** The grant was forgotten (logout). */
  deleted: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
    },
  ];
  /** An unreadable record was moved aside so a fresh login could replace it; `location` says where. */
  quarantined: [
    {
      /** The grant's store key (`user:…` or `app:…`). */
      key: string;
      /** Why it was unreadable: `STORE_CORRUPT`, `DECRYPT_FAILED` or `KEY_UNKNOWN`. */
      code: string;
      /** Where the raw bytes were moved (secret-free). */
      location: string;
    },
  ];
}

const USER_PREFIX = 'user:';
const APP_PREFIX = 'app:';

/**
 * The store key of a user's grant: `user:` + the account id (or id) of a profile, or of a plain id; a key
 * that already starts with `user:` is returned as is.
 *
 * @throws {@link SpotauthError} `INVALID_CONFIG` for a profile without an id.
 */
export function userKey(identity: SpotifyIdentity | string): string {
  if (typeof identity === 'string')
    return identity.startsWith(USER_PREFIX) ? identity : USER_PREFIX + identity;
  const account = identity.account_id || identity.id;
  if (!account)
    throw new SpotauthError('INVALID_CONFIG', 'A Spotify profile without an id cannot be stored.');
  return USER_PREFIX + account;
}

/**
 * Hands out valid access tokens for stored Spotify logins, across processes sharing one store. Per key:
 * cached while valid; refreshed ahead of expiry; exactly one refresh in flight (a promise per key in this
 * process, a store lock held as a renewed lease across processes, and writes fenced on the refresh
 * token); a rotated refresh token is stored before
 * the new access token is handed out, and never dropped for a lost race; `invalid_grant` marks the grant
 * `reauth_required` only when no stored or in-flight refresh token can still work, and is never retried;
 * transient failures never discard anything, and a still-valid access token keeps being served through them.
 *
 * Errors from the getters: `NOT_LOGGED_IN` (no grant stored), `REAUTH_REQUIRED` (the grant is dead: log
 * in again), `LOCK_TIMEOUT` (another process's refresh did not finish), the transient token-endpoint
 * errors (`SPOTIFY_UNAVAILABLE`, `RATE_LIMITED`, `TIMEOUT`, `NETWORK`) once retries are spent and the
 * access token has expired, and the store's (`STORE_UNAVAILABLE`, `STORE_CONFLICT`, `STORE_CORRUPT`,
 * `DECRYPT_FAILED`, `KEY_UNKNOWN`).
 *
 * @example
 * ```ts
 * const auth = new SpotifyAuth(authConfigFromEnv(process.env));
 * const tokens = new TokenManager({ auth, store: await createStore('sqlite:./tokens.db', { keyring }) });
 * // After a login (SpotifyAuth.exchangeCode + GET /me):
 * await tokens.saveGrant(tokenSet, profile);
 * // Later, anywhere:
 * const accessToken = await tokens.getAccessToken(profile.id);
 * ```
 *
 * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 * @see [RFC 6749 §6 (refreshing an access token)](https://www.rfc-editor.org/rfc/rfc6749.html#section-6)
 * @see [RFC 9700 §4.14.2 (refresh token rotation)](https://www.rfc-editor.org/rfc/rfc9700.html#section-4.14.2)
 */
export class TokenManager extends EventEmitter<TokenManagerEvents> {
  /** The app whose tokens these are. */
  readonly auth: SpotifyAuth;
  /** Where the grants are kept. */
  readonly store: TokenStore;
  readonly #skew: number;
  readonly #jitter: number;
  readonly #lease: number;
  readonly #renewEvery: number;
  readonly #lockWait: number;
  readonly #lifetime: number;
  readonly #retry: RetryPolicy;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<TokenRecord>>();
  readonly #cacheTtl: number;
  readonly #webhookEvents: boolean;
  readonly #cache = new Map<string, { record: TokenRecord; until: number }>();
  /** Rotations Spotify answered but the store refused to take (it was unreachable): written before anything else. */
  readonly #unsaved = new Map<
    string,
    { tokens: TokenSet; record: TokenRecord | null; used: string | undefined }
  >();

  constructor(options: TokenManagerOptions) {
    super();
    this.auth = options.auth;
    this.store = options.store;
    this.#skew = options.refreshSkewMs ?? 60_000;
    this.#jitter = options.refreshJitterMs ?? 10_000;
    this.#lease = options.lockLeaseMs ?? options.lockTtlMs ?? DEFAULT_LOCK_LEASE_MS;
    this.#renewEvery = options.lockRenewIntervalMs ?? Math.max(1, Math.floor(this.#lease / 3));
    this.#lockWait = options.lockWaitMs ?? this.auth.config.timeoutMs + this.#lease + 2_000;
    this.#lifetime = options.refreshTokenLifetimeMs ?? SIX_MONTHS_MS;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#now = options.now ?? Date.now;
    this.#cacheTtl = options.cacheTtlMs ?? 5_000;
    this.#webhookEvents = options.webhookEvents ?? false;
  }

  /**
   * Stores a fresh grant after login: a new consent, so its 6-month refresh-token clock starts now. The
   * profile's identity becomes the key (`user:` + its account id, or id) and goes into `meta` with the
   * `meta` given here.
   *
   * @returns The stored record.
   * @throws {@link SpotauthError} `INVALID_TOKEN_RESPONSE` when the tokens carry no refresh token;
   * `INVALID_CONFIG` for a profile without an id; the store's errors.
   */
  async saveGrant(
    tokens: TokenSet,
    identity: SpotifyIdentity,
    meta: Record<string, string> = {},
  ): Promise<TokenRecord> {
    if (!tokens.refreshToken) {
      throw new SpotauthError(
        'INVALID_TOKEN_RESPONSE',
        'The login returned no refresh token; nothing was stored.',
      );
    }
    const key = userKey(identity);
    const now = this.#now();
    const input: TokenRecordInput = {
      key,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.expiresAt,
      refreshToken: tokens.refreshToken,
      scope: tokens.scope,
      status: 'active',
      authorizedAt: now,
      refreshTokenDeadline: now + this.#lifetime,
      meta: {
        ...meta,
        spotifyId: identity.id,
        ...(identity.account_id ? { accountId: identity.account_id } : {}),
        ...(identity.display_name ? { displayName: identity.display_name } : {}),
      },
    };
    const record = await this.#upsert(
      input,
      this.#events(() => grantEvents.linked(input, now)),
    );
    this.#cache.delete(key);
    this.emit('saved', { key, record });
    return record;
  }

  /**
   * A valid access token for the user (a Spotify account id, or a `user:` key), refreshed first when it
   * expires within `refreshSkewMs`. See the class for what it throws.
   */
  async getAccessToken(user: string): Promise<string> {
    return (await this.getToken(user)).accessToken;
  }

  /** Like {@link TokenManager.getAccessToken}, with the token's expiry and scopes. */
  async getToken(user: string): Promise<AccessToken> {
    const record = await this.#fresh(userKey(user), false);
    return accessTokenOf(record);
  }

  /**
   * The user's token if this process has it cached and valid, synchronously; otherwise undefined (then use
   * getToken, which reads the store and refreshes). For hot paths that cannot afford a promise.
   */
  peekToken(user: string): AccessToken | undefined {
    const record = this.#cached(userKey(user));
    return record && accessTokenOf(record);
  }

  /** Refreshes now, whatever the expiry (the "Refresh now" button); still single-flight. */
  async refreshNow(user: string): Promise<AccessToken> {
    const record = await this.#fresh(userKey(user), true);
    return accessTokenOf(record);
  }

  /**
   * After the Web API answered 401 to `rejected`: the stored token if it is another, still valid one
   * (someone refreshed meanwhile, e.g. a concurrent call that met the same 401), else a refresh. So two
   * calls that fail with one token make one refresh, however their answers interleave.
   */
  async refreshRejected(user: string, rejected: string): Promise<AccessToken> {
    const record = await this.#fresh(userKey(user), true, rejected);
    return accessTokenOf(record);
  }

  /** An app (client-credentials) token, cached in the store and refreshed single-flight like a user's. */
  async getAppToken(force = false): Promise<string> {
    return (await this.getAppAccessToken(force)).accessToken;
  }

  /** The app token with its expiry (client-credentials tokens carry no scopes). */
  async getAppAccessToken(force = false): Promise<AccessToken> {
    const record = await this.#fresh(APP_PREFIX + this.auth.config.clientId, force);
    return accessTokenOf(record);
  }

  /** The user's stored grant as it is (no refresh), or null when there is none. */
  async getGrant(user: string): Promise<TokenRecord | null> {
    return this.store.get(userKey(user));
  }

  /** Every user grant. With `options.onUnreadable`, records that cannot be read are reported and skipped. */
  async listGrants(options?: ListOptions): Promise<TokenRecord[]> {
    return this.store.list(USER_PREFIX, options);
  }

  /** Active grants whose refresh token dies within `withinMs`: prompt these users to re-consent. */
  async listExpiringGrants(withinMs: number): Promise<TokenRecord[]> {
    const limit = this.#now() + withinMs;
    return (await this.listGrants()).filter(
      (record) =>
        record.status === 'active' &&
        record.refreshTokenDeadline !== undefined &&
        record.refreshTokenDeadline <= limit,
    );
  }

  /** Forgets the user's grant (logout). Spotify has no revocation endpoint; the user can remove the app there. */
  async deleteGrant(user: string): Promise<void> {
    const key = userKey(user);
    this.#cache.delete(key);
    await this.store.delete(
      key,
      this.#events(() => grantEvents.deleted(key, this.#now())),
    );
    this.emit('deleted', { key });
  }

  #fresh(key: string, force: boolean, rejected?: string): Promise<TokenRecord> {
    if (!force) {
      const cached = this.#cache.get(key);
      if (cached && cached.until > this.#now() && this.#isFresh(cached.record))
        return Promise.resolve(cached.record);
    }
    const running = this.#inflight.get(key);
    if (running) return running;
    // Concurrent callers for one key share one store read, and at most one refresh.
    const promise = this.#ensureFresh(key, force, rejected)
      .then((record) => {
        this.#remember(record);
        return record;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }

  /** A record cached in this process, still valid beyond the refresh skew. No jitter: entries live seconds. */
  #cached(key: string): TokenRecord | undefined {
    const cached = this.#cache.get(key);
    const now = this.#now();
    if (!cached || cached.until <= now || cached.record.accessTokenExpiresAt - this.#skew <= now)
      return undefined;
    return cached.record;
  }

  #remember(record: TokenRecord): void {
    if (this.#cacheTtl <= 0) return;
    if (this.#cache.size >= 10_000) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(record.key, { record, until: this.#now() + this.#cacheTtl });
  }

  async #ensureFresh(key: string, force: boolean, rejected?: string): Promise<TokenRecord> {
    /** A record that answers a forced refresh after a 401: a valid token other than the rejected one. */
    const replaces = (current: TokenRecord) =>
      rejected !== undefined && current.accessToken !== rejected && this.#isFresh(current);
    const unsaved = this.#unsaved.get(key);
    if (unsaved) {
      // A rotated refresh token this process could not store yet: store it before anything else uses the old one.
      const kept = await this.#keep(key, unsaved.record, unsaved.used, unsaved.tokens);
      if (kept !== AGAIN) return kept;
    }
    const started = this.#now();
    let record = await this.#read(key);
    if (record && ((!force && this.#isFresh(record)) || replaces(record))) return record;
    const waitUntil = started + this.#lockWait;
    const lockName = `refresh:${key}`;
    /** Refresh tokens Spotify refused during this call, so a second look at them needs no second request. */
    const refused = new Map<string, SpotauthError>();
    for (;;) {
      const lease = await RefreshLease.take(this.store, lockName, this.#lease, this.#renewEvery);
      if (lease) {
        let outcome: TokenRecord | typeof AGAIN;
        try {
          const current = await this.#read(key);
          // Fresh now — possibly because someone else refreshed while we waited for the lock.
          if (current && this.#isFresh(current) && (!force || current.version !== record?.version))
            return current;
          if (current && replaces(current)) return current;
          outcome = await this.#refreshUnderLease(key, current, { lease, refused, force });
        } finally {
          await lease.end();
        }
        if (outcome !== AGAIN) return outcome;
        // The stored refresh token changed under us, or we lost the lease: look again, under a lease.
        if (this.#now() > waitUntil) throw lockTimeout();
        continue;
      }
      // Another process holds the lock. A token that has not expired yet is still good to hand out.
      // (#read has already thrown for a grant marked reauth_required.)
      const seen = await this.#read(key);
      if (seen && seen.version !== record?.version && seen.accessTokenExpiresAt > this.#now()) return seen;
      if (seen && !force && seen.accessTokenExpiresAt > this.#now() + 1_000) return seen;
      if (this.#now() > waitUntil) throw lockTimeout();
      record = record ?? seen;
      await waitForLock(this.store, lockName, Math.min(this.#lease, waitUntil - this.#now()));
    }
  }

  async #read(key: string): Promise<TokenRecord | null> {
    const record = await this.store.get(key);
    if (record?.status === 'reauth_required') throw this.#reauthError(record);
    return record;
  }

  #isFresh(record: TokenRecord): boolean {
    if (record.status !== 'active') return false;
    const margin = record.accessTokenExpiresAt - this.#skew - this.#now();
    // Only a token inside the jitter window needs the random draw; the hot path skips it.
    if (margin > this.#jitter) return true;
    return margin - jitter(0, this.#jitter) > 0;
  }

  /** One refresh with the record's refresh token, under `lease`, then its result kept or its refusal judged. */
  async #refreshUnderLease(
    key: string,
    record: TokenRecord | null,
    call: RefreshCall,
  ): Promise<TokenRecord | typeof AGAIN> {
    const { lease, refused } = call;
    const isApp = key.startsWith(APP_PREFIX);
    if (!record && !isApp) {
      throw new SpotauthError('NOT_LOGGED_IN', 'No Spotify login is stored for this user; log in first.');
    }
    const used = isApp ? undefined : record?.refreshToken;
    let failure = used === undefined ? undefined : refused.get(used);
    if (failure) return this.#onRefused(key, record, used, failure, call, false);
    // The in-flight marker outlives the lease: it says a request with this grant's refresh token may still
    // be out at Spotify, even if its holder stalled and lost the lease (or died). Held by someone else
    // already → such a request exists; we refresh anyway (we hold the lease) but won't mark the grant lightly.
    const marker = used === undefined ? null : await this.#markInFlight(key);
    try {
      let tokens: TokenSet;
      // The whole refresh, retries included, fits in one request timeout; the lease is renewed meanwhile.
      const deadline = this.#now() + this.auth.config.timeoutMs;
      try {
        tokens = await withRetries(
          (timeoutMs) =>
            used === undefined
              ? this.auth.clientCredentials({ timeoutMs })
              : this.auth.refresh(used, { previousScope: record?.scope ?? [], timeoutMs }),
          this.#retry,
          deadline,
          this.#now,
          undefined,
          lease.lost,
        );
      } catch (error) {
        failure = isSpotauthError(error)
          ? error
          : new SpotauthError('NETWORK', 'Refreshing the token failed unexpectedly.', { transient: true });
        return await this.#onRefused(key, record, used, failure, call, marker !== null);
      }
      return await this.#keep(key, record, used, tokens);
    } finally {
      // Released only once the result is stored: a waiter woken by it finds the new token.
      await marker?.release().catch(() => {});
    }
  }

  /** Takes this key's in-flight marker for as long as a refresh may take; null if someone else holds it. */
  async #markInFlight(key: string): Promise<LockHandle | null> {
    return this.store.tryLock(`inflight:${key}`, this.auth.config.timeoutMs + this.#lease);
  }

  /** Persists a refresh result, fenced (see `fence`); the rotated refresh token above all. */
  async #keep(
    key: string,
    record: TokenRecord | null,
    used: string | undefined,
    tokens: TokenSet,
  ): Promise<TokenRecord | typeof AGAIN> {
    const isApp = key.startsWith(APP_PREFIX);
    const rotated = !isApp && tokens.refreshToken !== undefined && tokens.refreshToken !== used;
    let stored: TokenRecord | null = record;
    let storeTrouble = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        if (attempt > 0) stored = await this.store.get(key);
        if (stored === null) {
          // Gone; but the app token belongs to no login: a missing one is simply created.
          if (!(isApp || (attempt === 0 && !record))) {
            this.#unsaved.delete(key);
            throw new SpotauthError(
              'NOT_LOGGED_IN',
              'This Spotify login was removed while it was being refreshed; log in again.',
            );
          }
        } else {
          const verdict = fence(stored, used, rotated);
          if (verdict === 'reauth') {
            this.#unsaved.delete(key);
            throw this.#reauthError(stored);
          }
          if (verdict === 'adopt') {
            this.#unsaved.delete(key);
            // A newer grant is stored; hand it out if it is still good, else refresh with its token.
            return stored.accessTokenExpiresAt > this.#now() ? stored : AGAIN;
          }
        }
        // Our rotation over a grant that holds another (refused) token keeps our grant's own dates.
        const base = stored && stored.refreshToken === used ? stored : (record ?? stored);
        const input: TokenRecordInput = {
          ...stripManaged(base ?? { key, authorizedAt: this.#now(), status: 'active' as const }),
          key,
          accessToken: tokens.accessToken,
          accessTokenExpiresAt: tokens.expiresAt,
          scope: tokens.scope,
          status: 'active',
          ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
        };
        const saved = await this.store.put(input, stored?.version ?? null);
        this.#unsaved.delete(key);
        this.emit('refreshed', { key, record: saved, rotated: tokens.refreshTokenIssued });
        return saved;
      } catch (error) {
        if (isSpotauthError(error, 'STORE_CONFLICT')) continue;
        // A verdict (the grant was marked, or logged out): nothing to keep.
        if (isSpotauthError(error, 'REAUTH_REQUIRED') || isSpotauthError(error, 'NOT_LOGGED_IN')) throw error;
        // The store failed. A rotated token exists nowhere else: if the store is only unreachable, try again
        // for a while; then keep it in this process, to be written before this user's next refresh.
        const unreachable = isSpotauthError(error) && error.transient && error.code.startsWith('STORE_');
        if (rotated && unreachable && ++storeTrouble <= 4) {
          attempt--;
          await delay(backoffDelay({ baseDelayMs: 250, maxDelayMs: 2_000 }, storeTrouble));
          continue;
        }
        if (rotated) this.#unsaved.set(key, { tokens, record, used });
        throw error;
      }
    }
    if (rotated) this.#unsaved.set(key, { tokens, record, used });
    throw new SpotauthError(
      'STORE_CONFLICT',
      'The refreshed token could not be saved: the store kept changing.',
      {
        transient: true,
      },
    );
  }

  /** Spotify refused `used` (invalid_grant / invalid_client), or the refresh failed transiently. */
  async #onRefused(
    key: string,
    record: TokenRecord | null,
    used: string | undefined,
    failure: SpotauthError,
    call: RefreshCall,
    holdsMarker: boolean,
  ): Promise<TokenRecord | typeof AGAIN> {
    const { lease, refused } = call;
    const isRefusal = failure.code === 'INVALID_GRANT' || failure.code === 'INVALID_CLIENT';
    if (!isRefusal || !record) {
      this.emit('refresh_failed', { key, error: failure });
      // Nothing is discarded, and a token that still works keeps being served — except to a caller who
      // asked for a refresh now: handing them the old token would report a refresh that did not happen.
      if (
        !isRefusal &&
        !call.force &&
        record &&
        record.status === 'active' &&
        record.accessTokenExpiresAt > this.#now()
      )
        return record;
      throw failure;
    }
    if (used === undefined) {
      // The app token: no grant to mark. Another process may have fetched one meanwhile.
      const current = await this.store.get(key);
      if (current && current.version !== record.version && current.accessTokenExpiresAt > this.#now())
        return current;
      throw failure;
    }
    refused.set(used, failure);
    let graceGiven = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.get(key);
      if (!current) {
        throw new SpotauthError('NOT_LOGGED_IN', 'No Spotify login is stored for this user; log in first.');
      }
      if (current.status === 'reauth_required') throw this.#reauthError(current);
      // Another process stored a different refresh token meanwhile (it rotated, or the user logged in again).
      if (current.refreshToken !== used) return current.accessTokenExpiresAt > this.#now() ? current : AGAIN;
      // The store still holds the refused token. Unless we still hold the lease, another process may be
      // refreshing right now and bring back a token that works: wait for it instead of marking.
      if (!(await lease.confirm())) return AGAIN;
      // We hold the lease, but a holder that lost it mid-request (stalled, or dead) may still bring back a
      // rotated token: give it one more lease to do so. A dead one brings nothing and we mark after that; a
      // later rotation still restores the grant (see fence).
      if (!holdsMarker && !graceGiven) {
        const probe = await this.#markInFlight(key);
        await probe?.release().catch(() => {});
        if (!probe) {
          graceGiven = true;
          await waitForLock(this.store, `inflight:${key}`, this.#lease);
          continue;
        }
      }
      const reason = reauthReasonFor(failure, current.refreshTokenDeadline, this.#now());
      this.#cache.delete(key);
      // The refresh token is kept (not blanked) so a mistaken mark can be inspected, or undone by a rotation.
      const input: TokenRecordInput = {
        ...stripManaged(current),
        status: 'reauth_required',
        reauthReason: reason,
        reauthAt: this.#now(),
      };
      let marked: TokenRecord;
      try {
        marked = await this.store.put(
          input,
          current.version,
          this.#events(() => grantEvents.reauthRequired(input, reason, this.#now())),
        );
      } catch (error) {
        if (isSpotauthError(error, 'STORE_CONFLICT')) continue;
        throw error;
      }
      this.emit('reauth_required', { key, reason, record: marked });
      throw this.#reauthError(marked);
    }
    throw new SpotauthError('STORE_CONFLICT', 'The grant kept changing while its refusal was recorded.', {
      transient: true,
    });
  }

  #reauthError(record: TokenRecord): SpotauthError {
    return reauthRequiredError(record.reauthReason);
  }

  /** The outbox part of a write, when webhook events are on. */
  #events(make: () => NewOutboxEvent): WriteOptions | undefined {
    return this.#webhookEvents ? { events: [make()] } : undefined;
  }

  async #upsert(input: TokenRecordInput, options: WriteOptions | undefined): Promise<TokenRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.#readForReplace(input.key);
      try {
        return await this.store.put(input, existing?.version ?? null, options);
      } catch (error) {
        if (!isSpotauthError(error, 'STORE_CONFLICT')) throw error;
      }
    }
    throw new SpotauthError(
      'STORE_CONFLICT',
      'The login could not be saved: the store kept changing under it.',
      {
        transient: true,
      },
    );
  }

  /**
   * The record a fresh login replaces. One that cannot be read (corrupt, or under a lost key) must not lock
   * its user out forever: its bytes are moved aside for the operator and the login starts a new record.
   */
  async #readForReplace(key: string): Promise<TokenRecord | null> {
    try {
      return await this.store.get(key);
    } catch (error) {
      if (!isUnreadableRecordError(error)) throw error;
      const location = await this.store.quarantine(key);
      if (location !== null) this.emit('quarantined', { key, code: error.code, location });
      return null;
    }
  }
}

/**
 * Fencing. A refresh result is written only while the grant still holds the refresh token the request
 * used (compare-and-swap on the version, re-read on conflict). What is kept in each interleaving — "ours"
 * is the result that just came back from Spotify (rt = the refresh token it was sent; "rotated" = it
 * carried a new one, so rt is now dead at Spotify), "stored" is what the store holds when it arrives:
 *
 *  stored                               | ours: rotated                  | ours: not rotated
 *  -------------------------------------+--------------------------------+---------------------------------
 *  rt, active (unchanged or rewritten)  | write ours                     | write ours
 *  rt, reauth_required (another process | write ours: its invalid_grant  | keep the mark: rt was refused
 *    met invalid_grant for rt)          |   came from our rotation, ours |   after Spotify took it (a
 *                                       |   is the one token that works  |   revocation); throw REAUTH
 *  other rt, active (another process    | keep stored: it is newer (a    | keep stored, hand it out
 *    rotated it, or a new login)        |   later login or rotation);    |
 *                                       |   hand it out                  |
 *  other rt, reauth_required            | write ours: it works, theirs   | keep the mark; throw REAUTH
 *                                       |   was refused                  |
 *  no record (logged out meanwhile)     | stay logged out: a logout      | stay logged out; NOT_LOGGED_IN
 *                                       |   drops tokens on purpose      |
 *  store unreachable                    | retry the write; then keep it  | nothing to keep (stored rt
 *                                       |   in this process and write it |   still works); the error
 *                                       |   before the next refresh      |
 *
 * A refusal (invalid_grant) of rt is judged against the store and the requests still out (see #onRefused):
 *
 *  stored / requests out                               | outcome
 *  ----------------------------------------------------+-------------------------------------------------
 *  another rt, active                                  | use it (refresh with it if its access token is spent)
 *  another rt or rt, reauth_required                   | REAUTH (someone already marked it)
 *  no record                                           | NOT_LOGGED_IN
 *  rt; our lease lost                                  | another process holds it and may be mid-request:
 *                                                      |   wait for its release, then judge again
 *  rt; we hold the lease; in-flight marker ours        | nobody else can bring a token: mark reauth_required
 *  rt; we hold the lease; marker someone else's (a     | wait up to one lease for its answer (it releases
 *    holder that lost its lease mid-request, or died)  |   the marker once stored), judge again; still rt
 *                                                      |   → mark (a dead holder's rotation died with it)
 *
 * Only one lease holder sends requests at a time, so "requests out" are the holder's own and those of
 * holders that lost their lease mid-request; the marker (`inflight:<key>`, held for the request's whole
 * timeout, not renewed) is how they are seen. A holder that stalls even past that grace and then returns a
 * rotation after the grant was marked restores it (row two above): the mark is never what loses a token.
 */
export function fence(
  stored: TokenRecord,
  used: string | undefined,
  rotated: boolean,
): 'write' | 'adopt' | 'reauth';
export function fence(
  stored: TokenRecord | null,
  used: string | undefined,
  rotated: boolean,
): 'write' | 'adopt' | 'reauth' | 'gone';
export function fence(
  stored: TokenRecord | null,
  used: string | undefined,
  rotated: boolean,
): 'write' | 'adopt' | 'reauth' | 'gone' {
  if (!stored) return 'gone';
  if (stored.refreshToken === used)
    return stored.status === 'reauth_required' && !rotated ? 'reauth' : 'write';
  if (stored.status === 'reauth_required') return rotated ? 'write' : 'reauth';
  return 'adopt';
}

/** One caller's refresh: its lease, the refresh tokens Spotify refused so far, and whether it was forced. */
interface RefreshCall {
  lease: RefreshLease;
  refused: Map<string, SpotauthError>;
  force: boolean;
}

/** What the token getters hand out of a stored record. */
function accessTokenOf(record: TokenRecord): AccessToken {
  return { accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt, scope: record.scope };
}

/** "Look again": the stored refresh token changed under a refresh, or its lease was lost. */
const AGAIN = Symbol('again');

function lockTimeout(): SpotauthError {
  return new SpotauthError(
    'LOCK_TIMEOUT',
    'Another process is refreshing this token and has not finished; try again shortly.',
    { transient: true },
  );
}

function stripManaged(record: Partial<TokenRecord> & Pick<TokenRecord, 'key'>): TokenRecordInput {
  const { version: _version, updatedAt: _updatedAt, reauthReason: _reason, reauthAt: _at, ...rest } = record;
  return rest as TokenRecordInput;
}
