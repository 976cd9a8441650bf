export {
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_API_URL,
  type ResolvedConfig,
  resolveConfig,
  type SpotifyAuthConfig,
} from './config.js';
export { authConfigFromEnv, ENV, type Env } from './env.js';
export {
  type ErrorCode,
  ErrorCodes,
  isSpotauthError,
  isTerminalGrantError,
  SpotauthError,
} from './errors.js';
export { assertValidRedirectUri, isLoopbackLiteral, redirectUriMatches } from './redirect-uri.js';
export { parseRetryAfter } from './retry-after.js';
export { safeEqual } from './safe-equal.js';
export {
  describeScope,
  isSpotifyScope,
  parseGrantedScope,
  parseScopes,
  SPOTIFY_SCOPES,
  type SpotifyScope,
} from './scopes.js';
export {
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  type CallbackChecks,
  type ExchangeOptions,
  SpotifyAuth,
  type ValidatedCallback,
} from './spotify-auth.js';
export type { TokenSet } from './token-endpoint.js';
