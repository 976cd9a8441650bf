import * as oauth from 'oauth4webapi';
import { type ResolvedConfig, resolveConfig, type SpotifyAuthConfig } from './config.js';
import { SpotauthError } from './errors.js';
import { assertValidRedirectUri, redirectUriMatches } from './redirect-uri.js';
import { safeEqual } from './safe-equal.js';
import { parseScopes, type SpotifyScope } from './scopes.js';
import { stripControls } from './text.js';
import {
  authorizationServer,
  callTokenEndpoint,
  clientAuth,
  requestOptions,
  type TokenSet,
} from './token-endpoint.js';

export interface AuthorizationRequestOptions {
  /** Scopes to request: a list or a space-separated string. Unknown scopes are refused here. */
  scope?: string | readonly string[];
  /** Spotify's show_dialog: true forces the consent page even for a user who already approved. */
  showDialog?: boolean;
  /** Only 'code' exists. 'token' (implicit grant) gets an explanation of its removal. */
  responseType?: string;
  /**
   * The redirect URI for this request; defaults to the configured one. It must match the configured
   * (registered) URI exactly, or differ only by port for a loopback URI registered without one.
   */
  redirectUri?: string;
}

/** What the caller must keep, server-side, until the callback arrives. Never put it in a URL or a log. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  codeVerifier: string;
  redirectUri: string;
  scope: SpotifyScope[];
}

export interface CallbackChecks {
  /** The state generated for this login; the callback's must match it exactly. */
  state: string;
}

export interface ExchangeOptions {
  codeVerifier: string;
  /** The redirect URI sent to /authorize (AuthorizationRequest.redirectUri). */
  redirectUri: string;
  /** The scopes requested, assumed granted if Spotify's response has no `scope`. */
  requestedScope?: readonly string[];
}

/**
 * A callback that passed every check. Only `validateCallback` can make one, and `exchangeCode` accepts
 * nothing else, so an unvalidated code can never reach the token endpoint. Each is usable once.
 */
export interface ValidatedCallback {
  readonly validated: true;
}

const MAX_CODE_LENGTH = 4096;
const MAX_CALLBACK_LENGTH = 16 * 1024;
const CALLBACK_PARAMS = ['state', 'code', 'error', 'error_description', 'error_uri', 'iss'];

export class SpotifyAuth {
  readonly config: ResolvedConfig;
  readonly #as: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #validated = new WeakMap<ValidatedCallback, URLSearchParams>();

  constructor(config: SpotifyAuthConfig) {
    this.config = resolveConfig(config);
    this.#as = authorizationServer(this.config);
    this.#client = { client_id: this.config.clientId };
  }

  get isConfidential(): boolean {
    return this.config.clientSecret !== undefined;
  }

