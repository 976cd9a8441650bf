import { SpotauthError } from './errors.js';
import { assertValidRedirectUri } from './redirect-uri.js';

/**
 * Spotify's accounts service: `/authorize` and `/api/token` live under it. Spotify publishes no discovery
 * document, so the paths are fixed.
 *
 * @see [Spotify: Authorization code flow](https://developer.spotify.com/documentation/web-api/tutorials/code-flow)
 */
export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
/**
 * Spotify's Web API base URL; endpoint paths (`/me`, `/me/top/tracks`, …) are appended to it.
 *
 * @see [Spotify: API calls](https://developer.spotify.com/documentation/web-api/concepts/api-calls)
 */
export const DEFAULT_API_URL = 'https://api.spotify.com/v1';

/**
 * The Spotify app as {@link SpotifyAuth} is given it. Only `clientId` is required; the rest have defaults
 * fit for production against Spotify itself. Checked when {@link SpotifyAuth} is constructed.
 */
export interface SpotifyAuthConfig {
  /**
   * The app's client id from the Spotify Developer Dashboard (letters, digits, `_`, `-`, `.`; at most 128).
   */
  clientId: string;
  /**
   * Present → confidential client: token requests authenticate with HTTP Basic (client_secret_basic, RFC
   * 6749 §2.3.1) and the client credentials grant is available. Absent → public client (PKCE only).
   * PKCE is used in both cases.
   */
  clientSecret?: string;
  /** The redirect URI as registered with Spotify. Optional for apps that only use client credentials. */
  redirectUri?: string;
  /** Base URL of the accounts service. Default `https://accounts.spotify.com`; a local emulator's URL in tests. */
  accountsUrl?: string;
  /** Base URL of the Web API. Default `https://api.spotify.com/v1`. */
  apiUrl?: string;
  /**
   * Allow plain-http accounts/API URLs. Only for the local emulator: tokens and secrets would otherwise
   * cross the network unencrypted. Loopback URLs (127.0.0.1, [::1], localhost) are the only ones it unlocks.
   */
  allowInsecureHttp?: boolean;
  /** Timeout for each token-endpoint request, in milliseconds. Default 30 000 (30 s, as openid-client). */
  timeoutMs?: number;
  /** The fetch used for token requests (tests, proxies). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** The clock that token expiry times are computed with, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** A {@link SpotifyAuthConfig} after `resolveConfig`: checked, with every default filled in. */
export interface ResolvedConfig {
  /** The app's client id. */
  clientId: string;
  /** The client secret; undefined for a public (PKCE-only) client. */
  clientSecret: string | undefined;
  /** The registered redirect URI, already checked against Spotify's rules; undefined if none was given. */
  redirectUri: string | undefined;
  /** Accounts-service base URL, without a trailing slash. */
  accountsUrl: URL;
  /** Web API base URL, without a trailing slash. */
  apiUrl: URL;
  /** Whether plain-http loopback URLs were allowed (`allowInsecureHttp`). */
  insecure: boolean;
  /** Per-request token-endpoint timeout, in milliseconds. */
  timeoutMs: number;
  /** The fetch to use, bound to `globalThis` when it is the global one. */
  fetch: typeof fetch;
  /** The clock, in epoch milliseconds. */
  now: () => number;
}

const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Checks an app configuration and fills in its defaults. {@link SpotifyAuth}'s constructor calls it, so
 * a bad configuration fails at startup rather than at the first login.
 *
 * @throws {@link SpotauthError} `INVALID_CONFIG` for a missing or malformed client id, an empty secret, a
 * URL that does not parse or is not https, or a non-positive timeout; `INSECURE_URL` for plain http
 * without `allowInsecureHttp`, or on a non-loopback host; `INVALID_REDIRECT_URI` (see
 * {@link assertValidRedirectUri}).
 */
export function resolveConfig(config: SpotifyAuthConfig): ResolvedConfig {
  if (!config || typeof config.clientId !== 'string' || !CLIENT_ID_PATTERN.test(config.clientId)) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      'A Spotify client id is required (letters, digits, "_", "-", "."; see the Developer Dashboard).',
    );
  }
  if (
    config.clientSecret !== undefined &&
    (typeof config.clientSecret !== 'string' || !config.clientSecret)
  ) {
    throw new SpotauthError('INVALID_CONFIG', 'The client secret, when given, must be a non-empty string.');
  }
  const insecure = config.allowInsecureHttp === true;
  const accountsUrl = parseServiceUrl('accountsUrl', config.accountsUrl ?? DEFAULT_ACCOUNTS_URL, insecure);
  const apiUrl = parseServiceUrl('apiUrl', config.apiUrl ?? DEFAULT_API_URL, insecure);
  if (config.redirectUri !== undefined) assertValidRedirectUri(config.redirectUri);
  const timeoutMs = checkTimeoutMs(config.timeoutMs ?? 30_000, 'timeoutMs');
  return {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri: config.redirectUri,
    accountsUrl,
    apiUrl,
    insecure,
    timeoutMs,
    // Bound: browsers refuse a fetch called as a method of another object ("Illegal invocation").
    fetch: config.fetch ?? globalThis.fetch.bind(globalThis),
    now: config.now ?? Date.now,
  };
}

/** A positive, finite number of milliseconds, or INVALID_CONFIG naming the option. */
export function checkTimeoutMs(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new SpotauthError('INVALID_CONFIG', `${name} must be a positive number of milliseconds.`);
  }
  return value;
}

function parseServiceUrl(name: string, value: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SpotauthError('INVALID_CONFIG', `${name} ${JSON.stringify(value)} is not an absolute URL.`);
  }
  const local = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && insecure && local)) {
    return withoutTrailingSlash(url);
  }
  if (url.protocol === 'http:') {
    throw new SpotauthError(
      'INSECURE_URL',
      `${name} ${url.origin} is plain http: allowed only for a local emulator (127.0.0.1, [::1] or localhost) with allowInsecureHttp: true.`,
    );
  }
  throw new SpotauthError('INVALID_CONFIG', `${name} must be an https URL.`);
}

function withoutTrailingSlash(url: URL): URL {
  const copy = new URL(url.href);
  copy.pathname = copy.pathname.replace(/\/+$/, '');
  return copy;
}
