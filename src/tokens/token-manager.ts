import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import { reauthReasonFor, reauthRequiredError, SIX_MONTHS_MS } from '../core/grant.js';
import type { SpotifyAuth } from '../core/spotify-auth.js';
import type { TokenSet } from '../core/token-endpoint.js';
import { isUnreadableRecordError } from '../stores/codec.js';
import type {
  ListOptions,
  ReauthReason,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
} from '../stores/types.js';
import { DEFAULT_RETRY, jitter, type RetryPolicy, withRetries } from './retry.js';

export { SIX_MONTHS_MS } from '../core/grant.js';

export interface TokenManagerOptions {
  auth: SpotifyAuth;
  store: TokenStore;
  /** Refresh this long before expiry. Default 60 s. */
  refreshSkewMs?: number;
  /** Up to this much more, at random, so many users' refreshes don't line up. Default 10 s. */
  refreshJitterMs?: number;
  /** How long one process may hold a refresh lock; a crashed holder blocks others at most this long. */
  lockTtlMs?: number;
  /** How long a caller waits for another process's refresh before giving up. Default lockTtlMs + 5 s. */
  lockWaitMs?: number;
  /** Refresh-token lifetime counted from the original authorization. Default 182 days. */
  refreshTokenLifetimeMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * How long a valid token read from the store may be served from this process's memory without reading
   * the store again. Bounds how stale a logout or revocation elsewhere can look here. Default 5 s; 0 = off.
   */
  cacheTtlMs?: number;
  now?: () => number;
}

/** The Spotify profile fields that identify a user (FACTS §7: prefer account_id over id). */
export interface SpotifyIdentity {
  id: string;
  account_id?: string | undefined;
  display_name?: string | null | undefined;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: number;
  scope: string[];
}

export interface TokenManagerEvents {
  saved: [{ key: string; record: TokenRecord }];
  refreshed: [{ key: string; record: TokenRecord; rotated: boolean }];
  refresh_failed: [{ key: string; error: SpotauthError }];
  reauth_required: [{ key: string; reason: ReauthReason; record: TokenRecord }];
  deleted: [{ key: string }];
  /** An unreadable record was moved aside so a fresh login could replace it; `location` says where. */
  quarantined: [{ key: string; code: string; location: string }];
}

const USER_PREFIX = 'user:';
const APP_PREFIX = 'app:';

export function userKey(identity: SpotifyIdentity | string): string {
  if (typeof identity === 'string')
    return identity.startsWith(USER_PREFIX) ? identity : USER_PREFIX + identity;
  const account = identity.account_id || identity.id;
  if (!account)
    throw new SpotauthError('INVALID_CONFIG', 'A Spotify profile without an id cannot be stored.');
  return USER_PREFIX + account;
}

/**
 * Hands out valid access tokens. Per key: cached while valid; refreshed ahead of expiry; exactly one
 * refresh in flight (a promise per key in this process, a store lock across processes, and
 * compare-and-swap writes so a slow writer never overwrites a newer token); a rotated refresh token is
 * stored before the new access token is handed out; `invalid_grant` marks the grant `reauth_required`
 * (after re-reading, in case another process rotated it) and is never retried; transient failures never
 * discard anything, and a still-valid access token keeps being served through them.
 */
export class TokenManager extends EventEmitter<TokenManagerEvents> {
  readonly auth: SpotifyAuth;
  readonly store: TokenStore;
  readonly #skew: number;
  readonly #jitter: number;
  readonly #lockTtl: number;
  readonly #lockWait: number;
  readonly #lifetime: number;
  readonly #retry: RetryPolicy;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<TokenRecord>>();
  readonly #cacheTtl: number;
  readonly #cache = new Map<string, { record: TokenRecord; until: number }>();

  constructor(options: TokenManagerOptions) {
    super();
    this.auth = options.auth;
    this.store = options.store;
    this.#skew = options.refreshSkewMs ?? 60_000;
    this.#jitter = options.refreshJitterMs ?? 10_000;
    this.#lockTtl = options.lockTtlMs ?? 45_000;
    this.#lockWait = options.lockWaitMs ?? this.#lockTtl + 5_000;
    this.#lifetime = options.refreshTokenLifetimeMs ?? SIX_MONTHS_MS;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#now = options.now ?? Date.now;
    this.#cacheTtl = options.cacheTtlMs ?? 5_000;
  }

