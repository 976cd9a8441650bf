import type { ResolvedConfig } from './config.js';
import { SpotauthError } from './errors.js';
import { pkceChallenge, randomUrlSafe } from './pkce.js';
import { assertValidRedirectUri, redirectUriMatches } from './redirect-uri.js';
import { parseScopes, type SpotifyScope } from './scopes.js';

/** Options of {@link SpotifyAuth.createAuthorizationRequest}. */
export interface AuthorizationRequestOptions {
  /**
   * Scopes to request: a list or a space/comma-separated string. Default: none (the token then reads only
   * public data). Unknown scopes are refused here, before Spotify shows an "Illegal scope" page.
   */
  scope?: string | readonly string[];
  /**
   * Spotify's `show_dialog`: true forces the consent page even for a user who already approved. Default:
   * not sent (Spotify then skips the page for such a user).
   */
  showDialog?: boolean;
  /**
   * Default `'code'`, the only one Spotify has. `'token'` (implicit grant) throws `IMPLICIT_GRANT_REMOVED`.
   */
  responseType?: string;
  /**
   * The redirect URI for this request; defaults to the configured one. It must match the configured
   * (registered) URI exactly, or differ only by port for a loopback URI registered without one.
   */
  redirectUri?: string;
}

/** What the caller must keep until the callback arrives. Never put it in a URL or a log. */
export interface AuthorizationRequest {
  /** The `/authorize` URL to send the user to. */
  url: URL;
  /** The `state` in the URL; the callback must carry exactly this. */
  state: string;
  /** The PKCE verifier whose S256 challenge is in the URL; needed for the code exchange. */
  codeVerifier: string;
  /** The `redirect_uri` in the URL; the code exchange must send the same. */
  redirectUri: string;
  /** The scopes requested, parsed and de-duplicated. */
  scope: SpotifyScope[];
}

/** An accounts-service endpoint (Spotify publishes no discovery document: the paths are fixed). */
export function accountsEndpoint(config: ResolvedConfig, path: '/authorize' | '/api/token'): string {
  return `${config.accountsUrl.href.replace(/\/$/, '')}${path}`;
}

/**
 * Builds the /authorize URL with a fresh state (256 bits) and PKCE S256 verifier — PKCE is used for every
 * client, confidential ones included (Spotify: "Confidential clients … must use it"). The options are
 * checked here (response type, scopes, redirect URI), then {@link authorizationRequestFor} builds it.
 */
export async function buildAuthorizationRequest(
  config: ResolvedConfig,
  options: AuthorizationRequestOptions = {},
): Promise<AuthorizationRequest> {
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
  return authorizationRequestFor(
    config,
    parseScopes(options.scope),
    redirectUriFor(config, options.redirectUri),
    options.showDialog,
  );
}

/**
 * The authorization request itself, for checked scopes and redirect URI. Runtime-neutral: the server, the
 * CLI (through {@link buildAuthorizationRequest}) and the browser client (directly: it has no response
 * type or redirect-URI options to check, so it carries none of those checks) all log in through it.
 */
export async function authorizationRequestFor(
  config: ResolvedConfig,
  scope: SpotifyScope[],
  redirectUri: string,
  showDialog: boolean | undefined,
): Promise<AuthorizationRequest> {
  const state = randomUrlSafe();
  const codeVerifier = randomUrlSafe();
  const codeChallenge = await pkceChallenge(codeVerifier);
  const url = new URL(accountsEndpoint(config, '/authorize'));
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', redirectUri);
  if (scope.length > 0) url.searchParams.set('scope', scope.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('code_challenge', codeChallenge);
  if (showDialog !== undefined) url.searchParams.set('show_dialog', String(showDialog));
  return { url, state, codeVerifier, redirectUri, scope };
}

/** The redirect URI to send: the registered one, or a port variant of a loopback URI registered without one. */
export function redirectUriFor(config: ResolvedConfig, requested: string | undefined): string {
  const registered = config.redirectUri;
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
