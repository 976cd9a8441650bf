import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyPreFault, applyResponseLatency, applyShapeFault } from './faults.js';
import { mediaType, parseForm, readBody, send } from './http.js';
import { safeEqual, tokenKey } from './random.js';
import type { Route, RouteContext } from './routes.js';
import { type CountedGrantType, type EmulatorState, GRANT_TYPES } from './state.js';
import type { EmulatorApp } from './types.js';

export const TOKEN_PATH = '/api/token';
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** The headers Spotify's token endpoint sends (FACTS §1.1, 2016 revoke post). */
const TOKEN_HEADERS = {
  'Content-Type': 'application/json;charset=UTF-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

class TokenError extends Error {
  constructor(
    readonly error: string,
    /** undefined: Spotify sends a bare {"error":"invalid_grant"} for revoked and expired refresh tokens. */
    readonly description: string | undefined,
    readonly status = 400,
  ) {
    super(error);
  }
}

function sendTokenJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  send(res, status, JSON.stringify(body), TOKEN_HEADERS);
}

interface ClientIdentity {
  clientId: string | undefined;
  secret: string | undefined;
  /** The Authorization header was present but unusable. */
  malformed: boolean;
  /** More than one authentication method was used (RFC 6749 §2.3). */
  conflicting: boolean;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64. */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function identifyClient(req: IncomingMessage, form: Map<string, string>): ClientIdentity {
  const header = req.headers.authorization;
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  if (header === undefined)
    return { clientId: bodyId, secret: bodySecret, malformed: false, conflicting: false };
  const bad = { clientId: bodyId, secret: undefined, malformed: true, conflicting: false };
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match?.[1]) return bad;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return bad;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || secret === null || clientId === '') return bad;
  const conflicting = bodySecret !== undefined || (bodyId !== undefined && bodyId !== clientId);
  return { clientId, secret, malformed: false, conflicting };
}

interface AuthenticatedClient {
  app: EmulatorApp;
  /** A correct secret was presented; false for a public (PKCE) client that sent only its id. */
  confidential: boolean;
}

