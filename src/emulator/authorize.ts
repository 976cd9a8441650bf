import { DECISION_PATH, sendConsentPage } from './consent-page.js';
import { mediaType, parseCookies, parseForm, readBody, redirect, send } from './http.js';
import { sendErrorPage } from './page.js';
import { safeEqual } from './random.js';
import { isRegisteredRedirectUri, withQuery } from './redirect-uri.js';
import type { Route, RouteContext } from './routes.js';
import { parseScopeParam } from './scopes.js';
import type { EmulatorState } from './state.js';

export const SESSION_COOKIE = 'sp_emulator_session';
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function fail(ctx: RouteContext, status: number, message: string): void {
  ctx.state.stats.authorize_errors++;
  sendErrorPage(ctx.res, status, message);
}

/** Spotify shows a bare text page for unknown scopes (FACTS §3.2). */
function illegalScope(ctx: RouteContext): void {
  ctx.state.stats.authorize_errors++;
  send(ctx.res, 400, 'Illegal scope', {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'",
  });
}

interface Approval {
  clientId: string;
  userId: string;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string | null;
}

function approve(state: EmulatorState, approval: Approval): string {
  const code = state.issueCode({
    clientId: approval.clientId,
    userId: approval.userId,
    redirectUri: approval.redirectUri,
    scopes: approval.scopes,
    codeChallenge: approval.codeChallenge,
    authorizedAt: state.now(),
  });
  state.recordConsent(approval.clientId, approval.userId, approval.scopes);
  return withQuery(approval.redirectUri, { code, state: approval.state });
}

function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`;
}

function handleAuthorize(ctx: RouteContext) {
  const { state, url } = ctx;
  state.stats.authorize_requests++;
  const query = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (query.has(key)) return fail(ctx, 400, `INVALID_REQUEST: Duplicate parameter ${key.slice(0, 40)}`);
    query.set(key, value);
  }

  // Order matters: until client and redirect URI are known-good the only safe answer is a page, never a redirect.
  const app = state.apps.get(query.get('client_id') ?? '');
  if (!app) return fail(ctx, 400, 'INVALID_CLIENT: Invalid client');
  const redirectUri = query.get('redirect_uri');
  if (redirectUri === undefined || !isRegisteredRedirectUri(app.redirectUris, redirectUri)) {
    return fail(ctx, 400, 'INVALID_CLIENT: Invalid redirect URI');
  }

  const responseType = query.get('response_type');
  if (responseType === 'token') {
    // Spotify removed the implicit grant on 2025-11-27 (B2025R). What /authorize shows now is [UNCONF] in
    // FACTS §1.4; this wording is ours.
    return fail(
      ctx,
      400,
      'UNSUPPORTED_RESPONSE_TYPE: response_type=token (the implicit grant) was removed on 2025-11-27. Use response_type=code with PKCE.',
    );
  }
  if (responseType !== 'code') {
    // Exact Spotify text unknown; Spotify does not redirect here either.
    return fail(ctx, 400, 'INVALID_REQUEST: response_type must be code');
  }

  const scopes = parseScopeParam(query.get('scope'));
  if (scopes === null) return illegalScope(ctx);

  const challenge = query.get('code_challenge');
  const method = query.get('code_challenge_method');
  if (method !== undefined && challenge === undefined) {
    return fail(ctx, 400, 'INVALID_REQUEST: code_challenge is required with code_challenge_method');
  }
  if (challenge !== undefined) {
    if (method !== 'S256') return fail(ctx, 400, 'INVALID_REQUEST: code_challenge_method must be S256');
    if (!CHALLENGE_PATTERN.test(challenge)) {
      return fail(
        ctx,
        400,
        'INVALID_REQUEST: code_challenge must be 43 base64url characters (BASE64URL(SHA256(code_verifier)) without padding)',
      );
    }
  }

  const approval = {
    clientId: app.clientId,
    redirectUri,
    state: query.get('state'),
    scopes,
    codeChallenge: challenge ?? null,
  };

  const autoUser = state.config.autoApprove;
  if (autoUser !== null && state.users.has(autoUser)) {
    return redirect(ctx.res, 302, approve(state, { ...approval, userId: autoUser }));
  }

  const loggedIn = state.sessionUser(parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE));
  if (loggedIn !== undefined && query.get('show_dialog') !== 'true') {
    const granted = state.consentFor(app.clientId, loggedIn);
    if (granted && scopes.every((s) => granted.has(s))) {
      return redirect(ctx.res, 302, approve(state, { ...approval, userId: loggedIn }));
    }
  }

  const pending = state.addPending(approval);
  sendConsentPage(ctx.res, app, pending, [...state.users.values()], loggedIn);
}

async function handleDecision(ctx: RouteContext): Promise<void> {
  const { state, req, res } = ctx;
  const body = await readBody(req);
  if (!body.ok) {
    if (body.reason === 'too_large') return fail(ctx, 413, 'INVALID_REQUEST: Request body too large');
    return;
  }
  const form = mediaType(req) === 'application/x-www-form-urlencoded' ? parseForm(body.body) : null;
  if (!form) return fail(ctx, 400, 'INVALID_REQUEST: Malformed form submission');

  const pending = state.takePending(form.get('request_id') ?? '');
  if (!pending) {
    return fail(
      ctx,
      400,
      'INVALID_REQUEST: This authorization request has expired or was already answered. Start again from the app.',
    );
  }
  if (!safeEqual(form.get('csrf') ?? '', pending.csrf)) {
    return fail(
      ctx,
      403,
      'INVALID_REQUEST: The form could not be verified (CSRF token mismatch). Start again from the app.',
    );
  }
  const app = state.apps.get(pending.clientId);
  if (!app || !isRegisteredRedirectUri(app.redirectUris, pending.redirectUri)) {
    return fail(ctx, 400, 'INVALID_CLIENT: Invalid client');
  }

  const decision = form.get('decision');
  if (decision === 'cancel') {
    state.stats.authorize_decisions.cancel++;
    return redirect(
      res,
      303,
      withQuery(pending.redirectUri, { error: 'access_denied', state: pending.state }),
    );
  }
  const userId = form.get('user') ?? '';
  if (decision !== 'agree' || !state.users.has(userId)) {
    return fail(ctx, 400, 'INVALID_REQUEST: Choose a user, then Agree or Cancel.');
  }
  state.stats.authorize_decisions.agree++;
  const location = approve(state, { ...pending, userId });
  redirect(res, 303, location, { 'Set-Cookie': sessionCookie(state.createSession(userId)) });
}

export const authorizeRoutes: Route[] = [
  { method: 'GET', path: '/authorize', handler: handleAuthorize },
  { method: 'POST', path: DECISION_PATH, handler: handleDecision },
];
