export { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';
export {
  type AccessToken,
  DEFAULT_LOCK_LEASE_MS,
  SIX_MONTHS_MS,
  type SpotifyIdentity,
  TokenManager,
  type TokenManagerEvents,
  type TokenManagerOptions,
  userKey,
} from './token-manager.js';
