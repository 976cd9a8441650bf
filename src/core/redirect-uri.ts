import { SpotauthError } from './errors.js';

/**
 * Spotify's redirect-URI rules (FACTS §4): https, or plain http only on the loopback IP literals
 * 127.0.0.1 and [::1]; `localhost` never; the request's URI must exactly match a registered one, except
 * that a loopback URI registered without a port matches any port.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);
// Custom schemes remain allowed for mobile apps (B2025); these never make sense as a redirect target.
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'about:',
  'blob:',
  'ftp:',
  'ws:',
  'wss:',
]);
const MAX_LENGTH = 2048;

/**
 * Whether a URL's `hostname` is a loopback IP literal (`127.0.0.1` or `[::1]`), the only hosts Spotify
 * allows plain-http redirect URIs on. `localhost` is not one: Spotify refuses it.
 *
 * @see [Spotify: Redirect URIs](https://developer.spotify.com/documentation/web-api/concepts/redirect_uri)
 * @see [RFC 8252 §7.3 (loopback redirection)](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export function isLoopbackLiteral(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

function isLocalhostAlias(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * Checks a redirect URI against Spotify's rules and returns it parsed: an absolute URL of at most 2048
 * characters, no fragment or credentials, https (or a custom scheme for mobile apps), or plain http only
 * on 127.0.0.1 / [::1]; never `localhost`.
 *
 * @throws {@link SpotauthError} `INVALID_REDIRECT_URI`, with a message that states the rule broken and
 * the fix (e.g. the 127.0.0.1 form of a localhost URI).
 * @see [Spotify: Redirect URIs](https://developer.spotify.com/documentation/web-api/concepts/redirect_uri)
 * @see [RFC 8252 §7.3 (loopback redirection)](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 * @see [RFC 6749 §3.1.2 (redirection endpoint)](https://www.rfc-editor.org/rfc/rfc6749.html#section-3.1.2)
 */
export function assertValidRedirectUri(value: string): URL {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      'A redirect URI is required (e.g. http://127.0.0.1:8888/callback).',
    );
  }
  if (value.length > MAX_LENGTH) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `The redirect URI is longer than ${MAX_LENGTH} characters.`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `The redirect URI ${JSON.stringify(value)} is not an absolute URL.`,
    );
  }
  if (url.hash || value.includes('#')) {
    throw new SpotauthError('INVALID_REDIRECT_URI', 'A redirect URI must not contain a fragment (#…).');
  }
  if (url.username || url.password) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      'A redirect URI must not contain a user name or password.',
    );
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `The scheme ${url.protocol} cannot be used in a redirect URI.`,
    );
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && isLocalhostAlias(url.hostname)) {
    const fixed = value.replace(/localhost/i, '127.0.0.1');
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `Spotify refuses "localhost" in redirect URIs; register and open ${fixed} instead.`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackLiteral(url.hostname)) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `Spotify allows plain http redirect URIs only on 127.0.0.1 and [::1]; use https for ${url.host}.`,
    );
  }
  return url;
}

/**
 * Whether `requested` may be sent when `registered` is what the app registered: exact string match
 * (case and trailing slash included), or — for a loopback IP literal registered without a port — the
 * same URI with any port.
 *
 * @see [Spotify: Redirect URIs](https://developer.spotify.com/documentation/web-api/concepts/redirect_uri)
 * @see [RFC 8252 §7.3 (any port on loopback)](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  let reg: URL;
  let req: URL;
  try {
    reg = new URL(registered);
    req = new URL(requested);
  } catch {
    return false;
  }
  if (reg.protocol !== 'http:' || !isLoopbackLiteral(reg.hostname) || reg.port !== '') return false;
  if (req.port === '') return false;
  // Compare everything but the port, on the original strings so case and trailing slashes stay exact.
  const withPort = `${reg.protocol}//${reg.hostname}:${req.port}${registered.slice(`${reg.protocol}//${reg.host}`.length)}`;
  return withPort === requested;
}
