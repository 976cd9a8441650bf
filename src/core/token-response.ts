import { accountsEndpoint } from './authorization-request.js';
import type { ResolvedConfig } from './config.js';
import { type ErrorCode, SpotauthError } from './errors.js';
import { networkError } from './network-error.js';
import { parseRetryAfter } from './retry-after.js';
import { parseGrantedScope } from './scopes.js';

/**
 * Token-endpoint responses, runtime-neutral: the size cap, the classification of every failure into a
 * SpotauthError, and the TokenSet a success becomes (keeping the old refresh token when none comes back).
 * The server and CLI send their token requests through oauth4webapi (token-endpoint.ts); the browser
 * client, where that library would outweigh the rest of the bundle, sends them with `requestToken` below.
 * Both end here.
 */

/** What a successful token response becomes. Times are epoch milliseconds, computed at receipt. */
export interface TokenSet {
  /** The access token, sent as `Authorization: Bearer …` to the Web API. */
  accessToken: string;
  /** Always `'Bearer'` (Spotify's `token_type`, compared case-insensitively). */
  tokenType: 'Bearer';
  /** Lifetime in seconds as sent by Spotify (3600 when it sends none). */
  expiresInSeconds: number;
  /** @deprecated The earlier name of `expiresInSeconds` (the same value, still set). */
  expiresIn: number;
  /** When the access token expires: `receivedAt + expiresInSeconds × 1000`, epoch milliseconds. */
  expiresAt: number;
  /** When the response arrived, epoch milliseconds (the configured clock). */
  receivedAt: number;
  /** Granted scopes (Spotify's `scope`), or the requested/previous ones when the response has none. */
  scope: string[];
  /** The refresh token to keep: the new one when the response carried one, else the one used (refresh). */
  refreshToken?: string;
  /** True when this response carried a refresh token (new grant, or rotation on refresh). */
  refreshTokenIssued: boolean;
}

/** The fields of a token response body that a TokenSet is made from (already type-checked). */
export interface TokenResponseBody {
  access_token: string;
  expires_in?: number | undefined;
  refresh_token?: string | undefined;
  scope?: string | undefined;
}

export interface TokenFallback {
  /** Assumed granted when the response has no `scope`: the requested scopes, or the previous ones. */
  scope?: string[] | undefined;
  /** Kept when a refresh response carries no refresh token. */
  refreshToken?: string | undefined;
}

// Spotify documents 3600 s and always sends expires_in; assume that if a response ever omits it.
const DEFAULT_EXPIRES_IN = 3600;
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Named in network errors. */
export const ACCOUNTS = "Spotify's accounts service";

/** Reads the whole body (so a timeout signal covers it), refusing more than 64 KiB. */
export async function readCappedBody(response: Response): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  // A body declared too large is not read at all.
  let total =
    Number(response.headers.get('content-length')) > MAX_TOKEN_RESPONSE_BYTES ? Number.POSITIVE_INFINITY : 0;
  while (reader && total <= MAX_TOKEN_RESPONSE_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    chunks.push(value);
  }
  if (total > MAX_TOKEN_RESPONSE_BYTES) {
    await reader?.cancel().catch(() => {});
    throw tooLarge();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(): SpotauthError {
  return new SpotauthError(
    'INVALID_TOKEN_RESPONSE',
    `Spotify's token endpoint sent a response larger than ${MAX_TOKEN_RESPONSE_BYTES / 1024} KiB; it was not read.`,
  );
}

/** A browser's answer to a redirect under `redirect: 'manual'`: no status, no headers, no body. */
export function isOpaqueRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect';
}

export function redirectRefused(status: number): SpotauthError {
  return new SpotauthError(
    'INVALID_TOKEN_RESPONSE',
    `Spotify's token endpoint answered with a redirect${status ? ` (HTTP ${status})` : ''}; it was not followed.`,
    status ? { status } : {},
  );
}

/** The body as a JSON object, {} for JSON that is not an object, undefined when it is not JSON. */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const body: unknown = JSON.parse(text);
    // JSON, but not an object (array, string, null): no fields. On a 200 that is then an
    // INVALID_TOKEN_RESPONSE rather than "not JSON / unavailable".
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}

/**
 * The SpotauthError a token-endpoint response stands for, or undefined for a 200 with a JSON body (which
 * `tokenResponseBody` then checks).
 */
