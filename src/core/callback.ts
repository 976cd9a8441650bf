import { SpotauthError } from './errors.js';
import { safeEqual } from './safe-equal.js';
import { stripControls } from './text.js';

const MAX_CODE_LENGTH = 4096;
const MAX_CALLBACK_LENGTH = 16 * 1024;
/** The parameters a callback may carry; each at most once. */
export const CALLBACK_PARAMS = ['state', 'code', 'error', 'error_description', 'error_uri', 'iss'] as const;

/** A callback URL, its query string, or its parsed parameters. */
export function callbackParams(callback: string | URL | URLSearchParams): URLSearchParams {
  if (callback instanceof URLSearchParams) return callback;
  if (callback instanceof URL) return callback.searchParams;
  if (typeof callback !== 'string' || callback.length > MAX_CALLBACK_LENGTH) {
    throw new SpotauthError('PARAM_TOO_LONG', 'The callback URL is missing or too long.');
  }
  const trimmed = callback.trim();
  try {
    return new URL(trimmed).searchParams;
  } catch {
    return new URLSearchParams(trimmed.startsWith('?') ? trimmed.slice(1) : trimmed);
  }
}

/**
 * Checks a callback against the login's state, before anything else and without any network call, and
 * returns its code. The state is checked first, so a forged `error=access_denied` is a state error
 * (SECURITY §1.1 e). Throws PARAM_DUPLICATED / STATE_MISSING / STATE_MISMATCH / ACCESS_DENIED /
 * AUTHORIZATION_ERROR / CODE_MISSING / PARAM_TOO_LONG. Runtime-neutral (server, CLI and browser).
 */
export function checkCallback(params: URLSearchParams, expectedState: string): string {
  for (const name of CALLBACK_PARAMS) {
    if (params.getAll(name).length > 1) {
      throw new SpotauthError('PARAM_DUPLICATED', `The callback has more than one "${name}" parameter.`);
    }
  }
  const state = params.get('state');
  if (state === null || state === '') {
    throw new SpotauthError(
      'STATE_MISSING',
      'The callback has no state, so it matches no login; start the login again.',
    );
  }
  if (typeof expectedState !== 'string' || expectedState === '' || !safeEqual(state, expectedState)) {
    throw new SpotauthError(
      'STATE_MISMATCH',
      'The callback does not belong to this login (state mismatch); start the login again.',
    );
  }
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description') ?? undefined;
    if (error === 'access_denied') {
      throw new SpotauthError('ACCESS_DENIED', 'The user did not allow access on Spotify.', {
        spotifyError: error,
      });
    }
    throw new SpotauthError(
      'AUTHORIZATION_ERROR',
      `Spotify returned an error instead of a code: ${stripControls(error.slice(0, 64))}.`,
      {
        spotifyError: error.slice(0, 64),
        spotifyErrorDescription: description,
      },
    );
  }
  const code = params.get('code');
  if (code === null || code === '') {
    throw new SpotauthError(
      'CODE_MISSING',
      'The callback has neither a code nor an error; start the login again.',
    );
  }
  if (code.length > MAX_CODE_LENGTH) {
    throw new SpotauthError('PARAM_TOO_LONG', 'The callback code is implausibly long.');
  }
  return code;
}
