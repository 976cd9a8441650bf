import type { SpotifyAuthConfig } from './config.js';
import { DEFAULT_ACCOUNTS_URL, DEFAULT_API_URL } from './config.js';

/** An environment to read settings from, such as `process.env`. */
export type Env = Record<string, string | undefined>;

/** Names of the environment variables every part of spotauth reads for the Spotify app. */
export const ENV = {
  /** The app's client id ({@link SpotifyAuthConfig.clientId}). */
  clientId: 'SPOTIFY_CLIENT_ID',
  /** The client secret, for a confidential client. */
  clientSecret: 'SPOTIFY_CLIENT_SECRET',
  /** The registered redirect URI. */
  redirectUri: 'SPOTIFY_REDIRECT_URI',
  /** The accounts-service URL; a local emulator's in development. */
  accountsUrl: 'SPOTAUTH_ACCOUNTS_URL',
  /** The Web API URL; a local emulator's in development. */
  apiUrl: 'SPOTAUTH_API_URL',
} as const;

function isLoopbackHttp(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname);
  } catch {
    return false;
  }
}

/**
 * The app configuration from the environment — SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET,
 * SPOTIFY_REDIRECT_URI, SPOTAUTH_ACCOUNTS_URL, SPOTAUTH_API_URL; `overrides` win over it.
 * Plain http is allowed only when a service URL is loopback http — that is, pointed at a local emulator —
 * never for a remote host. Nothing is checked here: pass the result to {@link SpotifyAuth}, which is
 * where a missing client id throws `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * const auth = new SpotifyAuth(authConfigFromEnv(process.env));
 * ```
 */
export function authConfigFromEnv(env: Env, overrides: Partial<SpotifyAuthConfig> = {}): SpotifyAuthConfig {
  const accountsUrl = overrides.accountsUrl ?? (env[ENV.accountsUrl] || DEFAULT_ACCOUNTS_URL);
  const apiUrl = overrides.apiUrl ?? (env[ENV.apiUrl] || DEFAULT_API_URL);
  const emulated = isLoopbackHttp(accountsUrl) || isLoopbackHttp(apiUrl);
  return {
    clientId: overrides.clientId ?? env[ENV.clientId] ?? '',
    clientSecret: 'clientSecret' in overrides ? overrides.clientSecret : env[ENV.clientSecret] || undefined,
    redirectUri: overrides.redirectUri ?? (env[ENV.redirectUri] || undefined),
    accountsUrl,
    apiUrl,
    allowInsecureHttp: overrides.allowInsecureHttp ?? emulated,
    ...(overrides.timeoutMs !== undefined ? { timeoutMs: overrides.timeoutMs } : {}),
    ...(overrides.fetch !== undefined ? { fetch: overrides.fetch } : {}),
  };
}