  /** Stores a fresh grant after login (a new consent: authorized_at = now). Returns the store key. */
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
    const record = await this.#upsert(input);
    this.#cache.delete(key);
    this.emit('saved', { key, record });
    return record;
  }

  /** A valid access token for the user (a Spotify account id, or a `user:` key). */
  async getAccessToken(user: string): Promise<string> {
    return (await this.getToken(user)).accessToken;
  }

  async getToken(user: string): Promise<AccessToken> {
    const record = await this.#fresh(userKey(user), false);
    return { accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt, scope: record.scope };
  }

  /**
   * The user's token if this process has it cached and valid, synchronously; otherwise undefined (then use
   * getToken, which reads the store and refreshes). For hot paths that cannot afford a promise.
   */
  peekToken(user: string): AccessToken | undefined {
    const record = this.#cached(userKey(user));
    return (
      record && {
        accessToken: record.accessToken,
        expiresAt: record.accessTokenExpiresAt,
        scope: record.scope,
      }
    );
  }

  /** Refreshes now, whatever the expiry (the "Refresh now" button); still single-flight. */
  async refreshNow(user: string): Promise<AccessToken> {
    const record = await this.#fresh(userKey(user), true);
    return { accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt, scope: record.scope };
  }

  /** An app (client-credentials) token, cached in the store and refreshed single-flight like a user's. */
  async getAppToken(force = false): Promise<string> {
    return (await this.#fresh(APP_PREFIX + this.auth.config.clientId, force)).accessToken;
  }

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
    await this.store.delete(key);
    this.emit('deleted', { key });
  }

  #fresh(key: string, force: boolean): Promise<TokenRecord> {
    if (!force) {
      const cached = this.#cache.get(key);
      if (cached && cached.until > this.#now() && this.#isFresh(cached.record))
        return Promise.resolve(cached.record);
    }
    const running = this.#inflight.get(key);
    if (running) return running;
    // Concurrent callers for one key share one store read, and at most one refresh.
    const promise = this.#ensureFresh(key, force)
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
    if (this.#cache.size >= 10_000) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(record.key, { record, until: this.#now() + this.#cacheTtl });
  }

  async #ensureFresh(key: string, force: boolean): Promise<TokenRecord> {
    const started = this.#now();
    let record = await this.#read(key);
    if (record && !force && this.#isFresh(record)) return record;
    const waitUntil = started + this.#lockWait;
    for (;;) {
      const lock = await this.store.tryLock(`refresh:${key}`, this.#lockTtl);
      if (lock) {
        try {
          const current = await this.#read(key);
          // Fresh now — possibly because someone else refreshed while we waited for the lock.
          if (current && this.#isFresh(current) && (!force || current.version !== record?.version))
            return current;
          return await this.#refreshLocked(key, current, force);
        } finally {
          await lock.release().catch(() => {});
        }
      }
      // Another process holds the lock. A token that has not expired yet is still good to hand out.
      // (#read has already thrown for a grant marked reauth_required.)
      const seen = await this.#read(key);
      if (seen && seen.version !== record?.version && seen.accessTokenExpiresAt > this.#now()) return seen;
      if (seen && !force && seen.accessTokenExpiresAt > this.#now() + 1_000) return seen;
      if (this.#now() > waitUntil) {
        throw new SpotauthError(
          'LOCK_TIMEOUT',
          'Another process is refreshing this token and has not finished; try again shortly.',
          {
            transient: true,
          },
        );
      }
      record = record ?? seen;
      await delay(jitter(15, 40));
    }
  }

  async #read(key: string): Promise<TokenRecord | null> {
    const record = await this.store.get(key);
    if (record?.status === 'reauth_required') throw this.#reauthError(record);
    return record;
  }

  #isFresh(record: TokenRecord): boolean {
    return (
      record.status === 'active' &&
      record.accessTokenExpiresAt - this.#skew - jitter(0, this.#jitter) > this.#now()
    );
  }

  async #refreshLocked(key: string, record: TokenRecord | null, force: boolean): Promise<TokenRecord> {
    const isApp = key.startsWith(APP_PREFIX);
    if (!record && !isApp) {
      throw new SpotauthError('NOT_LOGGED_IN', 'No Spotify login is stored for this user; log in first.');
    }
    const deadline = this.#now() + this.#lockTtl - 1_000;
    let tokens: TokenSet;
    try {
      tokens = await withRetries(
        () =>
          isApp || !record?.refreshToken
            ? this.auth.clientCredentials()
            : this.auth.refresh(record.refreshToken, { previousScope: record.scope }),
        this.#retry,
        deadline,
        this.#now,
      );
    } catch (error) {
      return this.#onRefreshError(key, record, error, force);
    }
    const base = record ?? { key, authorizedAt: this.#now(), status: 'active' as const };
    const input: TokenRecordInput = {
      ...stripManaged(base),
      key,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.expiresAt,
      scope: tokens.scope,
      status: 'active',
      ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
    };
    // Persist first (the rotated refresh token above all), then hand out the access token.
    const saved = await this.#casOrAdopt(input, record);
    this.emit('refreshed', { key, record: saved, rotated: tokens.refreshTokenIssued });
    return saved;
  }

  async #casOrAdopt(input: TokenRecordInput, previous: TokenRecord | null): Promise<TokenRecord> {
    try {
      return await this.store.put(input, previous?.version ?? null);
    } catch (error) {
      if (!isSpotauthError(error, 'STORE_CONFLICT')) throw error;
      // Our lock expired and another process wrote meanwhile: its token is at least as new; keep it.
      const current = await this.store.get(input.key);
      if (current) return current;
      throw error;
    }
  }

  async #onRefreshError(
    key: string,
    record: TokenRecord | null,
    error: unknown,
    force: boolean,
  ): Promise<TokenRecord> {
    const failure = isSpotauthError(error)
      ? error
      : new SpotauthError('NETWORK', 'Refreshing the token failed unexpectedly.', { transient: true });
    if ((failure.code === 'INVALID_GRANT' || failure.code === 'INVALID_CLIENT') && record) {
      // Another process may have rotated the refresh token under us: only an unchanged record is dead.
      const current = await this.store.get(key);
      if (current && current.version !== record.version) {
        if (current.status === 'reauth_required') throw this.#reauthError(current);
        return current;
      }
      if (key.startsWith(APP_PREFIX)) throw failure;
      const reason = reauthReasonFor(failure, record.refreshTokenDeadline, this.#now());
      const marked = await this.#markReauth(record, reason);
      this.emit('reauth_required', { key, reason, record: marked });
      throw this.#reauthError(marked);
    }
    this.emit('refresh_failed', { key, error: failure });
    // Nothing is discarded, and a token that still works keeps being served — except to a caller who
    // asked for a refresh now: handing them the old token would report a refresh that did not happen.
    if (!force && record && record.status === 'active' && record.accessTokenExpiresAt > this.#now())
      return record;
    throw failure;
  }

  async #markReauth(record: TokenRecord, reason: ReauthReason): Promise<TokenRecord> {
    this.#cache.delete(record.key);
    // The refresh token is kept (not blanked) so a mistaken mark can be inspected; it is never used again.
    const input: TokenRecordInput = {
      ...stripManaged(record),
      status: 'reauth_required',
      reauthReason: reason,
      reauthAt: this.#now(),
    };
    try {
      return await this.store.put(input, record.version);
    } catch (error) {
      if (!isSpotauthError(error, 'STORE_CONFLICT')) throw error;
      return (await this.store.get(record.key)) ?? record;
    }
  }

  #reauthError(record: TokenRecord): SpotauthError {
    return reauthRequiredError(record.reauthReason);
  }

  async #upsert(input: TokenRecordInput): Promise<TokenRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.#readForReplace(input.key);
      try {
        return await this.store.put(input, existing?.version ?? null);
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

function stripManaged(record: Partial<TokenRecord> & Pick<TokenRecord, 'key'>): TokenRecordInput {
  const { version: _version, updatedAt: _updatedAt, reauthReason: _reason, reauthAt: _at, ...rest } = record;
  return rest as TokenRecordInput;
}
