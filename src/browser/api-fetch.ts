import {
  ApiRequest,
  type ApiRetryOptions,
  type AuthorizedFetchOptions,
  createAuthorizedFetch,
  type RateLimitCooldown,
  sharedCooldown,
} from '../api/authorized-fetch.js';
import { SpotauthError } from '../core/errors.js';
import type { BrowserAuth } from './browser-auth.js';

// A function of its own, not a BrowserAuth method, so that an app which only needs tokens (the Web
// Playback SDK's getOAuthToken, its own requests) does not ship it: a bundler drops an unused import,
// never an unused method.

/** Overrides, for one fetch, of what the login's `apiRetry` / `apiTimeoutMs` say. */
export interface WebApiFetchOptions {
  /** Per field, over the login's `apiRetry`. */
  retry?: Partial<ApiRetryOptions>;
  /** Each attempt's timeout, ms, instead of the login's `apiTimeoutMs`. */
  timeoutMs?: number;
  /** While Spotify says "retry after N s": by default shared by every client of the same Web API URL. */
  cooldown?: RateLimitCooldown;
}

/** A fetch for Spotify's Web API: a path (`'/me'`) or a full Web API URL, and the usual init. */
export type WebApiFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * fetch for Spotify's Web API with this login's tokens: `const spotify = webApiFetch(auth); await
 * spotify('/me')`. Adds the bearer token; a 401 gets one refresh and one retry; a 429 waits out
 * Retry-After up to a cap (default 5 s), then throws RATE_LIMITED; 5xx and network failures of idempotent
 * requests are retried with backoff. Resolves only with 2xx responses; everything else is a
 * SpotauthError. The token is never sent to another URL (INVALID_CONFIG, and no request).
 */
export function webApiFetch(auth: BrowserAuth, options: WebApiFetchOptions = {}): WebApiFetch {
  const apiUrl = auth.apiUrl;
  const send = createAuthorizedFetch(webApiSettings(auth, options));
  return (input, init = {}) => {
    const text = String(input);
    const url = text.startsWith('/') ? `${apiUrl}${text}` : text;
    if (!url.startsWith(`${apiUrl}/`)) {
      return Promise.reject(
        new SpotauthError(
          'INVALID_CONFIG',
          `webApiFetch calls only ${apiUrl}/…: the token goes nowhere else.`,
        ),
      );
    }
    return send(new ApiRequest(url, init));
  };
}

/**
 * How Web API calls with this login's tokens are made: its tokens, URL and fetch, and its `apiRetry` /
 * `apiTimeoutMs` under the caller's overrides. webApiFetch and browserApi (the typed client) both start here.
 */
export function webApiSettings(auth: BrowserAuth, options: WebApiFetchOptions): AuthorizedFetchOptions {
  return {
    accessToken: auth.tokenSource,
    apiUrl: auth.apiUrl,
    retry: { ...auth.apiRetry, ...options.retry },
    cooldown: options.cooldown ?? sharedCooldown(auth.apiUrl),
    fetch: auth.config.fetch,
    timeoutMs: options.timeoutMs ?? auth.apiTimeoutMs,
  };
}
