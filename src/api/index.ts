export {
  type AccessTokenSource,
  type ApiRetryOptions,
  DEFAULT_API_RETRY,
  RateLimitCooldown,
  scopesFor,
} from './authorized-fetch.js';
export {
  createSpotifyApi,
  SpotifyApi,
  type SpotifyApiOptions,
  type SpotifyPaths,
  type SpotifySchemas,
} from './client.js';
export { fetchCurrentUser, type SpotifyProfile } from './profile.js';
export {
  type SdkAccessToken,
  SdkAuthStrategy,
  type SdkTokenSource,
  TokenManagerAuthStrategy,
} from './sdk-adapter.js';
