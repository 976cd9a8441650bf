/**
 * One error taxonomy for all of spotauth. Every error carries a stable string `code` (safe to switch on,
 * log and document), whether it is `transient` (retrying later may succeed) or terminal, and — when it came
 * from Spotify — Spotify's own `error` / `error_description` and HTTP status.
 *
 * Messages and causes never contain a token, code, verifier or secret: errors thrown by libraries are
 * never attached as `cause` (oauth4webapi puts whole token-response bodies there), only a sanitised summary.
 */
import { stripControls } from './text.js';

/**
 * Every error code spotauth throws, as a value (for `switch` and comparisons without string typos). Each
 * code's HTTP status, CLI exit code, transience and one-line meaning are in the error table
 * (`docs/errors.md`).
 */
export const ErrorCodes = {
  // Configuration and request building (before any network call)
  /** The configuration is invalid or incomplete (a programming or deployment error). */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** A configured URL is plain http outside loopback. */
  INSECURE_URL: 'INSECURE_URL',
  /** A requested scope is unknown or was removed by Spotify. */
  INVALID_SCOPE: 'INVALID_SCOPE',
  /** The redirect URI breaks Spotify's rules (https, or http only on a loopback IP literal). */
  INVALID_REDIRECT_URI: 'INVALID_REDIRECT_URI',
  /** `response_type=token` was asked for; Spotify removed the implicit grant (use PKCE). */
  IMPLICIT_GRANT_REMOVED: 'IMPLICIT_GRANT_REMOVED',
  // Callback validation (no network call is made when these are thrown)
  /** The callback has no state, so it matches no login. */
  STATE_MISSING: 'STATE_MISSING',
  /** The callback belongs to another login (forged, replayed or from another tab). */
  STATE_MISMATCH: 'STATE_MISMATCH',
  /** A callback parameter was given twice. */
  PARAM_DUPLICATED: 'PARAM_DUPLICATED',
  /** A parameter is implausibly long. */
  PARAM_TOO_LONG: 'PARAM_TOO_LONG',
  /** The callback has neither a code nor an error. */
  CODE_MISSING: 'CODE_MISSING',
  /** The user did not allow access on Spotify (`error=access_denied`). */
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** Spotify answered the login with another error, or the callback failed validation. */
  AUTHORIZATION_ERROR: 'AUTHORIZATION_ERROR',
  /** A code exchange was attempted with a callback not from `validateCallback`, or twice. */
  CALLBACK_NOT_VALIDATED: 'CALLBACK_NOT_VALIDATED',
  // Token endpoint outcomes
  /** Spotify no longer accepts this code or refresh token (`invalid_grant`). */
  INVALID_GRANT: 'INVALID_GRANT',
  /** Spotify rejected the app's client id or secret (`invalid_client`). */
  INVALID_CLIENT: 'INVALID_CLIENT',
  /** Spotify's token endpoint refused the request with another 4xx error. */
  TOKEN_REQUEST_REJECTED: 'TOKEN_REQUEST_REJECTED',
  /** Spotify's token endpoint sent an unusable answer. */
  INVALID_TOKEN_RESPONSE: 'INVALID_TOKEN_RESPONSE',
  /** Spotify answered with a server error, or not with JSON. Transient. */
  SPOTIFY_UNAVAILABLE: 'SPOTIFY_UNAVAILABLE',
  /** Spotify (or this server) asks to slow down; see `retryAfterSeconds`. Transient. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Spotify did not answer in time. Transient. */
  TIMEOUT: 'TIMEOUT',
  /** Spotify could not be reached. Transient. */
  NETWORK: 'NETWORK',
  // Web API calls
  /** The Web API refused the request. */
  API_ERROR: 'API_ERROR',
  /** The Web API rejected the token even after a refresh. */
  API_UNAUTHORIZED: 'API_UNAUTHORIZED',
  /** The grant lacks a scope this call needs; see `requiredScopes`. */
  MISSING_SCOPE: 'MISSING_SCOPE',
  /** The user is not on the development-mode app's allowlist. */
  USER_NOT_ALLOWLISTED: 'USER_NOT_ALLOWLISTED',
  // Token manager and stores
  /** The stored grant is dead (revoked, expired or app credentials rejected): log in again. */
  REAUTH_REQUIRED: 'REAUTH_REQUIRED',
  /** No login is stored for this user or session. */
  NOT_LOGGED_IN: 'NOT_LOGGED_IN',
  /** The store kept changing under a write; try again. Transient. */
  STORE_CONFLICT: 'STORE_CONFLICT',
  /** A stored record cannot be read (it is damaged). */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** The token store cannot be reached. Transient. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** Another process is refreshing this token and has not finished. Transient. */
  LOCK_TIMEOUT: 'LOCK_TIMEOUT',
  /** A stored secret cannot be decrypted (modified, moved or wrong key). */
  DECRYPT_FAILED: 'DECRYPT_FAILED',
  /** A stored secret was encrypted with a key that is no longer configured. */
  KEY_UNKNOWN: 'KEY_UNKNOWN',
} as const;

/** One of the {@link ErrorCodes}: the stable, documented part of a {@link SpotauthError}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The codes whose errors are transient unless the thrower says otherwise. Here rather than in the error
 * table (which reads it: `transient` in docs/errors.md), so that an error needs no table to be made:
 * the browser bundle carries this line and not the table's statuses, exit codes and meanings.
 */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SPOTIFY_UNAVAILABLE',
  'RATE_LIMITED',
  'TIMEOUT',
  'NETWORK',
  'STORE_CONFLICT',
  'STORE_UNAVAILABLE',
  'LOCK_TIMEOUT',
]);

