/**
 * How the broker refuses: its own stable codes (permissions, paths, unknown users, re-consent), each with one
 * status and meaning, beside the one error table (src/core/error-table.ts) that every SpotauthError maps
 * through. Every body is `{error, message, code?, …extra}`; the OpenAPI document lists these codes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SpotauthHandler } from '../auth/handler.js';
import { failureDetail, retryAfterOf, viewOfError } from '../auth/responses.js';
import { isSpotauthError } from '../core/errors.js';

export const BROKER_ERRORS = {
  bad_request: { status: 400, meaning: 'A parameter is malformed; the message says which and why.' },
  invalid_proxy_path: {
    status: 400,
    meaning:
      'The proxied path is not a plain path under the Web API (absolute URL, "..", an encoded slash or backslash, an empty segment).',
  },
  unauthorized: {
    status: 401,
    meaning: 'No key, or an unknown, wrong, revoked or expired key (all look the same).',
  },
  user_forbidden: { status: 403, meaning: "This key may not see this user (the key's --users)." },
  grant_missing_scope: {
    status: 403,
    meaning: "The user's grant lacks scopes this key requires (--scopes); `missing_scopes` lists them.",
  },
  scope_forbidden: {
    status: 403,
    meaning: 'This Web API endpoint needs scopes of which the key holds none (--scopes).',
  },
  proxy_forbidden: { status: 403, meaning: 'This key may not use the Web API proxy (--proxy).' },
  user_not_found: { status: 404, meaning: 'No grant is stored for this Spotify account.' },
  reauth_required: {
    status: 409,
    meaning:
      'The grant is dead (revoked, past its 6-month deadline, or app credentials rejected): send the user to `login_url`.',
  },
  upstream_too_large: { status: 502, meaning: "Spotify's answer exceeds the proxy's size limit." },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

/** A refusal with one of the broker's codes; `extra` fields are added to the JSON body. */
export class BrokerRefusal extends Error {
  readonly status: number;
  constructor(
    readonly error: BrokerErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'BrokerRefusal';
    this.status = BROKER_ERRORS[error].status;
  }
}

export function refuse(
  error: BrokerErrorCode,
  message: string,
  extra?: Record<string, unknown>,
  headers?: Record<string, string>,
): BrokerRefusal {
  return new BrokerRefusal(error, message, extra, headers);
}

export function sendJson(
  reply: FastifyReply,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(status)
    .headers({ 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', ...headers })
    .send(JSON.stringify(body));
}

export interface ErrorContext {
  handler: SpotauthHandler;
  /** The login page on the server's public URL, for 409 bodies. */
  loginUrl: (scopes?: readonly string[]) => string;
  /** Scopes the key requires: a re-login should ask for them. */
  scopes?: readonly string[] | null | undefined;
}

/**
 * Any failure of a broker route as JSON: a BrokerRefusal as it is; a dead grant as 409 with `reason` and the
 * `login_url`; a missing grant as 404; every other SpotauthError through the one error table. Unexpected
 * errors are 500 with a generic message, their detail in the log only.
 */
export function sendBrokerError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  context: ErrorContext,
): FastifyReply {
  if (error instanceof BrokerRefusal) {
    return sendJson(
      reply,
      error.status,
      { error: error.error, message: error.message, ...error.extra },
      error.headers,
    );
  }
  if (isSpotauthError(error, 'REAUTH_REQUIRED')) {
    const reason = error.spotifyError ?? 'revoked';
    return sendJson(reply, 409, {
      error: 'reauth_required',
      code: error.code,
      reason,
      message: `${error.message.replace(/; log in again\.?$/, '.')} The user must log in again at login_url.`,
      login_url: context.loginUrl(context.scopes ?? undefined),
    });
  }
  if (isSpotauthError(error, 'NOT_LOGGED_IN')) {
    return sendJson(reply, 404, {
      error: 'user_not_found',
      code: error.code,
      message: 'No Spotify login is stored for this account.',
    });
  }
  const view = viewOfError(error, context.handler.loginUrl());
  if (view.status >= 500) {
    const detail = failureDetail(error);
    request.log.error(
      { code: view.code ?? view.error, detail, route: request.routeOptions.url },
      'broker request failed',
    );
  }
  return sendJson(
    reply,
    view.status,
    { error: view.error, message: view.message, ...(view.code ? { code: view.code } : {}) },
    retryAfterOf(view) ? { 'retry-after': String(retryAfterOf(view)) } : {},
  );
}
