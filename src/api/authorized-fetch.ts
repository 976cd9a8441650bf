import { checkTimeoutMs } from '../core/config.js';
import { SpotauthError } from '../core/errors.js';
import { networkError } from '../core/network-error.js';
import { parseRetryAfter } from '../core/retry-after.js';
import { backoffDelay, delay } from '../tokens/retry.js';
import { ENDPOINT_SCOPES } from './endpoint-scopes.js';

// Runtime-neutral (no node: imports): the browser client (spotauth/browser) uses this same fetch.

/**
 * How Web API calls are retried. Only idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) are retried
 * after a 429, a 5xx or a network failure; a 401 is answered by one token refresh and one retry, whatever
 * the method. Durations in milliseconds.
 *
 * @see [Spotify: Rate limits](https://developer.spotify.com/documentation/web-api/concepts/rate-limits)
 */
export interface ApiRetryOptions {
  /**
   * A Retry-After up to this long, ms, is waited out (idempotent requests only); beyond it RATE_LIMITED is
   * thrown. Default 5000.
   */
  maxRetryAfterMs: number;
  /** Attempts in total for 429/5xx/network on idempotent requests. Default 3. */
  maxAttempts: number;
  /** First 5xx backoff, ms; doubles, with jitter. Default 250. */
  baseDelayMs: number;
  /** Ceiling of one backoff, ms. Default 4000. */
  maxDelayMs: number;
}

/**
 * How long each Web API request (each attempt: a retry gets its own) may take, body included, before it
 * fails with TIMEOUT: 30 s, as a token request (SpotifyAuthConfig.timeoutMs, after openid-client).
 */
export const DEFAULT_API_TIMEOUT_MS = 30_000;

/** 3 attempts; backoff from 250 ms to at most 4 s; a Retry-After of up to 5 s is waited out. */
export const DEFAULT_API_RETRY: ApiRetryOptions = {
  maxRetryAfterMs: 5_000,
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
};

/**
 * While Spotify says "retry after N s", every call in this process waits (or fails fast) instead of
 * hitting the wall again. By default one is shared by all clients for the same API URL; pass your own
 * (`SpotifyApiOptions.cooldown`) to keep a client apart.
 */
export class RateLimitCooldown {
  #until = 0;
  #reason: string | undefined;
  /** Extends the cooldown to `untilMs` (epoch ms) if that is later; `reason` e.g. `QUOTA_EXCEEDED`. */
  extend(untilMs: number, reason: string | undefined): void {
    if (untilMs > this.#until) {
      this.#until = untilMs;
      this.#reason = reason;
    }
  }
  /** Milliseconds left, 0 when calls may go out. */
  remainingMs(now = Date.now()): number {
    return Math.max(0, this.#until - now);
  }
  /** Why Spotify rate limited, from the 429 body of the latest extension (e.g. `QUOTA_EXCEEDED`). */
  get reason(): string | undefined {
    return this.#reason;
  }
}

const cooldowns = new Map<string, RateLimitCooldown>();
export function sharedCooldown(apiUrl: string): RateLimitCooldown {
  let cooldown = cooldowns.get(apiUrl);
  if (!cooldown) {
    cooldown = new RateLimitCooldown();
    cooldowns.set(apiUrl, cooldown);
  }
  return cooldown;
}

/**
 * Where the bearer token comes from: a valid access token, or — `force`, after Spotify answered 401 to
 * `rejected` — a freshly refreshed one (a source may return a newer token someone else already refreshed
 * instead of refreshing again). A TokenManager (server, CLI) or the browser client.
 */
export type AccessTokenSource = (force: boolean, rejected?: string) => Promise<string>;

/** The scopes a Web API operation needs (for MISSING_SCOPE errors); `scopesFor` below knows them all. */
export type ScopeLookup = (method: string, path: string) => readonly string[];

export interface AuthorizedFetchOptions {
  accessToken: AccessTokenSource;
  apiUrl: string;
  /** Names the missing scope in MISSING_SCOPE errors. Optional: the table is 4 KB the browser can skip. */
  scopesFor?: ScopeLookup;
  retry: ApiRetryOptions;
  cooldown: RateLimitCooldown;
  fetch: typeof fetch;
  /** Per attempt, covering the body too. Default DEFAULT_API_TIMEOUT_MS (30 s). */
  timeoutMs?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * The request object of SpotifyApi's calls (openapi-fetch's `Request` option, the typed helpers, paginate).
 * A WHATWG Request would be built only to be taken apart again (fetch builds its own from url + init);
 * this plain holder saves that construction and a header copy on every call. It carries what
 * createAuthorizedFetch and openapi-fetch read: url, method, headers (mutable), body, signal. Middleware
 * that needs a real Request can build one: `new Request(request.url, request)`.
 */
export class ApiRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: RequestInit['body'] | undefined;
  readonly signal: AbortSignal | undefined;
  constructor(input: string | URL, init: RequestInit = {}) {
    this.url = String(input);
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.body = init.body ?? undefined;
    this.signal = init.signal ?? undefined;
  }
  toString(): string {
    return this.url;
  }
}
const MAX_ERROR_BODY = 2_048;
/** Named in network errors. */
export const WEB_API = "Spotify's Web API";

