import * as oauth from 'oauth4webapi';
import {
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  buildAuthorizationRequest,
  redirectUriFor,
} from './authorization-request.js';
import { callbackParams, checkCallback } from './callback.js';
import { type ResolvedConfig, resolveConfig, type SpotifyAuthConfig } from './config.js';
import { SpotauthError } from './errors.js';
import {
  authorizationServer,
  callTokenEndpoint,
  clientAuth,
  requestOptions,
  type TokenSet,
} from './token-endpoint.js';

export type { AuthorizationRequest, AuthorizationRequestOptions } from './authorization-request.js';

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

  /** The /authorize URL with a fresh state and PKCE S256 verifier (see buildAuthorizationRequest). */
  async createAuthorizationRequest(options: AuthorizationRequestOptions = {}): Promise<AuthorizationRequest> {
    return buildAuthorizationRequest(this.config, options);
  }

  /**
   * Checks a callback URL (or its query) against the login's state, before anything else and without any
   * network call. Throws STATE_MISSING / STATE_MISMATCH / PARAM_DUPLICATED / ACCESS_DENIED /
   * AUTHORIZATION_ERROR / CODE_MISSING / PARAM_TOO_LONG.
   */
  validateCallback(callback: string | URL | URLSearchParams, checks: CallbackChecks): ValidatedCallback {
    const params = callbackParams(callback);
    checkCallback(params, checks?.state);
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
    const redirectUri = redirectUriFor(this.config, options.redirectUri);
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
}