  /**
   * Builds the /authorize URL with a fresh state (256 bits) and PKCE S256 verifier — PKCE is used for
   * every client, confidential ones included (Spotify: "Confidential clients … must use it").
   */
  async createAuthorizationRequest(options: AuthorizationRequestOptions = {}): Promise<AuthorizationRequest> {
    const responseType = options.responseType ?? 'code';
    if (responseType === 'token') {
      throw new SpotauthError(
        'IMPLICIT_GRANT_REMOVED',
        'Spotify removed the implicit grant (response_type=token) on 27 Nov 2025. Use the authorization code flow with PKCE instead: it works from browsers and command-line tools without a client secret.',
      );
    }
    if (responseType !== 'code') {
      throw new SpotauthError(
        'INVALID_CONFIG',
        `Unsupported response_type ${JSON.stringify(responseType.slice(0, 32))}; Spotify supports only "code".`,
      );
    }
    const scope = parseScopes(options.scope);
    const redirectUri = this.#redirectUriFor(options.redirectUri);
    const state = oauth.generateRandomCodeVerifier(); // 32 CSPRNG bytes, base64url
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const url = new URL(this.#as.authorization_endpoint!);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', redirectUri);
    if (scope.length > 0) url.searchParams.set('scope', scope.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('code_challenge', codeChallenge);
    if (options.showDialog !== undefined) url.searchParams.set('show_dialog', String(options.showDialog));
    return { url, state, codeVerifier, redirectUri, scope };
  }

  /**
   * Checks a callback URL (or its query) against the login's state, before anything else and without any
   * network call. Throws STATE_MISSING / STATE_MISMATCH / PARAM_DUPLICATED / ACCESS_DENIED /
   * AUTHORIZATION_ERROR / CODE_MISSING / PARAM_TOO_LONG.
   */
  validateCallback(callback: string | URL | URLSearchParams, checks: CallbackChecks): ValidatedCallback {
    const params = toSearchParams(callback);
    for (const name of CALLBACK_PARAMS) {
      if (params.getAll(name).length > 1) {
        throw new SpotauthError(
          'PARAM_DUPLICATED',
          `The callback has more than one "${name}" parameter; it was rejected.`,
        );
      }
    }
    const state = params.get('state');
    if (state === null || state === '') {
      throw new SpotauthError(
        'STATE_MISSING',
        'The callback has no state parameter, so it cannot be matched to a login; start the login again.',
      );
    }
    if (typeof checks?.state !== 'string' || checks.state === '' || !safeEqual(state, checks.state)) {
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
          ...(description !== undefined ? { spotifyErrorDescription: description } : {}),
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
      throw new SpotauthError('PARAM_TOO_LONG', 'The callback code is implausibly long; it was rejected.');
    }
    let branded: URLSearchParams;
    try {
      branded = oauth.validateAuthResponse(this.#as, this.#client, params, checks.state);
    } catch (cause) {
      const message =
        cause instanceof Error && /iss/.test(cause.message)
          ? 'unexpected issuer (iss)'
          : 'invalid parameters';
      throw new SpotauthError('AUTHORIZATION_ERROR', `The callback was rejected: ${message}.`);
    }
    const validated: ValidatedCallback = Object.freeze({ validated: true as const });
    this.#validated.set(validated, branded);
    return validated;
  }

  /** Exchanges a validated callback's code. Confidential: Basic auth + verifier. Public: client_id + verifier. */
  async exchangeCode(callback: ValidatedCallback, options: ExchangeOptions): Promise<TokenSet> {
    const params = this.#validated.get(callback);
    if (params === undefined) {
      throw new SpotauthError(
        'CALLBACK_NOT_VALIDATED',
        'exchangeCode accepts only a callback returned by validateCallback, once.',
      );
    }
    this.#validated.delete(callback);
    if (typeof options?.codeVerifier !== 'string' || options.codeVerifier.length < 43) {
      throw new SpotauthError('INVALID_CONFIG', 'exchangeCode needs the PKCE code verifier of this login.');
    }
    const redirectUri = this.#redirectUriFor(options.redirectUri);
    return callTokenEndpoint(
      this.config,
      () =>
        oauth.authorizationCodeGrantRequest(
          this.#as,
          this.#client,
          clientAuth(this.config),
          params,
          redirectUri,
          options.codeVerifier,
          requestOptions(this.config),
        ),
      (response) => oauth.processAuthorizationCodeResponse(this.#as, this.#client, response),
      { scope: options.requestedScope ? [...options.requestedScope] : undefined },
    );
  }

  /**
   * Refreshes an access token. The result's refreshToken is the new one when Spotify rotated it, else the
   * one passed in — never undefined (FACTS §2: since mid-2026 Spotify usually sends none).
   */
  async refresh(
    refreshToken: string,
    options: { previousScope?: readonly string[]; timeoutMs?: number } = {},
  ): Promise<TokenSet> {
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new SpotauthError('INVALID_CONFIG', 'refresh needs a refresh token.');
    }
    return callTokenEndpoint(
      this.config,
      () =>
        oauth.refreshTokenGrantRequest(
          this.#as,
          this.#client,
          clientAuth(this.config),
          refreshToken,
          requestOptions(this.config, options.timeoutMs),
        ),
      (response) => oauth.processRefreshTokenResponse(this.#as, this.#client, response),
      { refreshToken, scope: options.previousScope ? [...options.previousScope] : undefined },
    );
  }

  /** An app token for catalogue calls (no user). Needs the client secret. */
  async clientCredentials(options: { timeoutMs?: number } = {}): Promise<TokenSet> {
    if (this.config.clientSecret === undefined) {
      throw new SpotauthError(
        'INVALID_CONFIG',
        'The client credentials grant needs a client secret (SPOTIFY_CLIENT_SECRET).',
      );
    }
    return callTokenEndpoint(
      this.config,
      () =>
        oauth.clientCredentialsGrantRequest(
          this.#as,
          this.#client,
          clientAuth(this.config),
          {},
          requestOptions(this.config, options.timeoutMs),
        ),
      (response) => oauth.processClientCredentialsResponse(this.#as, this.#client, response),
      {},
    );
  }

  #redirectUriFor(requested: string | undefined): string {
    const registered = this.config.redirectUri;
    if (registered === undefined) {
      throw new SpotauthError('INVALID_CONFIG', 'This flow needs a redirect URI (SPOTIFY_REDIRECT_URI).');
    }
    if (requested === undefined || requested === registered) return registered;
    assertValidRedirectUri(requested);
    if (!redirectUriMatches(registered, requested)) {
      throw new SpotauthError(
        'INVALID_REDIRECT_URI',
        `The redirect URI ${requested} does not match the registered ${registered} (Spotify requires an exact match; only loopback URIs registered without a port may use any port).`,
      );
    }
    return requested;
  }
}

function toSearchParams(callback: string | URL | URLSearchParams): URLSearchParams {
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
