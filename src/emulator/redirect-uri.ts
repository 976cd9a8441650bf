/**
 * Spotify's redirect-URI rules (FACTS §4), re-implemented on the emulator's side of the wire.
 * Matching is an exact string comparison (case and trailing slash included); the one exception is a
 * loopback IP literal registered without a port, which matches the same URI with any port (RFC 8252 §7.3).
 * `localhost` is never a loopback literal here.
 */

const LOOPBACK_LITERALS = new Set(['127.0.0.1', '[::1]']);

function parse(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** Why the Spotify dashboard would refuse to register `value`, or null if it is acceptable. */
export function registrationProblem(value: string): string | null {
  if (typeof value !== 'string' || value === '' || value.length > 2048) return 'a redirect URI is required';
  const url = parse(value);
  if (!url) return `${JSON.stringify(value)} is not an absolute URL`;
  if (url.hash || value.includes('#')) return 'a redirect URI must not contain a fragment';
  const hostname = url.hostname.toLowerCase();
  if ((url.protocol === 'http:' || url.protocol === 'https:') && /(^|\.)localhost\.?$/.test(hostname)) {
    return '"localhost" is not allowed in redirect URIs; use 127.0.0.1 or [::1]';
  }
  if (url.protocol === 'http:' && !LOOPBACK_LITERALS.has(url.hostname)) {
    return 'plain http is only allowed for the loopback literals 127.0.0.1 and [::1]';
  }
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) {
    return `the scheme ${url.protocol} cannot be a redirect URI`;
  }
  return null;
}

export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const reg = parse(registered);
  const req = parse(requested);
  if (!reg || !req) return false;
  if (reg.protocol !== 'http:' || !LOOPBACK_LITERALS.has(reg.hostname) || reg.port !== '') return false;
  if (req.port === '') return false;
  // Splice the requested port into the registered string so everything else is still compared verbatim.
  const authority = `${reg.protocol}//${reg.hostname}`;
  if (!registered.startsWith(authority)) return false;
  return `${authority}:${req.port}${registered.slice(authority.length)}` === requested;
}

export function isRegisteredRedirectUri(registered: readonly string[], requested: string): boolean {
  return registered.some((uri) => redirectUriMatches(uri, requested));
}

/** Appends params to a redirect URI that may already carry a query (and never a fragment, see above). */
export function withQuery(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.append(key, value);
  }
  // String-append rather than URL.searchParams, which would re-encode the app's own query parameters.
  const separator = !redirectUri.includes('?')
    ? '?'
    : redirectUri.endsWith('?') || redirectUri.endsWith('&')
      ? ''
      : '&';
  return `${redirectUri}${separator}${query.toString()}`;
}

/** Origin (or bare scheme for app links like `my-app://cb`) for the consent page's CSP form-action. */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  return url.protocol;
}