export function tokenFailure(status: number, headers: Headers, text: string): SpotauthError | undefined {
  const json = parseJsonObject(text);
  if (status === 200) {
    if (json !== undefined) return undefined;
    return new SpotauthError('SPOTIFY_UNAVAILABLE', `${ACCOUNTS} answered with something other than JSON.`, {
      transient: true,
      status,
    });
  }
  if (status >= 300 && status < 400) return redirectRefused(status);
  if (status === 429) {
    const retryAfter = parseRetryAfter(headers.get('retry-after'));
    return new SpotauthError(
      'RATE_LIMITED',
      `${ACCOUNTS} is rate limiting this app${retryAfter !== undefined ? `; retry in ${retryAfter} s` : ''}.`,
      { transient: true, status, retryAfterSeconds: retryAfter },
    );
  }
  const error = typeof json?.['error'] === 'string' ? json['error'] : undefined;
  const description = typeof json?.['error_description'] === 'string' ? json['error_description'] : undefined;
  const detail = error ? `: ${error}${description ? ` (${description.slice(0, 200)})` : ''}` : '';
  const unavailable =
    status >= 500 ||
    error === undefined ||
    error === 'errorTransient' ||
    error === 'server_error' ||
    error === 'temporarily_unavailable';
  const [code, message, hint] = unavailable
    ? (['SPOTIFY_UNAVAILABLE', `${ACCOUNTS} is temporarily unavailable (HTTP ${status})`, ''] as const)
    : (REFUSALS.get(error) ?? [
        'TOKEN_REQUEST_REJECTED',
        `Spotify rejected the token request (HTTP ${status})`,
        '',
      ]);
  return new SpotauthError(code, `${message}${detail}${hint}.`, {
    status,
    spotifyError: error,
    spotifyErrorDescription: description,
  });
}

/** Token-endpoint errors with a code of their own: the code, the message before Spotify's words, a hint. */
const REFUSALS = new Map<string, readonly [ErrorCode, string, string]>([
  ['invalid_grant', ['INVALID_GRANT', 'Spotify refused the grant', '; the user must log in again']],
  [
    'invalid_client',
    ['INVALID_CLIENT', "Spotify refused the app's credentials", '; check the client id and secret'],
  ],
]);

function invalid(what: string): SpotauthError {
  return new SpotauthError('INVALID_TOKEN_RESPONSE', `Spotify's token response was not valid: ${what}.`);
}

/**
 * Checks a 200 body the way oauth4webapi does for the server: access_token a non-empty string, token_type
 * Bearer in any case (FACTS §10.2), expires_in a number, refresh_token and scope strings when present.
 */
export function tokenResponseBody(text: string): TokenResponseBody {
  const json = parseJsonObject(text) ?? {};
  const { access_token, token_type, expires_in, refresh_token, scope } = json;
  if (typeof access_token !== 'string' || access_token === '') throw invalid('"access_token" is missing');
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') {
    throw invalid('"token_type" is not Bearer');
  }
  if (expires_in !== undefined && (typeof expires_in !== 'number' || !Number.isFinite(expires_in))) {
    throw invalid('"expires_in" is not a number');
  }
  if (refresh_token !== undefined && typeof refresh_token !== 'string') {
    throw invalid('"refresh_token" is not a string');
  }
  if (scope !== undefined && typeof scope !== 'string') throw invalid('"scope" is not a string');
  return { access_token, expires_in, refresh_token, scope };
}

export function toTokenSet(body: TokenResponseBody, receivedAt: number, fallback: TokenFallback): TokenSet {
  const expiresIn =
    typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN;
  const issued = typeof body.refresh_token === 'string' && body.refresh_token.length > 0;
  const refreshToken = issued ? body.refresh_token : fallback.refreshToken;
  const tokens: TokenSet = {
    accessToken: body.access_token,
    tokenType: 'Bearer',
    expiresInSeconds: expiresIn,
    expiresIn,
    expiresAt: receivedAt + expiresIn * 1000,
    receivedAt,
    scope: parseGrantedScope(body.scope) ?? fallback.scope ?? [],
    refreshTokenIssued: issued,
  };
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  return tokens;
}

/**
 * Sends one form-encoded token request with plain fetch (public clients: no Authorization header, so a
 * browser sends it as a CORS "simple" request with no preflight, as Spotify's own PKCE example does —
 * WEB-API-2026 §4) and returns its TokenSet or throws the classified SpotauthError.
 */
export async function requestToken(
  config: ResolvedConfig,
  form: Record<string, string>,
  fallback: TokenFallback,
  /** Shortens the configured timeout for this request (a caller with less time left); never lengthens it. */
  timeoutMs: number = config.timeoutMs,
): Promise<TokenSet> {
  let response: Response;
  let bytes: Uint8Array;
  try {
    response = await config.fetch(accountsEndpoint(config, '/api/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, Math.min(config.timeoutMs, timeoutMs))),
    });
    if (isOpaqueRedirect(response)) throw redirectRefused(0);
    bytes = await readCappedBody(response);
  } catch (error) {
    throw networkError(error, ACCOUNTS);
  }
  const receivedAt = config.now();
  const text = new TextDecoder().decode(bytes);
  const failure = tokenFailure(response.status, response.headers, text);
  if (failure) throw failure;
  return toTokenSet(tokenResponseBody(text), receivedAt, fallback);
}
