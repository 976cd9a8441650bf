export { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';
export {
  type AccessToken,
  SIX_MONTHS_MS,
  type SpotifyIdentity,
  TokenManager,
  type TokenManagerEvents,
  type TokenManagerOptions,
  userKey,
} from './token-manager.js';
