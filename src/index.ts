/**
 * spotauth's root entry point: what an application needs to log users in with Spotify, keep their tokens
 * valid, and call the Web API. Every name here is a semver promise, so the list is short on purpose
 * (`test/public-surface.test.ts` pins it). Store backends and what a store author needs are in
 * `spotauth/stores`; the server, framework adapters, browser client, emulator, broker client and the store
 * contract suite have their own subpaths. Option sub-types are reachable by indexed access
 * (`SpotifyApiOptions['retry']`).
 *
 * @module spotauth
 */

export { SpotifyApi, type SpotifyApiOptions, type SpotifySchemas } from './api/client.js';
export { fetchCurrentUser, type SpotifyProfile } from './api/profile.js';
export { TokenManagerAuthStrategy } from './api/sdk-adapter.js';
export type { SpotifyAuthConfig } from './core/config.js';
export { authConfigFromEnv } from './core/env.js';
export { type ErrorCode, ErrorCodes, isSpotauthError, SpotauthError } from './core/errors.js';
export { SPOTIFY_SCOPES, type SpotifyScope } from './core/scopes.js';
export {
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  SpotifyAuth,
  type ValidatedCallback,
} from './core/spotify-auth.js';
export type { TokenSet } from './core/token-endpoint.js';
export { Keyring } from './stores/encryption.js';
export { type CreateStoreOptions, createStore } from './stores/index.js';
export type { TokenRecord, TokenStore } from './stores/types.js';
export {
  type AccessToken,
  TokenManager,
  type TokenManagerEvents,
  type TokenManagerOptions,
} from './tokens/token-manager.js';
