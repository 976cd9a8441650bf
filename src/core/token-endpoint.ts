import * as oauth from 'oauth4webapi';
import { accountsEndpoint } from './authorization-request.js';
import type { ResolvedConfig } from './config.js';
import { SpotauthError } from './errors.js';
import { networkError } from './network-error.js';
import {
  ACCOUNTS,
  readCappedBody,
  type TokenFallback,
  type TokenSet,
  tokenFailure,
  toTokenSet,
} from './token-response.js';

export type { TokenSet } from './token-response.js';

export function authorizationServer(config: ResolvedConfig): oauth.AuthorizationServer {
  // Spotify publishes no discovery document; the issuer is only used by oauth4webapi for `iss` checks.
  return {
    issuer: config.accountsUrl.origin,
    authorization_endpoint: accountsEndpoint(config, '/authorize'),
    token_endpoint: accountsEndpoint(config, '/api/token'),
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
    const bytes = await readCappedBody(response);
    const body = response.status === 204 || response.status === 304 ? null : bytes;
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
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
  fallback: TokenFallback,
): Promise<TokenSet> {
  let response: Response;
  try {
    response = await send();
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError && error.code === oauth.HTTP_REQUEST_FORBIDDEN) {
      throw new SpotauthError('INSECURE_URL', 'Refusing to send credentials over plain http.');
    }
    throw networkError(error, ACCOUNTS);
  }
  const receivedAt = config.now();
  const failure = tokenFailure(response.status, response.headers, await response.clone().text());
  if (failure) throw failure;
  let body: oauth.TokenEndpointResponse;
  try {
    body = await process(response);
  } catch (error) {
    throw processingError(error);
  }
  return toTokenSet(body, receivedAt, fallback);
}

function processingError(error: unknown): SpotauthError {
  if (error instanceof SpotauthError) return error;
  // Deliberately no `cause`: it would hold the response body, tokens included.
  const what =
    error instanceof Error ? error.message.replace(/[^\w "().,:-]/g, '').slice(0, 160) : 'invalid response';
  return new SpotauthError('INVALID_TOKEN_RESPONSE', `Spotify's token response was not valid: ${what}.`);
}
