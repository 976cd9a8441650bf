import { SpotauthError } from './errors.js';

/**
 * A grant's lifecycle, shared by the token manager (server, CLI) and the browser client: when a refresh
 * fails terminally, why the user must log in again, and the error that says so.
 */

/**
 * 182 days in milliseconds: Spotify's refresh tokens die 6 months after the user's original consent
 * (since mid-2026), and refreshing does not extend that.
 *
 * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 */
export const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

/**
 * Why a user must log in again: `'revoked'` (Spotify answered `invalid_grant`: the user removed the app,
 * or the token was replaced), `'expired'` (past the 6-month refresh-token lifetime), `'invalid_client'`
 * (the app's client id or secret was rejected).
 *
 * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 */
export type ReauthReason = 'revoked' | 'expired' | 'invalid_client';

/** Why a terminal refresh failure (INVALID_GRANT / INVALID_CLIENT) ends the grant. */
export function reauthReasonFor(
  error: SpotauthError,
  refreshTokenDeadline: number | undefined,
  now: number,
): ReauthReason {
  if (error.code === 'INVALID_CLIENT') return 'invalid_client';
  return refreshTokenDeadline !== undefined && now >= refreshTokenDeadline ? 'expired' : 'revoked';
}

export function reauthRequiredError(reason: ReauthReason | undefined): SpotauthError {
  const why =
    reason === 'expired'
      ? 'the 6-month refresh-token lifetime has passed'
      : reason === 'invalid_client'
        ? "Spotify rejected the app's credentials"
        : 'access was revoked on Spotify';
  return new SpotauthError(
    'REAUTH_REQUIRED',
    `This Spotify login is no longer valid (${why}); log in again.`,
    { spotifyError: reason },
  );
}
