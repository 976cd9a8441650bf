import { SpotauthError } from '../core/errors.js';
import { apiClientError, scopesFor } from './authorized-fetch.js';
import type { components } from './spotify-web-api.js';

export type SpotifyProfile = components['schemas']['PrivateUserObject'] & { id: string };

/**
 * GET /v1/me with a fresh access token, before any grant is stored (the login needs the account id to
 * know under which key to store it). Fields removed for development-mode apps are simply absent.
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
