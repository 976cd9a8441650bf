/**
 * spotauth/browser: Spotify login for apps with no backend (PKCE in the page, one refresh across tabs).
 * Runs in browsers as is: no Node built-ins, no bundler needed (dist/browser/index.js is one ES module).
 */
export type { AccessTokenSource, ApiRetryOptions } from '../api/authorized-fetch.js';
export { type ErrorCode, ErrorCodes, isSpotauthError, SpotauthError } from '../core/errors.js';
export type { ReauthReason } from '../core/grant.js';
export { isSpotifyScope, SPOTIFY_SCOPES, type SpotifyScope } from '../core/scopes.js';
export { type WebApiFetch, type WebApiFetchOptions, webApiFetch } from './api-fetch.js';
export {
  type AccessToken,
  BrowserAuth,
  type BrowserAuthOptions,
  type LoginOptions,
  type LoginResult,
  type SessionListener,
} from './browser-auth.js';
export type { BrowserSession } from './grant-record.js';
export { BrowserAuthStrategy, sdkFetch } from './sdk.js';
export {
  type BrowserTokenStorage,
  IndexedDbStorage,
  MemoryStorage,
  type StorageChoice,
  WebStorage,
} from './storage.js';
export { browserApi } from './web-api.js';
