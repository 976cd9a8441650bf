/**
 * The one error table: for every error code, what an HTTP client gets (status and a stable snake_case
 * `error`), what the CLI exits with, whether retrying may help, whether the message may be shown to the
 * person on the other end, and a one-line meaning. The server, the adapters, the broker, the CLI and the
 * browser client all derive their answers from here; `docs/errors.md` is generated from it.
 */
import { type ErrorCode, isTransientCode } from './errors.js';

/** The CLI's exit codes: stable, documented. */
export const EXIT_CODES = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  /** Not logged in, or the login is no longer valid: log in again. */
  LOGIN_REQUIRED: 3,
  /** Spotify, the network or the store is unavailable or rate limiting: try again later. */
  UNAVAILABLE: 4,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export interface ErrorDescription {
  /** HTTP status a server answers with. */
  status: number;
  /** Stable snake_case code in JSON bodies: `{"error": "<this>", "code": "<ErrorCode>", "message": …}`. */
  error: string;
  /** The CLI's exit code. */
  exit: ExitCode;
  /** Whether the same request may succeed later. The default for errors of this code (errors.ts). */
  transient: boolean;
  /**
   * Whether the error's message is written for the person on the other end. False: it names internals
   * (paths, record keys, key ids, settings), so clients get `meaning` and only the log gets the message.
   */
  exposeMessage: boolean;
  /** One line: what happened. */
  meaning: string;
}

const { ERROR, USAGE, LOGIN_REQUIRED, UNAVAILABLE } = EXIT_CODES;

type Row = Omit<ErrorDescription, 'transient'>;

function row(
  status: number,
  error: string,
  exit: ExitCode,
  meaning: string,
  flags: { exposeMessage?: boolean } = {},
): Row {
  return { status, error, exit, exposeMessage: flags.exposeMessage ?? true, meaning };
}

const ROWS: Readonly<Record<ErrorCode, Row>> = {
  INVALID_CONFIG: row(500, 'configuration_error', USAGE, 'The configuration is invalid or incomplete.', {
    exposeMessage: false,
  }),
  INSECURE_URL: row(500, 'configuration_error', USAGE, 'A configured URL is plain http outside loopback.', {
    exposeMessage: false,
  }),
  INVALID_SCOPE: row(400, 'bad_request', USAGE, 'A requested scope is unknown or was removed by Spotify.'),
  INVALID_REDIRECT_URI: row(
    500,
    'configuration_error',
    USAGE,
    "The redirect URI breaks Spotify's rules (https, or http only on a loopback IP literal).",
    { exposeMessage: false },
  ),
  IMPLICIT_GRANT_REMOVED: row(400, 'bad_request', USAGE, 'Spotify removed the implicit grant; use PKCE.'),
  STATE_MISSING: row(400, 'login_rejected', ERROR, 'The callback has no state, so it matches no login.'),
  STATE_MISMATCH: row(
    400,
    'login_rejected',
    ERROR,
    'The callback belongs to another login (forged or replayed).',
  ),
  PARAM_DUPLICATED: row(400, 'login_rejected', ERROR, 'A callback parameter was given twice.'),
  PARAM_TOO_LONG: row(400, 'bad_request', ERROR, 'A parameter is implausibly long.'),
  CODE_MISSING: row(400, 'login_rejected', ERROR, 'The callback has neither a code nor an error.'),
  ACCESS_DENIED: row(403, 'access_denied', ERROR, 'The user did not allow access on Spotify.'),
  AUTHORIZATION_ERROR: row(400, 'login_rejected', ERROR, 'Spotify answered the login with an error.'),
  CALLBACK_NOT_VALIDATED: row(
    500,
    'internal_error',
    ERROR,
    'A code exchange was attempted with an unchecked callback.',
    {
      exposeMessage: false,
    },
  ),
  INVALID_GRANT: row(
    400,
    'login_expired',
    LOGIN_REQUIRED,
    'Spotify no longer accepts this code or refresh token.',
  ),
  INVALID_CLIENT: row(502, 'spotify_error', ERROR, "Spotify rejected the app's client id or secret."),
  TOKEN_REQUEST_REJECTED: row(502, 'spotify_error', ERROR, "Spotify's token endpoint refused the request."),
  INVALID_TOKEN_RESPONSE: row(
    502,
    'spotify_error',
    ERROR,
    "Spotify's token endpoint sent an unusable answer.",
  ),
  SPOTIFY_UNAVAILABLE: row(503, 'spotify_unavailable', UNAVAILABLE, 'Spotify answered with a server error.'),
  RATE_LIMITED: row(429, 'rate_limited', UNAVAILABLE, 'Spotify (or this server) asks to slow down.'),
  TIMEOUT: row(503, 'spotify_unavailable', UNAVAILABLE, 'Spotify did not answer in time.'),
  NETWORK: row(503, 'spotify_unavailable', UNAVAILABLE, 'Spotify could not be reached.'),
  API_ERROR: row(502, 'spotify_error', ERROR, 'The Web API refused the request.'),
  API_UNAUTHORIZED: row(
    401,
    'reauth_required',
    LOGIN_REQUIRED,
    'The Web API rejected the token even after a refresh.',
  ),
  MISSING_SCOPE: row(403, 'missing_scope', ERROR, 'The grant lacks a scope this call needs.'),
  USER_NOT_ALLOWLISTED: row(
    403,
    'user_not_allowlisted',
    ERROR,
    "The user is not on the development-mode app's allowlist.",
  ),
  REAUTH_REQUIRED: row(
    401,
    'reauth_required',
    LOGIN_REQUIRED,
    'The stored grant is dead (revoked, expired or app credentials rejected).',
  ),
  NOT_LOGGED_IN: row(401, 'not_logged_in', LOGIN_REQUIRED, 'No login is stored for this user or session.'),
  STORE_CONFLICT: row(503, 'store_busy', UNAVAILABLE, 'The store kept changing under a write; try again.'),
  STORE_CORRUPT: row(500, 'store_error', ERROR, 'A stored record cannot be read (it is damaged).', {
    exposeMessage: false,
  }),
  STORE_UNAVAILABLE: row(503, 'store_unavailable', UNAVAILABLE, 'The token store cannot be reached.', {
    exposeMessage: false,
  }),
  LOCK_TIMEOUT: row(
    503,
    'busy',
    UNAVAILABLE,
    'Another process is refreshing this token and has not finished.',
  ),
  DECRYPT_FAILED: row(
    500,
    'store_error',
    ERROR,
    'A stored secret cannot be decrypted (modified, moved or wrong key).',
    {
      exposeMessage: false,
    },
  ),
  KEY_UNKNOWN: row(
    500,
    'store_error',
    ERROR,
    'A stored secret was encrypted with a key that is no longer configured.',
    {
      exposeMessage: false,
    },
  ),
};

/** The rows, each with its code's `transient` default (errors.ts keeps that list, for the error class). */
export const ERROR_TABLE = Object.fromEntries(
  Object.entries(ROWS).map(([code, description]) => [
    code,
    { ...description, transient: isTransientCode(code as ErrorCode) },
  ]),
) as Readonly<Record<ErrorCode, ErrorDescription>>;

export function describeError(code: ErrorCode): ErrorDescription {
  return ERROR_TABLE[code];
}
