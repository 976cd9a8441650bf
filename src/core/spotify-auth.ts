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

/** What a callback is checked against in {@link SpotifyAuth.validateCallback}. */
export interface CallbackChecks {
  /** The state generated for this login; the callback's must match it exactly. */
  state: string;
}

/** The login's secrets that {@link SpotifyAuth.exchangeCode} sends with the code. */
export interface ExchangeOptions {
  /** The PKCE code verifier of this login (`AuthorizationRequest.codeVerifier`, 43 characters or more). */
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
  /** Always true; the object's identity, not this field, is what {@link SpotifyAuth.exchangeCode} checks. */
  readonly validated: true;
}

/**
 * The OAuth client for one Spotify app: it builds the login URL, checks the callback, exchanges the code,
 * refreshes tokens and gets app tokens. It holds no tokens and no per-user state — keep those in a
 * `TokenManager` (server, CLI) or `BrowserAuth` (single-page apps).
 *
 * Every login uses PKCE S256, confidential clients included (Spotify: "Confidential clients … must use
 * it"). A client with a secret authenticates with HTTP Basic; one without sends its `client_id`.
 *
 * @example
 * ```ts
 * const auth = new SpotifyAuth({
 *   clientId: process.env.SPOTIFY_CLIENT_ID ?? '',
 *   clientSecret: process.env.SPOTIFY_CLIENT_SECRET,
 *   redirectUri: 'http://127.0.0.1:8888/callback',
 * });
 * // 1. Send the user to Spotify; keep `login` (state, verifier) server-side until the callback.
 * const login = await auth.createAuthorizationRequest({ scope: ['user-read-private'] });
 * redirect(login.url);
 * // 2. On the callback: check it, then exchange the code.
 * const callback = auth.validateCallback(request.url, { state: login.state });
 * const tokens = await auth.exchangeCode(callback, login);
 * ```
 *
 * @see [Spotify: Authorization code with PKCE](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow)
 * @see [Spotify: Authorization code](https://developer.spotify.com/documentation/web-api/tutorials/code-flow)
 * @see [RFC 6749 §4.1 (authorization code grant)](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1)
 * @see [RFC 7636 (PKCE)](https://www.rfc-editor.org/rfc/rfc7636.html)
 */
export class SpotifyAuth {
  /** The checked configuration, with defaults filled in. */
  readonly config: ResolvedConfig;
  readonly #as: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #validated = new WeakMap<ValidatedCallback, URLSearchParams>();

  /**
   * @throws {@link SpotauthError} `INVALID_CONFIG`, `INSECURE_URL` or `INVALID_REDIRECT_URI` for a bad
   * configuration (client id, secret, URLs, redirect URI or timeout).
   */
  constructor(config: SpotifyAuthConfig) {
    this.config = resolveConfig(config);
    this.#as = authorizationServer(this.config);
    this.#client = { client_id: this.config.clientId };
  }

  /** Whether the app has a client secret (a confidential client, RFC 6749 §2.1). */
  get isConfidential(): boolean {
    return this.config.clientSecret !== undefined;
  }

  /**
   * The `/authorize` URL for a new login, with a fresh state (256 bits) and PKCE S256 verifier. Keep the
   * whole result (server-side, never in a URL or a log) until the callback: it is what the callback is
   * checked against and what the code is exchanged with.
   *
   * @throws {@link SpotauthError} `INVALID_SCOPE` for an unknown scope; `IMPLICIT_GRANT_REMOVED` for
   * `responseType: 'token'`; `INVALID_CONFIG` without a redirect URI; `INVALID_REDIRECT_URI` when
   * `options.redirectUri` does not match the registered one.
   * @see [RFC 6749 §4.1.1 (authorization request)](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.1)
   * @see [RFC 7636 §4.2–4.3 (code challenge)](https://www.rfc-editor.org/rfc/rfc7636.html#section-4.2)
   * @see [Spotify: Authorization code with PKCE](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow)
   */
  async createAuthorizationRequest(options: AuthorizationRequestOptions = {}): Promise<AuthorizationRequest> {
    return buildAuthorizationRequest(this.config, options);
  }