/**
 * A fetch for Spotify's Web API: adds the bearer token; 401 → one refresh and one retry; 429 → honours
 * Retry-After up to a cap (shared cooldown), else RATE_LIMITED; 5xx/network → bounded jittered backoff
 * for idempotent requests; every other failure → a typed SpotauthError. Only 2xx responses come back.
 */
export function createAuthorizedFetch(
  options: AuthorizedFetchOptions,
): (input: Request | ApiRequest) => Promise<Response> {
  const { accessToken: token, retry, cooldown } = options;
  const timeoutMs = checkTimeoutMs(options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS, 'timeoutMs');

  return async (input: Request | ApiRequest): Promise<Response> => {
    const method = input.method.toUpperCase();
    const idempotent = IDEMPOTENT.has(method);
    let body: RequestInit['body'] | undefined;
    let headers: Headers;
    if (input instanceof ApiRequest) {
      // Our own request object: its body is already serialized and its headers are ours to modify.
      body = input.body;
      headers = input.headers;
    } else {
      // A real Request (e.g. from paginate): buffer the body once so that retries can resend it.
      body = input.body ? await input.arrayBuffer() : undefined;
      headers = new Headers(input.headers);
    }
    let refreshed = false;
    let forceToken = false;
    let sent: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const wait = cooldown.remainingMs();
      if (wait > retry.maxRetryAfterMs) throw rateLimited(Math.ceil(wait / 1000), cooldown.reason);
      if (wait > 0) await delay(wait);
      const retryable = idempotent && attempt < retry.maxAttempts;
      sent = await token(forceToken, sent);
      headers.set('authorization', `Bearer ${sent}`);
      forceToken = false;
      let response: Response;
      try {
        response = await options.fetch(input.url, {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: attemptSignal(input.signal, timeoutMs),
        });
      } catch (error) {
        // The caller's own abort is an answer, not a failure worth retrying.
        if (retryable && !input.signal?.aborted) {
          await delay(backoffDelay(retry, attempt));
          continue;
        }
        throw networkError(error, WEB_API, `${formatMs(timeoutMs)} (timeoutMs)`);
      }
      if (response.ok) return response;
      if (response.status === 401) {
        discardBody(response);
        if (!refreshed) {
          refreshed = true;
          forceToken = true;
          continue;
        }
        throw new SpotauthError('API_UNAUTHORIZED', 'Spotify rejected the token even after a refresh.', {
          status: 401,
        });
      }
      if (response.status === 429) {
        const { reason } = await readError(response);
        // Browsers usually cannot read Retry-After: Spotify does not expose it to scripts (WEB-API-2026 §4).
        const header = parseRetryAfter(response.headers.get('retry-after'));
        const retryAfter = header ?? 1;
        cooldown.extend(Date.now() + retryAfter * 1000, reason);
        // A used-up daily quota is not worth a retry when its wait is unknown.
        const hopeless = header === undefined && reason === 'QUOTA_EXCEEDED';
        if (retryable && !hopeless && retryAfter * 1000 <= retry.maxRetryAfterMs) continue;
        throw rateLimited(header, reason);
      }
      if (response.status >= 500) {
        const { message } = await readError(response);
        if (retryable) {
          await delay(backoffDelay(retry, attempt));
          continue;
        }
        throw new SpotauthError(
          'SPOTIFY_UNAVAILABLE',
          `${WEB_API} is unavailable${httpDetail(response.status, message)}.`,
          {
            status: response.status,
            transient: true,
          },
        );
      }
      throw await apiClientError(
        response,
        method,
        new URL(input.url).pathname.slice(new URL(options.apiUrl).pathname.length),
        options.scopesFor,
      );
    }
  };
}