function authenticate(state: EmulatorState, identity: ClientIdentity): AuthenticatedClient {
  if (identity.malformed) throw new TokenError('invalid_client', 'Invalid client');
  if (identity.conflicting)
    throw new TokenError('invalid_request', 'Use only one client authentication method');
  const app = identity.clientId !== undefined ? state.apps.get(identity.clientId) : undefined;
  if (!app) throw new TokenError('invalid_client', 'Invalid client');
  if (identity.secret === undefined) return { app, confidential: false };
  // Always run the comparison, even for a secret-less app, so timing does not reveal which apps have one.
  const matches = safeEqual(identity.secret, app.clientSecret ?? '');
  if (!matches || app.clientSecret === undefined)
    throw new TokenError('invalid_client', 'Invalid client secret');
  return { app, confidential: true };
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function authorizationCodeGrant(
  state: EmulatorState,
  client: AuthenticatedClient,
  form: Map<string, string>,
) {
  const code = form.get('code');
  const record = code ? state.codes.get(tokenKey(code)) : undefined;
  if (!record || record.clientId !== client.app.clientId) {
    throw new TokenError('invalid_grant', 'Invalid authorization code');
  }
  if (record.used) {
    // A replayed code may be a stolen one: revoke what the first exchange produced (RFC 6749 §4.1.2).
    if (record.grantId) state.revokeGrant(record.grantId);
    throw new TokenError('invalid_grant', 'Invalid authorization code');
  }
  if (state.now() >= record.expiresAt) throw new TokenError('invalid_grant', 'Authorization code expired');
  if (form.get('redirect_uri') !== record.redirectUri)
    throw new TokenError('invalid_grant', 'Invalid redirect URI');
  if (record.codeChallenge !== null) {
    const verifier = form.get('code_verifier');
    if (verifier === undefined) throw new TokenError('invalid_request', 'code_verifier required');
    const computed = s256(verifier);
    const correct = safeEqual(computed, record.codeChallenge);
    if (!VERIFIER_PATTERN.test(verifier) || !correct) {
      throw new TokenError('invalid_grant', 'code_verifier was incorrect');
    }
  } else if (!client.confidential) {
    // Without a secret, PKCE is the only thing proving this client is the one that started the flow.
    throw new TokenError('invalid_client', 'Invalid client');
  }

  record.used = true;
  const grant = state.createGrant({
    clientId: record.clientId,
    userId: record.userId,
    scopes: record.scopes,
    authorizedAt: record.authorizedAt,
    confidential: client.confidential,
  });
  record.grantId = grant.id;
  return {
    access_token: state.issueAccessToken(grant.clientId, grant.userId, grant.scopes, grant.id),
    token_type: 'Bearer',
    expires_in: state.config.accessTokenTtlSeconds,
    refresh_token: state.issueRefreshToken(grant.id),
    scope: grant.scopes.join(' '),
  };
}

function refreshTokenGrant(state: EmulatorState, client: AuthenticatedClient, form: Map<string, string>) {
  const token = form.get('refresh_token');
  if (!token) throw new TokenError('invalid_request', 'refresh_token must be supplied');
  const record = state.refreshTokens.get(tokenKey(token));
  const grant = record ? state.grants.get(record.grantId) : undefined;
  if (!record || !grant || grant.clientId !== client.app.clientId) {
    throw new TokenError('invalid_grant', 'Invalid refresh token');
  }
  // REFR: the Basic header is required for grants from the (confidential) authorization code flow.
  if (grant.confidential && !client.confidential) throw new TokenError('invalid_client', 'Invalid client');
  if (grant.revoked) throw new TokenError('invalid_grant', undefined);
  // BRT: 6 months from the original authorization; refreshing never extends it.
  if (state.now() >= grant.authorizedAt + state.config.refreshTokenLifetimeSeconds * 1000) {
    throw new TokenError('invalid_grant', undefined);
  }
  if (record.status === 'rotated') throw new TokenError('invalid_grant', 'Refresh token revoked');

  const body: Record<string, unknown> = {
    access_token: state.issueAccessToken(grant.clientId, grant.userId, grant.scopes, grant.id),
    token_type: 'Bearer',
    expires_in: state.config.accessTokenTtlSeconds,
    scope: grant.scopes.join(' '),
  };
  if (state.config.refreshMode === 'rotate') {
    record.status = 'rotated';
    body['refresh_token'] = state.issueRefreshToken(grant.id);
  }
  return body;
}

function clientCredentialsGrant(state: EmulatorState, client: AuthenticatedClient) {
  if (!client.confidential) throw new TokenError('invalid_client', 'Invalid client');
  return {
    access_token: state.issueAccessToken(client.app.clientId, null, [], null),
    token_type: 'Bearer',
    expires_in: state.config.accessTokenTtlSeconds,
  };
}

async function handleToken(ctx: RouteContext): Promise<void> {
  const { req, res, state } = ctx;
  const body = await readBody(req);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      state.countTokenRequest('other', undefined);
      state.countTokenError('invalid_request');
      sendTokenJson(res, 413, { error: 'invalid_request', error_description: 'Request body too large' });
    }
    return;
  }
  const isForm = mediaType(req) === 'application/x-www-form-urlencoded';
  const form = isForm ? parseForm(body.body) : new Map<string, string>();
  const grantType = form?.get('grant_type');
  const counted: CountedGrantType =
    grantType !== undefined && grantType !== 'other' && (GRANT_TYPES as readonly string[]).includes(grantType)
      ? (grantType as CountedGrantType)
      : 'other';
  const identity = identifyClient(req, form ?? new Map());
  state.countTokenRequest(counted, identity.clientId);

  if (await applyPreFault(state, res, ctx.baseUrl)) return;

  try {
    // Spotify reads grant_type from a form body only; JSON and the rest look like "no grant_type" (web-api#1503).
    if (form === null) throw new TokenError('invalid_request', 'A parameter was sent more than once');
    if (!isForm || grantType === undefined || grantType === '') {
      throw new TokenError('unsupported_grant_type', 'grant_type parameter is missing');
    }
    if (counted === 'other') {
      const shown = /^[\w.:-]{1,64}$/.test(grantType) ? `grant_type ${grantType}` : 'grant_type';
      throw new TokenError('unsupported_grant_type', `${shown} is not supported`);
    }
    const client = authenticate(state, identity);
    const result: Record<string, unknown> =
      counted === 'authorization_code'
        ? authorizationCodeGrant(state, client, form)
        : counted === 'refresh_token'
          ? refreshTokenGrant(state, client, form)
          : clientCredentialsGrant(state, client);
    state.stats.token_successes++;
    applyShapeFault(state, result);
    await applyResponseLatency(state);
    sendTokenJson(res, 200, result);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    state.countTokenError(error.error);
    const payload: Record<string, string> = { error: error.error };
    if (error.description !== undefined) payload['error_description'] = error.description;
    await applyResponseLatency(state);
    sendTokenJson(res, error.status, payload);
  }
}

export const tokenRoutes: Route[] = [{ method: 'POST', path: TOKEN_PATH, handler: handleToken }];
