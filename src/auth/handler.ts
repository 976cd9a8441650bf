/**
 * The framework-agnostic Spotify login handler. It serves the auth routes under a base path and gives the
 * host app what its own routes need (the session user, a valid token, a ready Web API client, "require
 * login"). Adapters (spotauth/fastify, /express, /fetch) only translate requests and responses.
 *
 *   GET  {base}/login?returnTo=&scope=&show_dialog=   303 to Spotify (JSON: {authorize_url})
 *   GET  {base}/callback                              303 to returnTo, with a new session cookie
 *   GET  {base}/token                                 the session user's access token (JSON)
 *   GET  {base}/session                               who is logged in, and the CSRF token (JSON)
 *   POST {base}/refresh                               refresh now (JSON; CSRF)
 *   POST {base}/logout                                end the session (303 /, or JSON; CSRF)
 */
import pino from 'pino';
import { SpotifyApi } from '../api/client.js';
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import { parseScopes } from '../core/scopes.js';
import type { SpotifyAuth } from '../core/spotify-auth.js';
import type { TokenStore } from '../stores/types.js';
import { type AccessToken, TokenManager } from '../tokens/token-manager.js';
import { type AuthRequest, type AuthResponse, BodyTooLarge, readCookie, serializeCookie } from './http.js';
import { redactingLoggerOptions } from './logging.js';
import { beginLogin, checkCallback, finishLogin } from './login-flow.js';
import {
  createResponder,
  DEFAULT_PAGES,
  type ErrorView,
  failureDetail,
  type Pages,
  type Responder,
  retryAfterFields,
  viewOfError,
} from './responses.js';
import {
  baseHeaders,
  type CookieNames,
  cookieNames,
  csrfTokenMatches,
  isSameOriginRequest,
  safeReturnTo,
} from './security.js';
import { type Session, SessionManager, type SessionOptions } from './sessions.js';
import { keepTickShapesAlive } from './tick-shapes.js';
import { TokenBodies, tokenResponse } from './token-response.js';
import { WindowLimiter } from './window-limiter.js';

/** The logging calls the handler makes (pino's shape; any pino logger fits). */
export interface AuthLogger {
  /** Logins, logouts, refreshes. */
  info(object: Record<string, unknown>, message: string): void;
  /** Refused callbacks, rate limits, grants that died. */
  warn(object: Record<string, unknown>, message: string): void;
  /** Failures the client sees as a 5xx. */
  error(object: Record<string, unknown>, message: string): void;
}

/**
 * How a callback ended, for `onLogin` metrics: `success`; `denied` (the user declined on Spotify);
 * `rejected` (Spotify or the callback's checks refused it); `expired_or_forged` (no matching login
 * transaction: it timed out, was used already, or never existed); `failed` (the token exchange or the
 * store failed).
 */
export type LoginOutcome = 'success' | 'denied' | 'rejected' | 'expired_or_forged' | 'failed';

/**
 * Options of the login handler (`spotauthFastify`, `spotauthExpress`, `spotauthFetch`). Only `auth` and
 * `store` are required. Durations in milliseconds.
 *
 * @see [Spotify: Authorization code with PKCE](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow)
 * @see [RFC 9700 (OAuth 2.0 security best current practice)](https://www.rfc-editor.org/rfc/rfc9700.html)
 */
