import { safeEqual } from '../core/safe-equal.js';

const MAX_RETURN_TO = 2048;

/**
 * Where to go after login: only a same-origin path (SECURITY §3.3). Anything else — absolute URLs,
 * protocol-relative `//host`, backslashes, control characters, encoded separators — becomes "/".
 *
 * The checks hold on what is *returned*, not only on the input: URL parsing resolves dot segments, so
 * `/.//evil.com` or `/%2e%2e//evil.com` would otherwise come back out as the protocol-relative `//evil.com`.
 */
export function safeReturnTo(value: unknown, origin: string): string {
  if (!isSafeRelativePath(value)) return '/';
  let resolved: string;
  try {
    const url = new URL(value, origin);
    if (url.origin !== origin) return '/';
    resolved = `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
  if (!isSafeRelativePath(resolved)) return '/';
  try {
    return new URL(resolved, origin).origin === origin ? resolved : '/';
  } catch {
    return '/';
  }
}

function isSafeRelativePath(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return false;
  if (!value.startsWith('/') || value.startsWith('//')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  return !/[\\\u0000-\u001f\u007f]/.test(value) && !/%(5c|0d|0a|00|2f%2f)/i.test(value);
}

export interface CookieNames {
  session: string;
  login: string;
  secure: boolean;
}

/**
 * `__Host-` + Secure on https (SECURITY §3.1); plain names on a local http origin, where Secure cookies
 * would be dropped. `prefix` lets two apps on one host keep apart.
 */
export function cookieNames(publicUrl: URL, prefix = 'spotauth'): CookieNames {
  const secure = publicUrl.protocol === 'https:';
  return {
    session: secure ? `__Host-${prefix}_session` : `${prefix}_session`,
    login: secure ? `__Host-${prefix}_login` : `${prefix}_login`,
    secure,
  };
}

type HeaderReader = (name: string) => string | undefined;

/**
 * Cross-site request check for state-changing routes: the browser's Sec-Fetch-Site (or Origin) must say
 * same-origin. Together with the session's CSRF token (csrfTokenMatches), either failing → 403.
 */
export function isSameOriginRequest(header: HeaderReader, origin: string): boolean {
  // Browsers send Sec-Fetch-Site on every request; it is the reliable signal. Origin is only a fallback:
  // under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for same-origin form posts.
  const site = header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const requestOrigin = header('origin');
  return requestOrigin === undefined || requestOrigin === origin;
}

/** The CSRF token from the `x-csrf-token` header or the `csrf` form field, compared in constant time. */
export function csrfTokenMatches(presented: string | undefined | null, expected: string): boolean {
  return typeof presented === 'string' && presented.length > 0 && safeEqual(presented, expected);
}

/**
 * Headers for every response, the framework's own errors included. On an https origin, HSTS as well: after
 * one visit, the browser never tries plain http (where cookies and tokens could be read) for a year.
 * No includeSubDomains: the app does not own its parent domain's other hosts.
 */
export function baseHeaders(publicUrl: URL): Readonly<Record<string, string>> {
  return Object.freeze({
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...(publicUrl.protocol === 'https:' ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  });
}

/**
 * Whether a request's Host names this server. A page on another site that re-points its own hostname at
 * our address (DNS rebinding) sends its own Host; refusing it means such a page can never read our
 * responses (a login's state, a token). `host` is the request's host as the framework reports it (behind a
 * trusted proxy, X-Forwarded-Host).
 */
export function isOwnHost(host: string | undefined, publicUrl: URL): boolean {
  return typeof host === 'string' && host.toLowerCase() === publicUrl.host;
}

/** Headers for HTML pages (meaningless on JSON), computed once per app. */
export function pageHeaderSet(imageOrigins: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data: ${imageOrigins.join(' ')}`.trim(),
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}
