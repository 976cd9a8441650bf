/**
 * How the handler answers: the headers every response carries, JSON bodies, HTML pages (replaceable by the
 * host app), and the mapping from any error to what a person is shown — derived from the one error table.
 */
import { describeError } from '../core/error-table.js';
import { isSpotauthError, type SpotauthError } from '../core/errors.js';
import { type AuthResponse, response } from './http.js';

export interface ErrorView {
  status: number;
  /** Stable snake_case code, as in JSON bodies. */
  error: string;
  /** The SpotauthError code behind it, when there is one. */
  code?: string | undefined;
  title: string;
  message: string;
  action?: { href: string; label: string } | undefined;
  /** Seconds, for 429/503 answers. */
  retryAfter?: number | undefined;
}

/** Pages the handler renders; the host app can replace any of them with its own. */
export interface Pages {
  /** A full HTML document for an error (a rejected login, an expired session…). */
  error(view: ErrorView): string;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained page (no assets of ours exist inside a host app); its CSP allows only its own style. */
export const DEFAULT_PAGES: Pages = {
  error: (view) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:90vh;background:#f6f6f6;color:#111}
main{max-width:34rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 .5rem}a{color:#1db954}</style></head>
<body><main role="alert"><h1>${escapeHtml(view.title)}</h1><p>${escapeHtml(view.message)}</p>
${view.action ? `<p><a href="${escapeHtml(view.action.href)}">${escapeHtml(view.action.label)}</a></p>` : ''}</main></body></html>`,
};

const DEFAULT_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface Responder {
  readonly base: Readonly<Record<string, string>>;
  json(status: number, value: unknown, cookies?: string[], extra?: Record<string, string>): AuthResponse;
  /** JSON already serialised (a cached body). */
  jsonText(status: number, body: string): AuthResponse;
  redirect(location: string, cookies?: string[]): AuthResponse;
  error(view: ErrorView, json: boolean, cookies?: string[]): AuthResponse;
}

export function createResponder(
  base: Readonly<Record<string, string>>,
  pages: Pages,
  pageHeaders: Readonly<Record<string, string>> = {
    'content-security-policy': DEFAULT_PAGE_CSP,
    'x-frame-options': 'DENY',
  },
): Responder {
  const jsonHeaders = {
    ...base,
    'cache-control': 'no-store',
    'content-type': 'application/json; charset=utf-8',
  };
  const htmlHeaders = {
    ...base,
    ...pageHeaders,
    'cache-control': 'no-store',
    'content-type': 'text/html; charset=utf-8',
  };
  return {
    base,
    json: (status, value, cookies = [], extra) =>
      response(status, JSON.stringify(value), extra ? { ...jsonHeaders, ...extra } : jsonHeaders, cookies),
    jsonText: (status, body) => response(status, body, jsonHeaders),
    redirect: (location, cookies = []) =>
      response(303, '', { ...base, 'cache-control': 'no-store', location }, cookies),
    error: (view, json, cookies = []) => {
      const extra: Record<string, string> = view.retryAfter ? { 'retry-after': String(view.retryAfter) } : {};
      if (json) {
        const body = { error: view.error, message: view.message, ...(view.code ? { code: view.code } : {}) };
        return response(view.status, JSON.stringify(body), { ...jsonHeaders, ...extra }, cookies);
      }
      return response(view.status, pages.error(view), { ...htmlHeaders, ...extra }, cookies);
    },
  };
}

/** Titles and actions by public error code; messages come from the error unless it names internals. */
const PRESENTATION: Record<string, { title: string; action?: string }> = {
  reauth_required: { title: 'Please log in again', action: 'Log in again' },
  not_logged_in: { title: 'Not logged in', action: 'Log in' },
  login_rejected: { title: 'Login attempt rejected', action: 'Log in again' },
  login_expired: { title: 'Login expired', action: 'Log in again' },
  access_denied: { title: 'Access not granted', action: 'Try again' },
  rate_limited: { title: 'Slow down' },
  spotify_unavailable: { title: 'Spotify is unreachable' },
  spotify_error: { title: 'Spotify refused the request' },
  user_not_allowlisted: { title: 'Not on the allowlist' },
  missing_scope: { title: 'Permission needed', action: 'Log in again' },
  store_error: { title: 'Something went wrong' },
  store_unavailable: { title: 'Temporarily unavailable' },
  store_busy: { title: 'Temporarily busy' },
  busy: { title: 'Temporarily busy' },
  bad_request: { title: 'Bad request' },
};

/**
 * A framework's or body parser's refusal of a request (Fastify's errors, Express's http-errors, Hono's
 * HTTPException): its 4xx status, in our words and codes (theirs may name internals, and a body's `code` is
 * only ever a SpotauthError code).
 */
export function viewOfRefusal(status: number): ErrorView {
  if (status === 413)
    return { status, error: 'too_large', title: 'Request rejected', message: 'The request is too large.' };
  if (status === 415)
    return {
      status,
      error: 'unsupported_media_type',
      title: 'Request rejected',
      message: 'Unsupported content type.',
    };
  if (status === 429)
    return {
      status,
      error: 'rate_limited',
      title: 'Slow down',
      message: 'Too many requests; try again shortly.',
    };
  return {
    status,
    error: 'bad_request',
    title: 'Request rejected',
    message: 'The request was malformed.',
  };
}

/** The 4xx status a framework put on an error it threw (`statusCode`, or `status` as http-errors and Hono do). */
function refusalStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { statusCode, status } = error as { statusCode?: unknown; status?: unknown };
  const value = statusCode ?? status;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

/** What any thrown value becomes for the person on the other end. `loginHref` is this handler's login route. */
export function viewOfError(error: unknown, loginHref: string): ErrorView {
  if (!isSpotauthError(error)) {
    const refused = refusalStatus(error);
    if (refused !== undefined) return viewOfRefusal(refused);
    return {
      status: 500,
      error: 'internal_error',
      title: 'Something went wrong',
      message: 'Something went wrong on our side; try again.',
    };
  }
  const row = describeError(error.code);
  const presentation = PRESENTATION[row.error] ?? { title: 'Request failed' };
  const transientSpotify = row.error === 'spotify_error' && error.transient;
  return {
    status: transientSpotify ? 503 : row.status,
    error: transientSpotify ? 'spotify_unavailable' : row.error,
    code: error.code,
    title: presentation.title,
    message: publicMessage(error, row.exposeMessage ? undefined : row.meaning),
    action: presentation.action ? { href: loginHref, label: presentation.action } : undefined,
    retryAfter: error.retryAfter !== undefined ? Math.ceil(error.retryAfter) : undefined,
  };
}

/**
 * What the log gets about a failure answered with a 5xx: a SpotauthError's message (secret-free by
 * construction), else only the error's name — a library's message or cause may carry a token.
 */
export function failureDetail(error: unknown): string {
  return isSpotauthError(error) ? error.message : error instanceof Error ? error.name : typeof error;
}

function publicMessage(error: SpotauthError, hidden: string | undefined): string {
  if (hidden !== undefined) return `${hidden} The details were logged for the operator.`;
  if (error.code === 'REAUTH_REQUIRED' || error.code === 'API_UNAUTHORIZED')
    return `${error.message.replace(/; log in again\.?$/, '.')} Log in again to continue.`;
  return error.message;
}
