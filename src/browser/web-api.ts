import { SpotifyApi } from '../api/client.js';
import { type WebApiFetchOptions, webApiSettings } from './api-fetch.js';
import type { BrowserAuth } from './browser-auth.js';

export type { SpotifyApi, SpotifyPaths, SpotifySchemas } from '../api/client.js';

/**
 * spotauth's typed Web API client (openapi-fetch over Spotify's OpenAPI spec, the same class the server
 * uses) with this browser login's tokens: `const api = browserApi(auth); await api.topTracks(10);`
 * `api.client.GET('/me/top/{type}', { params: { path: { type: 'artists' } } })`.
 */
export function browserApi(
  auth: BrowserAuth,
  /** As webApiFetch's: over the login's `apiRetry` / `apiTimeoutMs`. */
  options: WebApiFetchOptions = {},
): SpotifyApi {
  return new SpotifyApi(webApiSettings(auth, options));
}
