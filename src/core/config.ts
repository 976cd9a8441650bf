import { SpotauthError } from './errors.js';
import { assertValidRedirectUri } from './redirect-uri.js';

export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
export const DEFAULT_API_URL = 'https://api.spotify.com/v1';

export interface SpotifyAuthConfig {
  clientId: string;
  /** Present → confidential client (client_secret_basic). Absent → public client (PKCE only). */
  clientSecret?: string;
  /** The redirect URI as registered with Spotify. Optional for apps that only use client credentials. */
  redirectUri?: string;
  /** Default https://accounts.spotify.com. */
  accountsUrl?: string;
  /** Default https://api.spotify.com/v1. */
  apiUrl?: string;
  /**
   * Allow plain-http accounts/API URLs. Only for the local emulator: tokens and secrets would otherwise
   * cross the network unencrypted. Loopback URLs (127.0.0.1, [::1], localhost) are the only ones it unlocks.
   */
  allowInsecureHttp?: boolean;
  /** Timeout for each token-endpoint request, ms. Default 30 s (as openid-client). */
  timeoutMs?: number;
  /** Injected fetch (tests, proxies). Default: global fetch. */
  fetch?: typeof fetch;
  /** Injected clock, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface ResolvedConfig {
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string | undefined;
  accountsUrl: URL;
  apiUrl: URL;
  insecure: boolean;
  timeoutMs: number;
  fetch: typeof fetch;
  now: () => number;
}

const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export function resolveConfig(config: SpotifyAuthConfig): ResolvedConfig {
  if (!config || typeof config.clientId !== 'string' || !CLIENT_ID_PATTERN.test(config.clientId)) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      'A Spotify client id is required (letters, digits, "_", "-", "."; find it in the Spotify Developer Dashboard).',
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
  const timeoutMs = config.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SpotauthError('INVALID_CONFIG', 'timeoutMs must be a positive number of milliseconds.');
  }
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

function parseServiceUrl(name: string, value: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SpotauthError('INVALID_CONFIG', `${name} ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.protocol === 'https:') return withoutTrailingSlash(url);
  if (url.protocol === 'http:') {
    if (!insecure) {
      throw new SpotauthError(
        'INSECURE_URL',
        `${name} ${url.origin} uses plain http; that is only allowed for the local emulator, with allowInsecureHttp: true.`,
      );
    }
    const host = url.hostname;
    if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') {
      throw new SpotauthError(
        'INSECURE_URL',
        `${name} ${url.origin} uses plain http on a non-loopback host; plain http is only allowed on 127.0.0.1, [::1] or localhost (a local emulator).`,
      );
    }
    return withoutTrailingSlash(url);
  }
  throw new SpotauthError('INVALID_CONFIG', `${name} must be an https URL.`);
}

function withoutTrailingSlash(url: URL): URL {
  const copy = new URL(url.href);
  copy.pathname = copy.pathname.replace(/\/+$/, '');
  return copy;
}
