import * as oauth from 'oauth4webapi';
import type { ResolvedConfig } from './config.js';
import { SpotauthError } from './errors.js';
import { parseRetryAfter } from './retry-after.js';
import { parseGrantedScope } from './scopes.js';

/** What a successful token response becomes. Times are epoch milliseconds, computed at receipt. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer';
  /** Lifetime in seconds as sent by Spotify (3600 when it sends none). */
  expiresIn: number;
  expiresAt: number;
  receivedAt: number;
  /** Granted scopes (Spotify's `scope`), or the requested/previous ones when the response has none. */
  scope: string[];
  /** The refresh token to keep: the new one when the response carried one, else the one used (refresh). */
  refreshToken?: string;
  /** True when this response carried a refresh token (new grant, or rotation on refresh). */
  refreshTokenIssued: boolean;
}

// Spotify documents 3600 s and always sends expires_in; assume that if a response ever omits it.
const DEFAULT_EXPIRES_IN = 3600;
const MAX_RESPONSE_BYTES = 64 * 1024;

export function authorizationServer(config: ResolvedConfig): oauth.AuthorizationServer {
  const base = config.accountsUrl.href.replace(/\/$/, '');
  // Spotify publishes no discovery document; the issuer is only used by oauth4webapi for `iss` checks.
  return {
    issuer: config.accountsUrl.origin,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/api/token`,
  };
}

export function clientAuth(config: ResolvedConfig): oauth.ClientAuth {
  return config.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(config.clientSecret);
}

/** `timeoutMs` shortens the configured timeout for one request (a caller with less time left); never lengthens it. */
export function requestOptions(
  config: ResolvedConfig,
  timeoutMs: number = config.timeoutMs,
): oauth.TokenEndpointRequestOptions {
  const options: oauth.TokenEndpointRequestOptions = {
    signal: AbortSignal.timeout(Math.max(1, Math.min(config.timeoutMs, timeoutMs))),
    [oauth.customFetch]: cappedFetch(config.fetch),
  };
  if (config.insecure) options[oauth.allowInsecureRequests] = true;
  return options;
}

/** Reads the whole response (so the timeout covers the body) and refuses bodies over 64 KiB. */
function cappedFetch(
  fetchImpl: typeof fetch,
): NonNullable<oauth.TokenEndpointRequestOptions[typeof oauth.customFetch]> {
  return async (url, init) => {
    const response = await fetchImpl(url, { ...init, redirect: 'manual' } as RequestInit);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > MAX_RESPONSE_BYTES) {
          await reader.cancel().catch(() => {});
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    const body = response.status === 204 || response.status === 304 ? null : Buffer.concat(chunks);
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function tooLarge(): SpotauthError {
  return new SpotauthError(
    'INVALID_TOKEN_RESPONSE',
    `Spotify's token endpoint sent a response larger than ${MAX_RESPONSE_BYTES / 1024} KiB; it was not read.`,
  );
}

/**
 * Sends a token-endpoint request and turns every outcome into either a TokenSet or a SpotauthError.
 * Library errors are never passed through: oauth4webapi attaches whole response bodies (tokens included)
 * as `cause`, so only a sanitised summary survives.
 */
export async function callTokenEndpoint(
  config: ResolvedConfig,
  send: () => Promise<Response>,
  process: (response: Response) => Promise<oauth.TokenEndpointResponse>,
  fallback: { scope?: string[] | undefined; refreshToken?: string | undefined },
): Promise<TokenSet> {
  let response: Response;
  try {
    response = await send();
  } catch (error) {
    throw networkError(error);
  }
  const receivedAt = config.now();
  await throwForFailure(response);
  let body: oauth.TokenEndpointResponse;
  try {
    body = await process(response);
  } catch (error) {
    throw processingError(error);
  }
  const expiresIn =
    typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN;
  const issued = typeof body.refresh_token === 'string' && body.refresh_token.length > 0;
  const refreshToken = issued ? body.refresh_token : fallback.refreshToken;
  const tokens: TokenSet = {
    accessToken: body.access_token,
    tokenType: 'Bearer',
    expiresIn,
    expiresAt: receivedAt + expiresIn * 1000,
    receivedAt,
    scope: parseGrantedScope(body.scope) ?? fallback.scope ?? [],
    refreshTokenIssued: issued,
  };
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  return tokens;
}

