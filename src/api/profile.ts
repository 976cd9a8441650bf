import { SpotauthError } from '../core/errors.js';
import { apiClientError, scopesFor } from './authorized-fetch.js';
import type { components } from './spotify-web-api.js';

/** The current user's profile (`GET /me`), with `id` always present. */
export type SpotifyProfile = components['schemas']['PrivateUserObject'] & {
  /** The user's Spotify id. */
  id: string;
};

/**
 * GET /v1/me with a fresh access token, before any grant is stored (the login needs the account id to
 * know under which key to store it). Fields removed for development-mode apps are simply absent.
 *
 * @param apiUrl - The Web API base URL (`auth.config.apiUrl.href`).
 * @param fetchImpl - Default: the global `fetch`. The request times out after 15 s.
 * @throws {@link SpotauthError} `NETWORK` (transient; also when the 15 s pass); `SPOTIFY_UNAVAILABLE`
 * (5xx); `USER_NOT_ALLOWLISTED` (403: a development-mode app and a user not on its allowlist);
 * `MISSING_SCOPE`; `API_ERROR` (any other refusal — transient for a 429 — or a profile without an id).
 * @see [Spotify: Get current user's profile](https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile)
 */
export async function fetchCurrentUser(
  apiUrl: string,
  accessToken: string,
  fetchImpl: typeof fetch = fetch,
): Promise<SpotifyProfile> {
  let response: Response;
  try {
    response = await fetchImpl(`${apiUrl.replace(/\/+$/, '')}/me`, {
      headers: { authorization: `Bearer ${accessToken}` },
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new SpotauthError('NETWORK', "Could not reach Spotify's Web API to read the user's profile.", {
      transient: true,
    });
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw await apiClientError(response, 'GET', '/me', scopesFor);
  }
  if (!response.ok) {
    throw new SpotauthError(
      response.status >= 500 ? 'SPOTIFY_UNAVAILABLE' : 'API_ERROR',
      `Reading the Spotify profile failed (HTTP ${response.status}).`,
      {
        status: response.status,
        transient: response.status >= 500 || response.status === 429,
      },
    );
  }
  const profile = (await response.json()) as SpotifyProfile;
  if (!profile || typeof profile.id !== 'string') {
    throw new SpotauthError('API_ERROR', 'Spotify returned a profile without an id.');
  }
  return profile;
}