export interface SpotauthOptions {
  /** The Spotify app. Its redirect URI must be `<publicUrl><basePath>/callback`. */
  auth: SpotifyAuth;
  /** Where grants, sessions and login transactions live (every instance must use the same one). */
  store: TokenStore;
  /** Share the app's token manager; default: one on `store`. */
  tokens?: TokenManager;
  /** Where the auth routes live. Default `/auth/spotify`; `''` mounts them at the root. */
  basePath?: string;
  /** Scopes requested by `{base}/login`. Default: none beyond the public profile. */
  scope?: readonly string[];
  /** Let `{base}/login?scope=…` ask for more scopes than `scope` (e.g. a "grant top tracks" link). Default true. */
  allowExtraScopes?: boolean;
  /** Cookie names are `<prefix>_session` and `<prefix>_login` (with `__Host-` on https). Default `spotauth`. */
  cookiePrefix?: string;
  /** Replace the built-in pages. */
  pages?: Partial<Pages>;
  /** Headers for HTML pages (CSP and friends); default: a strict CSP for the built-in pages. */
  pageHeaders?: Readonly<Record<string, string>>;
  /** Answer JSON on every route, even to browsers that do not ask for it (SPAs). Default false. */
  json?: boolean;
  /** Requests per minute per client address on login and callback; 0 turns it off. Default 30. */
  loginRateLimit?: number;
  /**
   * Session timeouts and the per-instance session cache, ms: `idleTimeoutMs` (default 24 h),
   * `absoluteTimeoutMs` (30 days), `loginTtlMs` (time allowed between /login and /callback, 10 min),
   * `cacheMs` (how long an instance trusts a session it read, 500), `maxCached` (10 000 sessions).
   */
  sessions?: Omit<SessionOptions, 'entries'>;
  /** Default: pino at `info` to stdout, with the redactions (no tokens, codes, cookies or queries). */
  logger?: AuthLogger;
  /** Called after every callback, with its outcome (metrics). */
  onLogin?: (outcome: LoginOutcome) => void;
}

/** What the host app gets for a logged-in request. */
export interface SessionInfo {
  /** The store key of the user's grant, `user:<Spotify account id>`. */
  user: string;
  /** The Spotify account id. */
  account: string;
  /** Send it as `x-csrf-token` (or form field `csrf`) with POST {base}/refresh and {base}/logout. */
  csrfToken: string;
  /** The stored session (ids, creation and last-seen times). */
  session: Session;
}

const ROUTES: Readonly<Record<string, string>> = {
  '/login': 'GET',
  '/callback': 'GET',
  '/token': 'GET',
  '/session': 'GET',
  '/refresh': 'POST',
  '/logout': 'POST',
};
const JSON_ROUTES = new Set(['/token', '/session', '/refresh']);

/**
 * The framework-agnostic login handler behind every adapter: it answers the auth routes under
 * `basePath` (`/login`, `/callback`, `/token`, `/session`, `/refresh`, `/logout`) and gives the host app
 * the session, a valid token and a Web API client per request. Sessions, login transactions and grants
 * live in the store, so any instance sharing it can serve any browser.
 */
export class SpotauthHandler {
  /** The Spotify app. */
  readonly auth: SpotifyAuth;
  /** Where grants, sessions and login transactions live. */
  readonly store: TokenStore;
  /** The token manager the handler hands tokens out through. */
  readonly tokens: TokenManager;
  /** The browser sessions. */
  readonly sessions: SessionManager;
  /** Where the auth routes live, without a trailing slash (`''` = the root). */
  readonly basePath: string;
  /** The app's public origin, taken from the redirect URI. */
  readonly origin: string;
  /** The session and login cookie names (`__Host-` prefixed on https). */
  readonly cookies: CookieNames;
  /** Builds the handler's pages, JSON bodies and redirects. */
  readonly respond: Responder;
  readonly #options: SpotauthOptions;
  readonly #scope: readonly string[];
  readonly #limiter: WindowLimiter | undefined;
  readonly #logger: AuthLogger;
  readonly #stopCleanup: () => void;
  readonly #tokenBodies = new TokenBodies();

  /**
   * @throws {@link SpotauthError} `INVALID_CONFIG` when the app has no redirect URI, its path is not
   * `<basePath>/callback`, or `basePath` is not a plain path; `INVALID_SCOPE` for an unknown scope.
   */
  constructor(options: SpotauthOptions) {
    this.#options = options;
    this.auth = options.auth;
    this.store = options.store;
    this.tokens = options.tokens ?? new TokenManager({ auth: options.auth, store: options.store });
    this.basePath = normaliseBasePath(options.basePath ?? '/auth/spotify');
    const redirectUri = options.auth.config.redirectUri;
    if (!redirectUri) throw configError('The Spotify app needs a redirect URI for the login handler.');
    const callback = new URL(redirectUri);
    if (callback.pathname !== `${this.basePath}/callback`) {
      throw configError(
        `The redirect URI ${callback.href} must end in ${this.basePath}/callback, where this handler answers (basePath "${this.basePath}").`,
      );
    }
    this.origin = callback.origin;
    this.cookies = cookieNames(new URL(this.origin), options.cookiePrefix);
    this.sessions = new SessionManager({ entries: options.store.entries, ...options.sessions });
    this.#scope = parseScopes(options.scope ?? []);
    const rate = options.loginRateLimit ?? 30;
    this.#limiter = rate > 0 ? new WindowLimiter(rate, 60_000) : undefined;
    this.#logger = options.logger ?? pino(redactingLoggerOptions('info'));
    this.respond = createResponder(
      baseHeaders(new URL(this.origin)),
      { ...DEFAULT_PAGES, ...options.pages },
      options.pageHeaders,
    );
    // A grant that died or was deleted ends its sessions everywhere (the store is shared).
    const endSessions = ({ key }: { key: string }) => void this.sessions.destroyUser(key).catch(() => {});
    this.tokens.on('reauth_required', endSessions);
    this.tokens.on('deleted', endSessions);
    this.#stopCleanup = this.sessions.startCleanup();
  }