function networkError(error: unknown): SpotauthError {
  if (error instanceof SpotauthError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new SpotauthError('TIMEOUT', "Spotify's accounts service did not answer in time.", {
      transient: true,
    });
  }
  if (error instanceof oauth.OperationProcessingError && error.code === oauth.HTTP_REQUEST_FORBIDDEN) {
    return new SpotauthError('INSECURE_URL', 'Refusing to send credentials over plain http.');
  }
  const reason = describeNetworkCause(error);
  return new SpotauthError('NETWORK', `Could not reach Spotify's accounts service${reason}.`, {
    transient: true,
    cause: reason ? reason.slice(2, -1) : undefined,
  });
}

function describeNetworkCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ? ` (${code})` : '';
}

async function readJsonError(
  response: Response,
): Promise<{ error?: string; error_description?: string } | undefined> {
  try {
    const body: unknown = await response.clone().json();
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const { error, error_description } = body as Record<string, unknown>;
      return {
        ...(typeof error === 'string' ? { error } : {}),
        ...(typeof error_description === 'string' ? { error_description } : {}),
      };
    }
    // JSON, but not an object (array, string, null): no error fields. On a 200, the token-response
    // processing then rejects it as INVALID_TOKEN_RESPONSE rather than "not JSON / unavailable".
    return {};
  } catch {
    // not JSON
  }
  return undefined;
}

async function throwForFailure(response: Response): Promise<void> {
  const status = response.status;
  if (status === 200) {
    const json = await readJsonError(response);
    if (json === undefined) {
      throw new SpotauthError(
        'SPOTIFY_UNAVAILABLE',
        "Spotify's accounts service answered with something other than JSON.",
        {
          transient: true,
          status,
        },
      );
    }
    return;
  }
  if (status >= 300 && status < 400) {
    throw new SpotauthError(
      'INVALID_TOKEN_RESPONSE',
      `Spotify's token endpoint answered with a redirect (HTTP ${status}); it was not followed.`,
      {
        status,
      },
    );
  }
  if (status === 429) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    throw new SpotauthError(
      'RATE_LIMITED',
      `Spotify's accounts service is rate limiting this app${retryAfter !== undefined ? `; retry in ${retryAfter} s` : ''}.`,
      {
        transient: true,
        status,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      },
    );
  }
  const json = await readJsonError(response);
  const options = {
    status,
    ...(json?.error !== undefined ? { spotifyError: json.error } : {}),
    ...(json?.error_description !== undefined ? { spotifyErrorDescription: json.error_description } : {}),
  };
  const detail = json?.error
    ? `: ${json.error}${json.error_description ? ` (${json.error_description.slice(0, 200)})` : ''}`
    : '';
  if (
    status >= 500 ||
    json?.error === undefined ||
    json.error === 'errorTransient' ||
    json.error === 'server_error' ||
    json.error === 'temporarily_unavailable'
  ) {
    throw new SpotauthError(
      'SPOTIFY_UNAVAILABLE',
      `Spotify's accounts service is temporarily unavailable (HTTP ${status})${detail}.`,
      {
        ...options,
        transient: true,
      },
    );
  }
  if (json.error === 'invalid_grant') {
    throw new SpotauthError(
      'INVALID_GRANT',
      `Spotify refused the grant${detail}; the user must log in again.`,
      options,
    );
  }
  if (json.error === 'invalid_client') {
    throw new SpotauthError(
      'INVALID_CLIENT',
      `Spotify refused the app's credentials${detail}; check the client id and secret.`,
      options,
    );
  }
  throw new SpotauthError(
    'TOKEN_REQUEST_REJECTED',
    `Spotify rejected the token request (HTTP ${status})${detail}.`,
    options,
  );
}

function processingError(error: unknown): SpotauthError {
  if (error instanceof SpotauthError) return error;
  // Deliberately no `cause`: it would hold the response body, tokens included.
  const what =
    error instanceof Error ? error.message.replace(/[^\w "().,:-]/g, '').slice(0, 160) : 'invalid response';
  return new SpotauthError('INVALID_TOKEN_RESPONSE', `Spotify's token response was not valid: ${what}.`);
}
