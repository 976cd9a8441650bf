import { type ApiRetryOptions, DEFAULT_API_RETRY, DEFAULT_API_TIMEOUT_MS } from '../api/authorized-fetch.js';
import { authorizationRequestFor } from '../core/authorization-request.js';
import { CALLBACK_PARAMS, checkCallback } from '../core/callback.js';
import { checkTimeoutMs, type ResolvedConfig, resolveConfig } from '../core/config.js';
import { isSpotauthError, isTerminalGrantError, SpotauthError } from '../core/errors.js';
import { reauthReasonFor, reauthRequiredError, SIX_MONTHS_MS } from '../core/grant.js';
import { randomUrlSafe } from '../core/pkce.js';
import { parseScopes, type SpotifyScope } from '../core/scopes.js';
import { requestToken, type TokenSet } from '../core/token-response.js';
import type { TokenRecord } from '../stores/types.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from '../tokens/retry.js';
import { type BrowserGrant, type BrowserSession, grantIdOf, parseRecord, sessionOf } from './grant-record.js';
import { LOGIN_TTL_MS, safeReturnPath, saveTransaction, takeTransaction } from './login-transaction.js';
import { type BrowserTokenStorage, resolveStorage, type StorageChoice } from './storage.js';
import { type TabMessage, Tabs } from './tabs.js';

