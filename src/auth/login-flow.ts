/**
 * The login sequence, in one place, for every way spotauth logs someone in: the handler behind every
 * framework adapter and the standalone server, and the CLI's loopback login.
 *
 *   beginLogin     → a transaction (state, PKCE verifier, redirect URI, scopes, return path) + the authorize URL
 *   checkCallback  → the callback validated against the transaction: state first, exact, constant-time;
 *                    no network call, so a forged or replayed callback costs no token request
 *   finishLogin    → code exchange, GET /v1/me, saveGrant
 *
 * Where the transaction lives between the two halves (the store, the CLI's memory) and what follows (a
 * session cookie, a line in the terminal) is the caller's.
 */
import { fetchCurrentUser, type SpotifyProfile } from '../api/profile.js';
import type { SpotifyAuth, ValidatedCallback } from '../core/spotify-auth.js';
import type { TokenRecord } from '../stores/types.js';
import type { TokenManager } from '../tokens/token-manager.js';
import type { LoginTransaction } from './sessions.js';

export interface BeginLoginOptions {
  scope: readonly string[];
  /** Ask Spotify to show the consent dialog again (e.g. to switch accounts). */
  showDialog?: boolean;
  /** Overrides the configured redirect URI (the CLI's loopback port). */
  redirectUri?: string;
  /** Where to go after login; already checked by the caller (safeReturnTo). Default `/`. */
  returnTo?: string;
}

export async function beginLogin(
  auth: SpotifyAuth,
  options: BeginLoginOptions,
): Promise<{ url: URL; transaction: LoginTransaction }> {
  const request = await auth.createAuthorizationRequest({
    scope: [...options.scope],
    ...(options.showDialog ? { showDialog: true } : {}),
    ...(options.redirectUri ? { redirectUri: options.redirectUri } : {}),
  });
  return {
    url: request.url,
    transaction: {
      state: request.state,
      codeVerifier: request.codeVerifier,
      redirectUri: request.redirectUri,
      scope: request.scope,
      returnTo: options.returnTo ?? '/',
    },
  };
}

/** Throws the typed callback errors (STATE_*, ACCESS_DENIED, AUTHORIZATION_ERROR, …) without any request. */
export function checkCallback(
  auth: SpotifyAuth,
  transaction: LoginTransaction,
  callback: URL | URLSearchParams,
): ValidatedCallback {
  return auth.validateCallback(callback, { state: transaction.state });
}

export interface FinishedLogin {
  grant: TokenRecord;
  profile: SpotifyProfile;
}

export async function finishLogin(
  context: { auth: SpotifyAuth; tokens: TokenManager; meta?: Record<string, string> },
  transaction: LoginTransaction,
  validated: ValidatedCallback,
): Promise<FinishedLogin> {
  const { auth, tokens } = context;
  const tokenSet = await auth.exchangeCode(validated, {
    codeVerifier: transaction.codeVerifier,
    redirectUri: transaction.redirectUri,
    requestedScope: transaction.scope,
  });
  const profile = await fetchCurrentUser(auth.config.apiUrl.href, tokenSet.accessToken, auth.config.fetch);
  const grant = await tokens.saveGrant(tokenSet, profile, context.meta);
  return { grant, profile };
}
