import type { ApiRetryOptions, RateLimitCooldown } from '../api/authorized-fetch.js';
import { SpotifyApi } from '../api/client.js';
import type { BrowserAuth } from './browser-auth.js';

export type { SpotifyApi, SpotifyPaths, SpotifySchemas } from '../api/client.js';

/**
 * spotauth's typed Web API client (openapi-fetch over Spotify's OpenAPI spec, the same class the server
 * uses) with this browser login's tokens: `const api = browserApi(auth); await api.topTracks(10);`
 * `api.client.GET('/me/top/{type}', { params: { path: { type: 'artists' } } })`.
 */
export function browserApi(
  auth: BrowserAuth,
  options: { retry?: Partial<ApiRetryOptions>; cooldown?: RateLimitCooldown; timeoutMs?: number } = {},
): SpotifyApi {
  return new SpotifyApi({
    accessToken: auth.tokenSource,
    apiUrl: auth.apiUrl,
    fetch: auth.config.fetch,
    timeoutMs: auth.apiTimeoutMs,
    ...options,
  });
}