  /** `{base}/login`, with where to come back to. */
  loginUrl(returnTo = '/'): string {
    const path = safeReturnTo(returnTo, this.origin);
    return path === '/'
      ? `${this.basePath}/login`
      : `${this.basePath}/login?returnTo=${encodeURIComponent(path)}`;
  }

  /**
   * Answers one of the auth routes, or returns null: not ours, let the host app handle it. The answer is
   * ready at once (not a promise) when no store read is needed: a refused method, or GET /token with this
   * instance's cached session and token, the common case. Runtimes with a fast path for ready responses
   * (@hono/node-server, Bun) then write it without a promise chain. Errors always come as a rejection.
   */
  handle(request: AuthRequest): AuthResponse | null | Promise<AuthResponse | null> {
    try {
      const queryAt = request.url.indexOf('?');
      const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
      if (!path.startsWith(this.basePath)) return null;
      const route = path.slice(this.basePath.length);
      const method = ROUTES[route];
      if (method === undefined) return null;
      const json = this.#wantsJson(request, route);
      if (request.method !== method && !(method === 'GET' && request.method === 'HEAD')) {
        const refused = this.respond.error(
          {
            status: 405,
            error: 'method_not_allowed',
            title: 'Method not allowed',
            message: `Use ${method} here.`,
          },
          json,
        );
        refused.headers = { ...refused.headers, allow: method };
        return refused;
      }
      if (route === '/token') {
        const cached = this.#cachedToken(request);
        if (cached) return cached;
      }
      return this.#route(route, request, json);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #route(route: string, request: AuthRequest, json: boolean): Promise<AuthResponse> {
    try {
      switch (route) {
        case '/login':
          return await this.#login(request, json);
        case '/callback':
          return await this.#callback(request, json);
        case '/token':
          return await this.#token(request);
        case '/session':
          return await this.#session(request);
        case '/refresh':
          return await this.#refresh(request, json);
        default:
          return await this.#logout(request, json);
      }
    } catch (error) {
      return this.#failure(request, error, json);
    }
  }

  /** The logged-in user of this request, or null. */
  async getSession(request: Pick<AuthRequest, 'header'>): Promise<SessionInfo | null> {
    const session = await this.sessions.get(readCookie(request.header('cookie'), this.cookies.session));
    return session && this.#info(session);
  }

  /** A valid access token for the request's user. Throws NOT_LOGGED_IN, REAUTH_REQUIRED (sessions ended). */
  async getAccessToken(request: Pick<AuthRequest, 'header'>): Promise<AccessToken> {
    const session = await this.getSession(request);
    if (!session) throw new SpotauthError('NOT_LOGGED_IN', 'You are not logged in.');
    return this.#tokenFor(session.session);
  }

  /** A Web API client acting as the request's user (401 → refresh + retry, 429, 5xx handled). */
  async getApi(request: Pick<AuthRequest, 'header'>): Promise<SpotifyApi> {
    const session = await this.getSession(request);
    if (!session) throw new SpotauthError('NOT_LOGGED_IN', 'You are not logged in.');
    return new SpotifyApi({ tokens: this.tokens, user: session.user });
  }

  /**
   * For the host app's protected routes: the session, or the response to send instead — a redirect to
   * login that comes back to this page (or a 401 JSON for API calls).
   */
  async requireLogin(request: Pick<AuthRequest, 'header' | 'url'>): Promise<
    | {
        /** The logged-in user. */
        session: SessionInfo;
        /** Absent: go on. */
        response?: undefined;
      }
    | {
        /** Absent: nobody is logged in. */
        session?: undefined;
        /** Send this instead of the page. */
        response: AuthResponse;
      }
  > {
    const session = await this.getSession(request);
    if (session) return { session };
    if ((request.header('accept') ?? '').includes('application/json') && !this.#options.json) {
      return {
        response: this.respond.error(
          viewOfError(new SpotauthError('NOT_LOGGED_IN', 'You are not logged in.'), this.loginUrl()),
          true,
        ),
      };
    }
    return { response: this.respond.redirect(this.loginUrl(request.url)) };
  }

  /**
   * Maps any error to the response a person understands, for the host app's own routes too: JSON when
   * `json` says so (default: when the client asks for it), else a page. 5xx details go to the log only.
   */
  errorResponse(request: Pick<AuthRequest, 'header' | 'url'>, error: unknown, json?: boolean): AuthResponse {
    return this.#failure(request, error, json ?? this.#wantsJson(request, ''));
  }

  /** Stops the periodic cleanup of expired sessions; the store stays open (it is the caller's). */
  close(): void {
    this.#stopCleanup();
  }

  async #login(request: AuthRequest, json: boolean): Promise<AuthResponse> {
    const limited = this.#limit(request);
    if (limited) return this.respond.error(limited, json);
    const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1));
    for (const name of new Set(query.keys())) {
      if (query.getAll(name).length > 1)
        return this.respond.error(
          {
            status: 400,
            error: 'bad_request',
            title: 'Bad login link',
            message: `The parameter "${name.slice(0, 32)}" was given twice.`,
          },
          json,
        );
    }
    const extra = query.get('scope');
    const scope =
      extra !== null && this.#options.allowExtraScopes !== false
        ? [...new Set([...this.#scope, ...parseScopes(extra)])]
        : this.#scope;
    const showDialog = query.get('show_dialog') === 'true' || query.get('show_dialog') === '1';
    const { url, transaction } = await beginLogin(this.auth, {
      scope,
      showDialog,
      returnTo: safeReturnTo(query.get('returnTo') ?? undefined, this.origin),
    });
    const cookie = await this.sessions.startLogin(transaction);
    const cookies = [
      serializeCookie(this.cookies.login, cookie, {
        secure: this.cookies.secure,
        maxAgeSeconds: this.sessions.loginTtlMs / 1000,
      }),
    ];
    if (json) return this.respond.json(200, { authorize_url: url.href }, cookies);
    return this.respond.redirect(url.href, cookies);
  }

  async #callback(request: AuthRequest, json: boolean): Promise<AuthResponse> {
    const limited = this.#limit(request);
    if (limited) return this.respond.error(limited, json);
    const cookieHeader = request.header('cookie');
    const clearLogin = serializeCookie(this.cookies.login, '', {
      secure: this.cookies.secure,
      maxAgeSeconds: 0,
    });
    const transactionCookie = readCookie(cookieHeader, this.cookies.login);
    const transaction = await this.sessions.takeLogin(transactionCookie);
    if (!transaction) {
      this.#options.onLogin?.('expired_or_forged');
      this.#logger.warn(
        { event: 'login_rejected', reason: transactionCookie ? 'unknown_transaction' : 'no_transaction' },
        'security: callback without a live login transaction',
      );
      return this.respond.error(
        {
          status: 400,
          error: 'login_expired',
          title: 'Login expired or not started here',
          message:
            'This login link was already used, has expired (after 10 minutes), or was not started from this browser. Nothing was stored.',
          action: { href: this.loginUrl(), label: 'Log in' },
        },
        json,
        [clearLogin],
      );
    }
    const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1));
    let validated: ReturnType<typeof checkCallback>;
    try {
      validated = checkCallback(this.auth, transaction, query);
    } catch (error) {
      const denied = isSpotauthError(error, 'ACCESS_DENIED');
      this.#options.onLogin?.(denied ? 'denied' : 'rejected');
      const code = isSpotauthError(error) ? error.code : 'INVALID';
      if (!denied)
        this.#logger.warn({ event: 'login_rejected', reason: code }, 'security: login callback rejected');
      const forged = code.startsWith('STATE') || code === 'PARAM_DUPLICATED';
      return this.respond.error(
        denied
          ? {
              status: 403,
              error: 'access_denied',
              code,
              title: 'Access not granted',
              message:
                'You chose not to give this app access on Spotify, so you are not logged in. You can try again at any time.',
              action: { href: this.loginUrl(transaction.returnTo), label: 'Try again' },
            }
          : {
              status: 400,
              error: 'login_rejected',
              code,
              title: 'Login attempt rejected',
              message: forged
                ? 'This answer from Spotify does not match the login started in this browser (it may have been forged or replayed). Nothing was stored.'
                : 'Spotify sent back an answer this app cannot use. Nothing was stored.',
              action: { href: this.loginUrl(), label: 'Log in again' },
            },
        json,
        [clearLogin],
      );
    }
    let grant: Awaited<ReturnType<typeof finishLogin>>['grant'];
    try {
      ({ grant } = await finishLogin({ auth: this.auth, tokens: this.tokens }, transaction, validated));
    } catch (error) {
      this.#options.onLogin?.('failed');
      if (isSpotauthError(error, 'INVALID_GRANT')) {
        return this.respond.error(
          {
            status: 400,
            error: 'login_expired',
            code: error.code,
            title: 'Login expired',
            message:
              'Spotify no longer accepts this login (it took too long or was already used). Please log in again.',
            action: { href: this.loginUrl(), label: 'Log in again' },
          },
          json,
          [clearLogin],
        );
      }
      const failed = this.#failure(request, error, json);
      failed.cookies.push(clearLogin);
      return failed;
    }
    // A new session id on every login, the previous one ended (session fixation, SECURITY §3.2).
    await this.sessions.destroy(readCookie(cookieHeader, this.cookies.session));
    const { cookie, session } = await this.sessions.create(grant.key);
    this.#options.onLogin?.('success');
    this.#logger.info({ user: grant.key }, 'login');
    const cookies = [
      clearLogin,
      serializeCookie(this.cookies.session, cookie, { secure: this.cookies.secure }),
    ];
    if (json) {
      return this.respond.json(
        200,
        { ok: true, ...this.#sessionJson(this.#info(session)), return_to: transaction.returnTo },
        cookies,
      );
    }
    return this.respond.redirect(transaction.returnTo, cookies);
  }

  async #token(request: AuthRequest): Promise<AuthResponse> {
    const session = await this.#requireSession(request);
    return this.respond.jsonText(200, this.#tokenBodies.get(session.userKey, await this.#tokenFor(session)));
  }

  /**
   * GET /token when this instance holds the session and a valid token already (the common case: pages and
   * players ask again and again): answered without a store read or a promise chain; undefined otherwise.
   */
  #cachedToken(request: AuthRequest): AuthResponse | undefined {
    const session = this.sessions.peek(readCookie(request.header('cookie'), this.cookies.session));
    const token = session && this.tokens.peekToken(session.userKey);
    return token && session && this.respond.jsonText(200, this.#tokenBodies.get(session.userKey, token));
  }

  async #session(request: AuthRequest): Promise<AuthResponse> {
    const session = await this.#requireSession(request);
    return this.respond.json(200, this.#sessionJson(this.#info(session)));
  }

  async #refresh(request: AuthRequest, json: boolean): Promise<AuthResponse> {
    const session = await this.#requireSession(request);
    const refused = await this.#checkCsrf(request, session, json);
    if (refused) return refused;
    try {
      return this.respond.json(200, {
        ok: true,
        ...tokenResponse(await this.tokens.refreshNow(session.userKey)),
      });
    } catch (error) {
      return this.#afterTokenError(error, session);
    }
  }

  async #logout(request: AuthRequest, json: boolean): Promise<AuthResponse> {
    const cookie = readCookie(request.header('cookie'), this.cookies.session);
    const session = await this.sessions.get(cookie);
    if (session) {
      const refused = await this.#checkCsrf(request, session, json);
      if (refused) return refused;
    }
    await this.sessions.destroy(cookie);
    const cleared = [
      serializeCookie(this.cookies.session, '', { secure: this.cookies.secure, maxAgeSeconds: 0 }),
    ];
    if (json) return this.respond.json(200, { ok: true }, cleared);
    return this.respond.redirect('/', cleared);
  }

  async #requireSession(request: AuthRequest): Promise<Session> {
    const session = await this.sessions.get(readCookie(request.header('cookie'), this.cookies.session));
    if (!session) throw new SpotauthError('NOT_LOGGED_IN', 'You are not logged in.');
    return session;
  }

  async #tokenFor(session: Session): Promise<AccessToken> {
    try {
      return this.tokens.peekToken(session.userKey) ?? (await this.tokens.getToken(session.userKey));
    } catch (error) {
      return this.#afterTokenError(error, session);
    }
  }

  /** The grant is dead: so is every session built on it, on every instance. Then the error goes on. */
  async #afterTokenError(error: unknown, session: Session): Promise<never> {
    if (isSpotauthError(error, 'REAUTH_REQUIRED') || isSpotauthError(error, 'NOT_LOGGED_IN'))
      await this.sessions.destroyUser(session.userKey).catch(() => {});
    throw error;
  }

  async #checkCsrf(request: AuthRequest, session: Session, json: boolean): Promise<AuthResponse | null> {
    let presented = request.header('x-csrf-token');
    if (presented === undefined) {
      try {
        presented = (await request.form())?.get('csrf') ?? undefined;
      } catch (error) {
        if (error instanceof BodyTooLarge)
          return this.respond.error(
            {
              status: 413,
              error: 'too_large',
              title: 'Request rejected',
              message: 'The request is too large.',
            },
            json,
          );
        throw error;
      }
    }
    if (
      isSameOriginRequest((name) => request.header(name), this.origin) &&
      csrfTokenMatches(presented, session.csrfToken)
    )
      return null;
    this.#logger.warn(
      { event: 'csrf_refused', route: request.url.split('?', 1)[0], site: request.header('sec-fetch-site') },
      'security: cross-site request refused',
    );
    return this.respond.error(
      {
        status: 403,
        error: 'csrf',
        title: 'Request refused',
        message: 'This request did not come from this site; reload the page and try again.',
      },
      json,
    );
  }

  #failure(request: Pick<AuthRequest, 'header' | 'url'>, error: unknown, json: boolean): AuthResponse {
    const view = viewOfError(error, this.loginUrl());
    if (view.status >= 500) {
      const detail = failureDetail(error);
      this.#logger.error(
        { code: view.code ?? view.error, detail, route: request.url.split('?', 1)[0] },
        'request failed',
      );
    }
    const cookies =
      view.error === 'reauth_required' || view.error === 'not_logged_in'
        ? [serializeCookie(this.cookies.session, '', { secure: this.cookies.secure, maxAgeSeconds: 0 })]
        : [];
    return this.respond.error(view, json, cookies);
  }

  #limit(request: AuthRequest): ErrorView | null {
    if (!this.#limiter || request.ip === undefined) return null;
    const wait = this.#limiter.hit(request.ip);
    if (wait === 0) return null;
    return {
      status: 429,
      error: 'rate_limited',
      title: 'Slow down',
      message: `Too many attempts; try again in ${wait} s.`,
      ...retryAfterFields(wait),
    };
  }

  #wantsJson(request: Pick<AuthRequest, 'header'>, route: string): boolean {
    return (
      this.#options.json === true ||
      JSON_ROUTES.has(route) ||
      (request.header('accept') ?? '').includes('application/json')
    );
  }

  #info(session: Session): SessionInfo {
    return {
      user: session.userKey,
      account: session.userKey.slice('user:'.length),
      csrfToken: session.csrfToken,
      session,
    };
  }

  #sessionJson(info: SessionInfo) {
    return { user: info.user, account: info.account, csrf_token: info.csrfToken };
  }
}

/**
 * A login handler, for an adapter of your own (the built-in ones take the same options).
 *
 * @throws {@link SpotauthError} `INVALID_CONFIG` / `INVALID_SCOPE`, as {@link SpotauthHandler}'s constructor.
 */
export function createSpotauth(options: SpotauthOptions): SpotauthHandler {
  keepTickShapesAlive();
  return new SpotauthHandler(options);
}

function normaliseBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed !== '' && !/^\/[A-Za-z0-9._~/-]*$/.test(trimmed)) {
    throw configError(`basePath ${JSON.stringify(path.slice(0, 60))} must be a path such as /auth/spotify.`);
  }
  return trimmed;
}

function configError(message: string): SpotauthError {
  return new SpotauthError('INVALID_CONFIG', message);
}