/** Whether errors of `code` are transient when made without the `transient` option. */
export function isTransientCode(code: ErrorCode): boolean {
  return TRANSIENT_CODES.has(code);
}

/** The optional facts a {@link SpotauthError} is made with; each becomes the property of the same name. */
export interface SpotauthErrorOptions {
  /** Whether the same request may succeed later. Default: the error table's value for the code (e.g. true for `NETWORK`, `TIMEOUT`, `RATE_LIMITED`). */
  transient?: boolean;
  /** HTTP status of Spotify's response, when there was one. */
  status?: number;
  /** Spotify's `error` field (e.g. `invalid_grant`); control characters are stripped. */
  spotifyError?: string;
  /** Spotify's `error_description`; control characters are stripped, and it is cut at 200 characters. */
  spotifyErrorDescription?: string;
  /** Seconds to wait before retrying, from a Retry-After header. */
  retryAfterSeconds?: number;
  /** @deprecated The earlier name of `retryAfterSeconds`; used when that is not given. */
  retryAfter?: number;
  /** Why Spotify rate limited (e.g. QUOTA_EXCEEDED), from a Web API 429 body. */
  reason?: string;
  /** Scopes the failed Web API endpoint needs (MISSING_SCOPE). */
  requiredScopes?: readonly string[];
  /** A sanitised cause: a short description or another SpotauthError, never a raw library error. */
  cause?: SpotauthError | string;
}

/**
 * The one error class of spotauth. Switch on `code` (an {@link ErrorCode}), never on `message`: codes are
 * a semver promise, messages are written for people and may change. When the error came from Spotify,
 * its HTTP `status` and its own `error` / `error_description` are kept alongside.
 *
 * Nothing secret is ever in an error: messages and causes name no token, code, verifier or secret, and
 * errors thrown by libraries are never attached as `cause` (some carry whole token-response bodies).
 *
 * @example
 * ```ts
 * try {
 *   await tokens.getToken(userId);
 * } catch (error) {
 *   if (isSpotauthError(error, 'REAUTH_REQUIRED')) return redirectToLogin();
 *   if (isSpotauthError(error) && error.transient) return retryLater(error.retryAfterSeconds);
 *   throw error;
 * }
 * ```
 */
export class SpotauthError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: ErrorCode;
  /** true: the same request may succeed later (5xx, timeout, network, 429). false: do not retry. */
  readonly transient: boolean;
  /** HTTP status of Spotify's response, when there was one. */
  readonly status: number | undefined;
  /** Spotify's `error` field (e.g. `invalid_grant`). */
  readonly spotifyError: string | undefined;
  /** Spotify's `error_description`, truncated. Spotify's descriptions never echo credentials. */
  readonly spotifyErrorDescription: string | undefined;
  /** Seconds to wait, from a Retry-After header. */
  readonly retryAfterSeconds: number | undefined;
  /** Why Spotify rate limited (e.g. QUOTA_EXCEEDED), from a Web API 429 body. */
  readonly reason: string | undefined;
  /** Scopes the failed Web API endpoint needs (MISSING_SCOPE). */
  readonly requiredScopes: readonly string[] | undefined;

  constructor(code: ErrorCode, message: string, options: SpotauthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpotauthError';
    this.code = code;
    // The code's default, unless the thrower knows better.
    this.transient = options.transient ?? TRANSIENT_CODES.has(code);
    this.status = options.status;
    // Spotify's fields, and callback parameters copied into them, are the other party's text.
    this.spotifyError = clean(options.spotifyError);
    const description = clean(options.spotifyErrorDescription);
    this.spotifyErrorDescription =
      description !== undefined && description.length > 200 ? `${description.slice(0, 200)}…` : description;
    this.retryAfterSeconds = options.retryAfterSeconds ?? options.retryAfter;
    this.reason = options.reason;
    this.requiredScopes = options.requiredScopes;
  }

  /** @deprecated The earlier name of `retryAfterSeconds` (the same value). */
  get retryAfter(): number | undefined {
    return this.retryAfterSeconds;
  }

  /**
   * The error as plain data, for structured logs (`JSON.stringify(error)` would otherwise give `{}`).
   * Every field is safe to log: none holds a credential.
   */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      transient: this.transient,
      status: this.status,
      spotifyError: this.spotifyError,
      spotifyErrorDescription: this.spotifyErrorDescription,
      retryAfterSeconds: this.retryAfterSeconds,
      reason: this.reason,
      requiredScopes: this.requiredScopes,
    };
  }
}

/**
 * Whether `value` is a {@link SpotauthError}, optionally of one `code`. A type guard, so the error's
 * fields are typed after the check.
 */
export function isSpotauthError(value: unknown, code?: ErrorCode): value is SpotauthError {
  return value instanceof SpotauthError && (code === undefined || value.code === code);
}

/**
 * Whether a refresh failure means the stored grant is dead and the user must log in again:
 * `INVALID_GRANT` (revoked, or past Spotify's 6-month refresh-token lifetime) or `INVALID_CLIENT` (the
 * app's credentials were rejected). Retrying such a refresh cannot succeed.
 *
 * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 * @see [RFC 6749 §5.2 (error response)](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.2)
 */
export function isTerminalGrantError(error: unknown): boolean {
  return isSpotauthError(error) && (error.code === 'INVALID_GRANT' || error.code === 'INVALID_CLIENT');
}

function clean(text: string | undefined): string | undefined {
  return text === undefined ? undefined : stripControls(text);
}