  /**
   * Checks a callback URL (or its query) against the login's state, before anything else and without any
   * network call. Only the result can be passed to {@link SpotifyAuth.exchangeCode}, once.
   *
   * @throws {@link SpotauthError} `STATE_MISSING` / `STATE_MISMATCH` (the callback is not this login's:
   * forged, replayed or from another tab); `PARAM_DUPLICATED`; `PARAM_TOO_LONG`; `ACCESS_DENIED` (the
   * user declined on Spotify); `AUTHORIZATION_ERROR` (any other `error` from Spotify, or an unexpected
   * `iss`); `CODE_MISSING`.
   * @see [RFC 6749 §4.1.2 (authorization response)](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2)
   * @see [RFC 6749 §10.12 (CSRF)](https://www.rfc-editor.org/rfc/rfc6749.html#section-10.12)
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

  /**
   * Exchanges a validated callback's code for tokens. Confidential client: HTTP Basic + verifier. Public
   * client: `client_id` + verifier. The `redirect_uri` sent must be the one sent to `/authorize`.
   *
   * @throws {@link SpotauthError} `CALLBACK_NOT_VALIDATED` for a callback not from
   * {@link SpotifyAuth.validateCallback}, or one already used; `INVALID_CONFIG` without a code verifier;
   * `INVALID_GRANT` (code expired, used, or verifier wrong); `INVALID_CLIENT`; `TOKEN_REQUEST_REJECTED`;
   * `INVALID_TOKEN_RESPONSE`; transient: `SPOTIFY_UNAVAILABLE`, `RATE_LIMITED`, `TIMEOUT`, `NETWORK`.
   * @see [RFC 6749 §4.1.3 (access token request)](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.3)
   * @see [RFC 7636 §4.5 (code verifier)](https://www.rfc-editor.org/rfc/rfc7636.html#section-4.5)
   */
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
   * Refreshes an access token. The result's `refreshToken` is the new one when Spotify rotated it, else the
   * one passed in — never undefined (since mid-2026 Spotify usually sends none back). Refreshing does not
   * extend a refresh token's 6-month lifetime.
   *
   * @param refreshToken - The stored refresh token.
   * @param options - `previousScope`: assumed still granted when the response carries no `scope`.
   * `timeoutMs`: this request's timeout in milliseconds, instead of the configured one.
   * @throws {@link SpotauthError} `INVALID_CONFIG` for an empty refresh token; `INVALID_GRANT` (revoked,
   * or past the 6-month lifetime: log in again, do not retry); `INVALID_CLIENT`; `TOKEN_REQUEST_REJECTED`;
   * `INVALID_TOKEN_RESPONSE`; transient: `SPOTIFY_UNAVAILABLE`, `RATE_LIMITED`, `TIMEOUT`, `NETWORK`.
   * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
   * @see [RFC 6749 §6 (refreshing an access token)](https://www.rfc-editor.org/rfc/rfc6749.html#section-6)
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

  /**
   * An app token for catalogue calls, with no user behind it and no refresh token (ask again when it
   * expires). Needs the client secret.
   *
   * @param options - `timeoutMs`: this request's timeout in milliseconds, instead of the configured one.
   * @throws {@link SpotauthError} `INVALID_CONFIG` without a client secret; `INVALID_CLIENT`;
   * `TOKEN_REQUEST_REJECTED`; `INVALID_TOKEN_RESPONSE`; transient: `SPOTIFY_UNAVAILABLE`, `RATE_LIMITED`,
   * `TIMEOUT`, `NETWORK`.
   * @see [Spotify: Client credentials](https://developer.spotify.com/documentation/web-api/tutorials/client-credentials-flow)
   * @see [RFC 6749 §4.4 (client credentials grant)](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.4)
   */
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