/** Options of {@link BrowserAuth}. Only `clientId` and `redirectUri` are required; durations in ms. */
export interface BrowserAuthOptions {
  /** Your Spotify app's client id. No secret: a browser cannot keep one (PKCE replaces it). */
  clientId: string;
  /**
   * The redirect URI registered for the app: a page of this app, on this origin. Spotify's rules apply
   * (https, or http only on 127.0.0.1 / [::1]; never `localhost`).
   */
  redirectUri: string;
  /** Scopes to request at login, checked against Spotify's list. */
  scope?: string | readonly string[];
  /** Default false: a user who already approved goes straight back. true: always show Spotify's dialog. */
  showDialog?: boolean;
  /** Default 'indexeddb' (localStorage where IndexedDB is missing); see README, "Storage and XSS". */
  storage?: StorageChoice | BrowserTokenStorage;
  /** Base URL of the accounts service. Default https://accounts.spotify.com. */
  accountsUrl?: string;
  /** Base URL of the Web API. Default https://api.spotify.com/v1. */
  apiUrl?: string;
  /** Allow plain http, to a loopback emulator only (`spotauth emulator`). Default false. */
  allowInsecureHttp?: boolean;
  /** Timeout of each token request, ms. Default 30 000. */
  timeoutMs?: number;
  /** Refresh this long before the access token expires, ms. Default 60 000. */
  refreshSkewMs?: number;
  /** Transient refresh failures are retried (default 3 attempts, Retry-After up to 5 s). */
  retry?: Partial<RetryPolicy>;
  /**
   * Web API calls (`webApiFetch`, `browserApi`, `sdkFetch`): 429 and 5xx handling, per field.
   * Defaults: 3 attempts, backoff from 250 ms up to 4 s, a Retry-After of up to 5 s waited out.
   */
  apiRetry?: Partial<ApiRetryOptions>;
  /**
   * How long each Web API request (each attempt) may take, body included, before TIMEOUT, ms, for the
   * same calls. Default 30 000.
   */
  apiTimeoutMs?: number;
  /** How long to wait for another tab's refresh, ms. Default `timeoutMs` + 5000 (35 000). */
  lockTimeoutMs?: number;
  /** Separates several logins (apps) on one origin. Default: the client id. */
  namespace?: string;
  /** Injected clock (epoch ms). Default Date.now. */
  now?: () => number;
  /** The fetch token requests and Web API calls go through. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Options of one login ({@link BrowserAuth.login}, {@link BrowserAuth.loginUrl}). */
export interface LoginOptions {
  /** Scopes for this login instead of the configured ones. */
  scope?: string | readonly string[];
  /** Spotify's `show_dialog` for this login instead of the configured one. */
  showDialog?: boolean;
  /** Same-origin path to come back to; default: the page login() is called from. */
  returnTo?: string;
}

/** A login that {@link BrowserAuth.handleRedirect} completed. */
export interface LoginResult {
  /** The new login's state. */
  session: BrowserSession;
  /** Where login() was called from (a same-origin path): navigate there if it is not this page. */
  returnTo: string;
}

/** A valid access token and what it may do. */
export interface AccessToken {
  /** The bearer token for the Web API. */
  accessToken: string;
  /** When it expires, epoch milliseconds. */
  expiresAt: number;
  /** The scopes granted. */
  scope: string[];
}

/** Called by {@link BrowserAuth.onChange} with the new session, or null after a logout. */
export type SessionListener = (session: BrowserSession | null) => void;

/**
 * Spotify login for browser-only apps: authorization code with PKCE in the page, the state bound to this
 * tab's attempt, and a grant that any tab of the origin can use — refreshed by exactly one tab at a time.
 *
 * Errors are {@link SpotauthError}s, as on the server: `NOT_LOGGED_IN`, `REAUTH_REQUIRED` (the refresh
 * token was revoked or is past its 6 months), the callback's (`STATE_MISMATCH`, `ACCESS_DENIED`, …), the
 * token endpoint's and the Web API's, and `STORE_UNAVAILABLE` when the chosen storage is blocked or full.
 *
 * @example
 * ```ts
 * const auth = new BrowserAuth({ clientId, redirectUri: location.origin + '/', scope: ['user-top-read'] });
 * await auth.handleRedirect();            // on every page load: finishes a login coming back from Spotify
 * if (!(await auth.session())) await auth.login();
 * const spotify = webApiFetch(auth);      // fetch for the Web API with this login's tokens
 * const response = await spotify('/me/top/tracks');
 * ```
 *
 * @see [Spotify: Authorization code with PKCE](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow)
 * @see [RFC 7636 (PKCE)](https://www.rfc-editor.org/rfc/rfc7636.html)
 * @see [RFC 8252 §7.3 (loopback redirect URIs)](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export class BrowserAuth {
  /** The checked configuration, with defaults filled in. */
  readonly config: ResolvedConfig;
  /** Where the grant is kept. */
  readonly storage: BrowserTokenStorage;
  /**
   * How Web API calls with this login's tokens are retried and timed (`apiRetry`, `apiTimeoutMs` with
   * their defaults): `webApiFetch`, browserApi() and sdkFetch() start from these.
   */
  readonly apiRetry: ApiRetryOptions;
  readonly apiTimeoutMs: number;
  readonly #scope: SpotifyScope[];
  readonly #showDialog: boolean | undefined;
  readonly #skew: number;
  readonly #retry: RetryPolicy;
  readonly #namespace: string;
  readonly #grantKey: string;
  readonly #loginKey: string;
  readonly #tabs: Tabs;
  readonly #unwatch: (() => void) | undefined;
  readonly #listeners = new Set<SessionListener>();
  readonly #apiUrl: string;
  readonly #redirectUri: string;
  /**
   * The access-token source for `webApiFetch`, SpotifyApi and the SDK adapter: a valid token, or after
   * a 401 on `rejected` a refreshed one (or a newer one another tab already got).
   */
  readonly tokenSource = (force: boolean, rejected?: string): Promise<string> =>
    force ? this.#refreshOnce(rejected ?? '').then((record) => record.accessToken) : this.getAccessToken();
  /** undefined: not read yet, or another tab changed it. */
  #record: BrowserGrant | null | undefined;
  #refreshing: Promise<BrowserGrant> | undefined;
  /** Called when another tab announces a changed grant (see #refreshAcrossTabs). */
  readonly #changeWaiters = new Set<() => void>();
  /** How many changes other tabs announced so far (see #caughtUp). */
  #changesHeard = 0;
  #redirect: Promise<LoginResult | null> | undefined;

