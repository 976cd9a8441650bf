/**
 * The JSON `error` codes an HTTP answer can carry with no SpotauthError behind it: refusals of the request
 * itself (its method, host, size, origin, rate) by the auth handler, the server and the adapters. They sit
 * beside the one error table (src/core/error-table.ts, every SpotauthError) and the broker's own codes
 * (src/broker/errors.ts); docs/errors.md is generated from all three, and test/errors-doc.test.ts fails on
 * a JSON code in the source that none of them lists.
 */
export const HTTP_ERRORS = {
  bad_request: {
    status: 400,
    meaning: 'The request is malformed (a parameter given twice, a bad address, malformed HTTP).',
  },
  login_expired: {
    status: 400,
    meaning:
      'The callback matches no live login attempt in this browser (used, older than 10 minutes, or started elsewhere).',
  },
  unauthorized: { status: 401, meaning: '`GET /metrics` without its bearer token (SPOTAUTH_METRICS_TOKEN).' },
  csrf: {
    status: 403,
    meaning: "A state-changing request without the page's CSRF token, or from another origin.",
  },
  not_found: { status: 404, meaning: 'Nothing is served at this address.' },
  method_not_allowed: {
    status: 405,
    meaning: 'The address does not take this method; `Allow` lists those it does.',
  },
  too_large: { status: 413, meaning: 'The request body is too large.' },
  uri_too_long: { status: 414, meaning: 'A segment of the address is too long.' },
  unsupported_media_type: { status: 415, meaning: "The request body's content type is not accepted." },
  wrong_host: {
    status: 421,
    meaning: "The request names a host other than the server's public URL (DNS-rebinding protection).",
  },
  rate_limited: {
    status: 429,
    meaning:
      'Too many login attempts, or wrong broker keys, from this client; `Retry-After` says when to retry.',
  },
  headers_too_large: { status: 431, meaning: 'The request headers are too large.' },
  internal_error: { status: 500, meaning: 'An unexpected failure; the detail is in the log only.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;