/** `retryAfter` undefined: Spotify's wait could not be read (a browser without Expose-Headers). */
function rateLimited(retryAfter: number | undefined, reason: string | undefined): SpotauthError {
  const when = retryAfter === undefined ? 'later' : `in ${formatSeconds(retryAfter)}`;
  return new SpotauthError(
    'RATE_LIMITED',
    reason === 'QUOTA_EXCEEDED'
      ? `The app's Spotify quota is used up; try again ${when}.`
      : `Spotify is rate limiting the app; try again ${when}.`,
    {
      status: 429,
      transient: true,
      retryAfterSeconds: retryAfter,
      reason: reason || undefined,
    },
  );
}

function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : formatSeconds(ms / 1_000);
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.ceil(seconds)} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The attempt's signal: its own timeout (as a token request's, it keeps running while the body is read),
 * and the caller's signal when there is one.
 */
function attemptSignal(caller: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return caller === undefined ? timeout : AbortSignal.any([caller, timeout]);
}

/** Spotify's error bodies are usually `{"error":{"status","message","reason"?}}`, sometimes plain text. */
async function readError(response: Response): Promise<{ message?: string; reason?: string; text: string }> {
  const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
  try {
    const body = JSON.parse(text) as {
      error?: { message?: unknown; reason?: unknown } | string;
      error_description?: unknown;
    };
    const error = typeof body.error === 'object' && body.error !== null ? body.error : undefined;
    return {
      text,
      message: typeof error?.message === 'string' ? error.message.slice(0, 200) : undefined,
      reason: typeof error?.reason === 'string' ? error.reason.slice(0, 64) : undefined,
    };
  } catch {
    return { text };
  }
}

/**
 * Lets go of a body we will not read, without waiting: a body that is one branch of a tee (Next.js's
 * patched fetch tees GET responses for its cache) cancels only once the other branch does, so awaiting
 * the cancel can hang for good.
 */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/** A typed error for a Web API 4xx (other than 401/429): missing scope, allowlist refusal, or a generic refusal. */
export async function apiClientError(
  response: Response,
  method: string,
  path: string,
  scopes: ScopeLookup | undefined,
): Promise<SpotauthError> {
  const status = response.status;
  const { message, text } = await readError(response);
  if (status === 403) {
    if (message === 'Insufficient client scope') {
      const requiredScopes = scopes?.(method, path) ?? [];
      const needed = requiredScopes.length ? `the scope ${requiredScopes.join(' or ')}` : 'a scope';
      return new SpotauthError('MISSING_SCOPE', `This call needs ${needed}; log in again with it.`, {
        status,
        requiredScopes,
      });
    }
    // A development-mode app whose owner has no Premium is refused for every user (WEB-API-2026.md §1); the
    // body may be JSON or plain text [UNCONF]: either way it must not read as an allowlist problem.
    const owner = /premium subscription required for the owner/i.test(message ?? text);
    if (owner)
      return new SpotauthError(
        'API_ERROR',
        "Spotify refused the app: its owner's account has no active Premium subscription, which development-mode apps need (after a change, allow Spotify a few hours).",
        { status },
      );
    if (message === undefined && text.trim().length > 0) {
      // Development-mode apps: users not on the dashboard allowlist get a plain-text 403 (FACTS §3.3).
      return new SpotauthError(
        'USER_NOT_ALLOWLISTED',
        "Spotify refused this user: not on the app's allowlist (Dashboard → Settings → User Management).",
        { status },
      );
    }
  }
  return new SpotauthError('API_ERROR', `${WEB_API} refused the request${httpDetail(status, message)}.`, {
    status,
  });
}

/** ` (HTTP 503): Spotify's message` for a message. */
function httpDetail(status: number, message: string | undefined): string {
  return ` (HTTP ${status})${message ? `: ${message}` : ''}`;
}

/**
 * The scopes Spotify's OpenAPI spec lists for an operation, matching `/tracks/abc` against
 * `/tracks/{id}`; empty for an unknown operation or one that needs none. Used to name the missing scope
 * in `MISSING_SCOPE` errors.
 */
export function scopesFor(method: string, path: string): readonly string[] {
  const segments = path.split('/');
  for (const [key, scopes] of Object.entries(ENDPOINT_SCOPES)) {
    const [keyMethod, keyPath] = key.split(' ') as [string, string];
    if (keyMethod !== method) continue;
    const pattern = keyPath.split('/');
    if (
      pattern.length === segments.length &&
      pattern.every((part, i) => part.startsWith('{') || part === segments[i])
    ) {
      return scopes;
    }
  }
  return [];
}