  /**
   * @throws {@link SpotauthError} `INVALID_CONFIG` for a client secret (never ship one to a browser), a
   * missing client id or redirect URI; `INVALID_REDIRECT_URI`; `INSECURE_URL`; `INVALID_SCOPE`.
   */
  constructor(options: BrowserAuthOptions) {
    if (options && 'clientSecret' in options) {
      throw new SpotauthError(
        'INVALID_CONFIG',
        'A client secret must never be shipped to a browser (anyone can read it): PKCE needs only the client id.',
      );
    }
    // Only the app's fields are read (the rest of the options are ours).
    this.config = resolveConfig(options);
    if (this.config.redirectUri === undefined) {
      throw new SpotauthError('INVALID_CONFIG', 'A redirect URI (a page of this app) is required.');
    }
    this.#redirectUri = this.config.redirectUri;
    this.#scope = parseScopes(options.scope);
    this.#showDialog = options.showDialog;
    this.#skew = options.refreshSkewMs ?? 60_000;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.storage = resolveStorage(options.storage);
    this.#namespace = `spotauth:${options.namespace ?? this.config.clientId}`;
    this.#grantKey = `${this.#namespace}:grant`;
    this.#loginKey = `${this.#namespace}:login`;
    const lockTimeoutMs = options.lockTimeoutMs ?? this.config.timeoutMs + 5_000;
    this.#tabs = new Tabs(this.#namespace, this.storage.shared, lockTimeoutMs, (message) =>
      this.#heard(message),
    );
    // The channel's message can come before another tab's write is readable here (localStorage).
    this.#unwatch = this.storage.watch?.((key) => {
      if (key === null || key === this.#grantKey) this.#heard({ type: 'changed' });
    });
    this.#apiUrl = this.config.apiUrl.href.replace(/\/+$/, '');
    this.apiRetry = { ...DEFAULT_API_RETRY, ...options.apiRetry };
    this.apiTimeoutMs = checkTimeoutMs(options.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS, 'apiTimeoutMs');
  }

  /** The Web API base URL, without a trailing slash. */
  get apiUrl(): string {
    return this.#apiUrl;
  }

  // ---- login -------------------------------------------------------------------------------------

  /**
   * Starts a login: remembers this tab's attempt (state, PKCE verifier) in sessionStorage and returns
   * Spotify's authorize URL. `login()` also goes there.
   */
  async loginUrl(options: LoginOptions = {}): Promise<URL> {
    const origin = globalThis.location?.origin;
    const redirect = new URL(this.#redirectUri);
    if (origin !== undefined && redirect.origin !== origin) {
      throw new SpotauthError(
        'INVALID_CONFIG',
        `This page is on ${origin}, the redirect URI on a different origin: open the app at ${redirect.origin}${redirect.origin.includes('127.0.0.1') ? ' (not localhost)' : ''}.`,
      );
    }
    const request = await authorizationRequestFor(
      this.config,
      options.scope === undefined ? this.#scope : parseScopes(options.scope),
      this.#redirectUri,
      options.showDialog ?? this.#showDialog,
    );
    const here = globalThis.location
      ? `${location.pathname}${location.search}${location.hash}`
      : redirect.pathname;
    const returnTo = safeReturnPath(options.returnTo ?? here, origin ?? redirect.origin) ?? redirect.pathname;
    saveTransaction(this.#loginKey, {
      state: request.state,
      codeVerifier: request.codeVerifier,
      redirectUri: request.redirectUri,
      scope: request.scope,
      createdAt: this.config.now(),
      returnTo,
    });
    return request.url;
  }

  /** Goes to Spotify's login and consent page; the user comes back to the redirect URI. */
  async login(options: LoginOptions = {}): Promise<void> {
    location.assign((await this.loginUrl(options)).href);
  }

  /**
   * Call on every page load. When the page is Spotify's redirect back (the redirect URI with code/state or
   * error), it removes those from the address bar, checks the state against this tab's attempt (single
   * use, no network call before), exchanges the code (client id + verifier, no secret) and stores the
   * grant; otherwise it returns null. Spotify's refusals become the usual SpotauthErrors (ACCESS_DENIED,
   * STATE_MISMATCH, …). Calling it again during the same page load returns the same result.
   */
  handleRedirect(url?: string | URL): Promise<LoginResult | null> {
    if (url === undefined && this.#redirect) return this.#redirect;
    const current = new URL(String(url ?? location.href));
    if (!this.#isCallback(current)) return Promise.resolve(null);
    const result = this.#completeLogin(current);
    if (url === undefined) this.#redirect = result;
    return result;
  }

  #isCallback(url: URL): boolean {
    const redirect = new URL(this.#redirectUri);
    if (url.origin !== redirect.origin || url.pathname !== redirect.pathname) return false;
    return ['code', 'state', 'error'].some((name) => url.searchParams.has(name));
  }

  async #completeLogin(url: URL): Promise<LoginResult> {
    const params = new URLSearchParams(url.search);
    const attempt = takeTransaction(this.#loginKey);
    this.#cleanAddressBar(url);
    if (attempt === undefined || this.config.now() - attempt.createdAt > LOGIN_TTL_MS) {
      // The state check still runs first, so a callback without a state is reported as such.
      try {
        checkCallback(params, '');
      } catch (error) {
        if (!isSpotauthError(error, 'STATE_MISMATCH')) throw error;
      }
      throw new SpotauthError(
        'STATE_MISMATCH',
        attempt === undefined
          ? 'A login response, but no login was started in this tab (or it was used); log in again.'
          : 'The login took over 10 minutes; log in again.',
      );
    }
    const code = checkCallback(params, attempt.state);
    const tokens = await requestToken(
      this.config,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: attempt.redirectUri,
        client_id: this.config.clientId,
        code_verifier: attempt.codeVerifier,
      },
      { scope: attempt.scope },
    );
    const record = await this.#saveLogin(tokens);
    return { session: sessionOf(record), returnTo: safeReturnPath(attempt.returnTo, url.origin) ?? '/' };
  }

  /** Removes code, state and error parameters from the URL without a navigation or a history entry. */
  #cleanAddressBar(url: URL): void {
    if (typeof history === 'undefined' || typeof location === 'undefined') return;
    if (location.href !== url.href) return;
    const clean = new URL(url.href);
    for (const name of CALLBACK_PARAMS) clean.searchParams.delete(name);
    history.replaceState(history.state, '', `${clean.pathname}${clean.search}${clean.hash}`);
  }

  async #saveLogin(tokens: TokenSet): Promise<BrowserGrant> {
    const { refreshToken } = tokens;
    if (!refreshToken) {
      throw new SpotauthError(
        'INVALID_TOKEN_RESPONSE',
        'The login returned no refresh token; nothing was stored.',
      );
    }
    const now = this.config.now();
    const record = await this.#tabs.exclusive(async () => {
      const existing = await this.#read();
      const fresh: BrowserGrant = {
        key: this.#grantKey,
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.expiresAt,
        refreshToken,
        scope: tokens.scope,
        status: 'active',
        authorizedAt: now,
        refreshTokenDeadline: now + SIX_MONTHS_MS,
        meta: { grantId: randomUrlSafe(12) },
        version: (existing?.version ?? 0) + 1,
        updatedAt: now,
      };
      await this.#write(fresh);
      return fresh;
    });
    this.#notify(record);
    return record;
  }

  // ---- tokens ------------------------------------------------------------------------------------

  /** A valid access token, refreshed ahead of expiry. Throws NOT_LOGGED_IN or REAUTH_REQUIRED. */
  async getAccessToken(): Promise<string> {
    return (await this.getToken()).accessToken;
  }

  /** Like {@link BrowserAuth.getAccessToken}, with the token's expiry and scopes. */
  async getToken(): Promise<AccessToken> {
    // Nobody logged in, or a dead grant: said at once, without taking the cross-tab lock.
    const record = alive(await this.#current());
    return tokenOf(this.#isFresh(record) ? record : await this.#refreshOnce(undefined));
  }

  /** Refreshes now, whatever the expiry (still one refresh across tabs). */
  async refresh(): Promise<AccessToken> {
    const record = await this.#current();
    return tokenOf(await this.#refreshOnce(record?.accessToken ?? ''));
  }

  /** The login's state without its tokens, or null when nobody is logged in. */
  async session(): Promise<BrowserSession | null> {
    const record = await this.#current();
    return record ? sessionOf(record) : null;
  }

  /** Whether the user granted `scope` (Spotify's granted list, as returned at login). */
  async hasScope(scope: SpotifyScope): Promise<boolean> {
    const record = await this.#current();
    return record?.status === 'active' && record.scope.includes(scope);
  }

  /**
   * In-tab single flight, then the cross-tab lock. `rejected`: the access token Spotify just refused
   * (401) or '' to force a refresh; a token other than that, refreshed by another tab, is used as is.
   */
  #refreshOnce(rejected: string | undefined): Promise<BrowserGrant> {
    this.#refreshing ??= this.#refreshAcrossTabs(rejected).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * Waits for the lock — unless, meanwhile, the tab holding it announces a fresh grant: then this tab
   * reads it (in parallel with the other waiting tabs, instead of one after another through the lock) and
   * stops waiting. Only the lock holder refreshes either way.
   */
  async #refreshAcrossTabs(rejected: string | undefined): Promise<BrowserGrant> {
    if (!this.#tabs.locking || !this.#tabs.hearsOthers) {
      return this.#tabs.exclusive(() => this.#refreshLocked(rejected));
    }
    const stopWaiting = new AbortController();
    let unsubscribe = () => {};
    const announced = new Promise<BrowserGrant>((resolve) => {
      const check = () => {
        this.#read().then(
          (record) => {
            if (record && this.#isFresh(record) && record.accessToken !== rejected) resolve(record);
          },
          () => {},
        );
      };
      this.#changeWaiters.add(check);
      unsubscribe = () => this.#changeWaiters.delete(check);
    });
    const locked = this.#tabs.exclusive(
      () => this.#refreshLocked(rejected, stopWaiting.signal),
      stopWaiting.signal,
    );
    try {
      return await Promise.race([locked, announced]);
    } finally {
      unsubscribe();
      stopWaiting.abort();
      locked.catch(() => {}); // given up: its AbortError is expected
    }
  }

  /** `abandoned`: aborted once this tab took another tab's fresh grant instead (then nothing is done). */
  async #refreshLocked(rejected: string | undefined, abandoned?: AbortSignal): Promise<BrowserGrant> {
    const record = alive(await this.#caughtUp(await this.#read()));
    // Another tab may have refreshed while this one waited for the lock.
    if (this.#isFresh(record) && (rejected === undefined || record.accessToken !== rejected)) return record;
    // Granted just as the announcement won (the read above can end after it): its result would be dropped.
    if (abandoned?.aborted) return record;
    let tokens: TokenSet;
    try {
      tokens = await withRetries(
        (timeLeftMs) =>
          requestToken(
            this.config,
            {
              grant_type: 'refresh_token',
              refresh_token: record.refreshToken,
              client_id: this.config.clientId,
            },
            { refreshToken: record.refreshToken, scope: record.scope },
            timeLeftMs,
          ),
        this.#retry,
        // As the token manager: the whole refresh, retries included, fits in one request timeout.
        this.config.now() + this.config.timeoutMs,
        this.config.now,
      );
    } catch (error) {
      return this.#refreshFailed(record, rejected, error);
    }
    const current = await this.#read();
    // Logged out (or logged in afresh) while the request was out: that grant is gone, keep what is there.
    if (!current) throw notLoggedIn();
    if (current.version !== record.version) return current;
    const now = this.config.now();
    const next: BrowserGrant = {
      ...record,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.expiresAt,
      scope: tokens.scope,
      // requestToken keeps the old refresh token when the response has none.
      refreshToken: tokens.refreshToken ?? record.refreshToken,
      version: record.version + 1,
      updatedAt: now,
    };
    // Stored (the rotated refresh token above all) before the new access token is handed out.
    await this.#write(next);
    return next;
  }

  async #refreshFailed(
    record: BrowserGrant,
    rejected: string | undefined,
    error: unknown,
  ): Promise<BrowserGrant> {
    const failure = isSpotauthError(error)
      ? error
      : new SpotauthError('NETWORK', 'Refreshing the token failed unexpectedly.', { transient: true });
    if (isTerminalGrantError(failure)) {
      // Never mark a grant dead on a read that lags behind a newer one.
      const current = await this.#caughtUp(await this.#read());
      if (current?.version !== record.version) return alive(current);
      const now = this.config.now();
      const reason = reauthReasonFor(failure, record.refreshTokenDeadline, now);
      // As the token manager: marked, not deleted, so a mistaken mark can be inspected; never used again.
      const marked: BrowserGrant = {
        ...record,
        status: 'reauth_required',
        reauthReason: reason,
        reauthAt: now,
        version: record.version + 1,
        updatedAt: now,
      };
      await this.#write(marked);
      this.#notify(marked);
      throw reauthRequiredError(reason);
    }
    // Transient trouble logs nobody out, and a token that still works keeps being served.
    if (record.accessTokenExpiresAt > this.config.now() && record.accessToken !== rejected) return record;
    throw failure;
  }

  /**
   * On storage whose reads lag behind other tabs' writes (localStorage), this tab can be granted the lock
   * before the previous holder's write is readable in it. Each writer marks its write in the lock manager,
   * which every tab sees at once: until the grant read is as new as the newest mark, wait for the storage
   * to catch up (its `watch`), for at most a second; refreshing after that is still safe (a refresher
   * re-reads before it writes), only not single.
   */
  async #caughtUp(record: BrowserGrant | null): Promise<BrowserGrant | null> {
    if (!record || !this.storage.watch) return record;
    const newest = await this.#tabs.newestWrite(grantIdOf(record));
    const end = Date.now() + 1_000;
    while (record && record.version < newest && Date.now() < end) {
      // Read again: the storage may have caught up while the lock manager answered, its event unseen.
      const changes = this.#changesHeard;
      record = await this.#read();
      if (record && record.version < newest && changes === this.#changesHeard) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.#changeWaiters.delete(done);
            resolve();
          };
          this.#changeWaiters.add(done);
          setTimeout(done, end - Date.now());
        });
      }
    }
    return record;
  }

  #isFresh(record: BrowserGrant): boolean {
    return record.status === 'active' && record.accessTokenExpiresAt - this.#skew > this.config.now();
  }

  // ---- logout and other tabs ------------------------------------------------------------------------

  /**
   * Forgets the grant in this tab and every other tab of the origin. (Spotify has no revocation
   * endpoint: the user can remove the app at spotify.com/account/apps.)
   */
  async logout(): Promise<void> {
    const grantId = grantIdOf(this.#record ?? (await this.#read().catch(() => null)));
    this.#record = null;
    await this.storage.remove(this.#grantKey);
    this.#tabs.tell({ type: 'logout', grantId });
    this.#notify(null);
    // A refresh in another tab re-reads before it writes; a write that slipped in between is removed here,
    // unless it is a newer login.
    await this.#tabs
      .exclusive(async () => {
        const current = await this.#read();
        if (current && grantIdOf(current) === grantId) await this.storage.remove(this.#grantKey);
      })
      .catch(() => {});
  }

  /**
   * Called with the new session (or null) when someone logs in or out, or the grant dies — in this tab or
   * another. Refreshes are not reported: they change nothing but the access token.
   */
  onChange(listener: SessionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening to other tabs. */
  close(): void {
    this.#tabs.close();
    this.#unwatch?.();
    this.#listeners.clear();
  }

  #heard(message: TabMessage): void {
    if (message.type === 'logout') {
      this.#record = null;
      // Per-tab storage (memory, sessionStorage) holds this tab's own login: a logout anywhere ends it too.
      if (!this.storage.shared) this.storage.remove(this.#grantKey).catch(() => {});
      this.#notify(null);
      return;
    }
    if (!this.storage.shared) return;
    this.#changesHeard++;
    for (const waiter of this.#changeWaiters) waiter();
    const before = this.#record;
    this.#record = undefined;
    this.#read().then(
      (record) => {
        // A refresh elsewhere changes nothing listeners care about; a login, logout or dead grant does.
        if (before === undefined || describe(before) !== describe(record)) this.#notify(record);
      },
      () => {},
    );
  }

  #notify(record: BrowserGrant | null): void {
    const session = record ? sessionOf(record) : null;
    for (const listener of this.#listeners) {
      try {
        listener(session);
      } catch {
        // A listener's bug must not break the login.
      }
    }
  }

  // ---- storage ------------------------------------------------------------------------------------

  /** The grant, from memory when other tabs' changes would have been heard, else from storage. */
  async #current(): Promise<BrowserGrant | null> {
    if (this.#record !== undefined && (this.#tabs.hearsOthers || !this.storage.shared)) return this.#record;
    return this.#read();
  }

  async #read(): Promise<BrowserGrant | null> {
    const text = await this.storage.get(this.#grantKey);
    const record = parseRecord(text);
    if (record === null && text !== null) await this.storage.remove(this.#grantKey);
    this.#record = record;
    return record;
  }

  /** Stores the grant and tells the other tabs (who read it from storage: messages carry no tokens). */
  async #write(record: BrowserGrant): Promise<void> {
    await this.storage.set(this.#grantKey, JSON.stringify(record));
    this.#record = record;
    // Where reads lag (see #caughtUp), the next lock holder must be able to learn that this write exists.
    if (this.storage.watch) await this.#tabs.markWrite(grantIdOf(record), record.version);
    this.#tabs.tell({ type: 'changed' });
  }
}

function describe(record: TokenRecord | null): string {
  return record ? `${grantIdOf(record)}:${record.status}` : '';
}

/** The grant, when there is one and it is not dead; else NOT_LOGGED_IN or REAUTH_REQUIRED. */
function alive(record: BrowserGrant | null): BrowserGrant {
  if (!record) throw notLoggedIn();
  if (record.status === 'reauth_required') throw reauthRequiredError(record.reauthReason);
  return record;
}

function tokenOf(record: BrowserGrant): AccessToken {
  return {
    accessToken: record.accessToken,
    expiresAt: record.accessTokenExpiresAt,
    scope: [...record.scope],
  };
}

function notLoggedIn(): SpotauthError {
  return new SpotauthError('NOT_LOGGED_IN', 'Nobody is logged in to Spotify here; log in first.');
}
