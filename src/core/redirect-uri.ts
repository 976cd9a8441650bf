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

export function isLoopbackLiteral(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

function isLocalhostAlias(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost');
}

/** Throws INVALID_REDIRECT_URI with a message that states Spotify's rule and the fix. */
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
      `Spotify does not allow "localhost" in redirect URIs (since 27 Nov 2025); use the loopback IP literal instead: ${fixed} (register that exact URI in your Spotify app, and open the app at 127.0.0.1 too).`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackLiteral(url.hostname)) {
    throw new SpotauthError(
      'INVALID_REDIRECT_URI',
      `Spotify only allows plain http redirect URIs on the loopback addresses 127.0.0.1 and [::1]; use https for ${url.host}.`,
    );
  }
  return url;
}

/**
 * Whether `requested` may be sent when `registered` is what the app registered: exact string match, or —
 * for a loopback IP literal registered without a port — the same URI with any port.
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
