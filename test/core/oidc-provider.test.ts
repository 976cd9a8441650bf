/**
 * Core against an independent, standards-conformant authorization server (panva's oidc-provider, set up
 * Spotify-like in test/support/oidc-provider.ts): proves that `SpotifyAuth` speaks plain OAuth 2.0
 * (RFC 6749 + PKCE RFC 7636 + RFC 9207 `iss`), not just the Spotify emulator's dialect.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotauthError, SpotifyAuth, type SpotifyAuthConfig } from '../../src/core/index.js';
import { must } from '../support/must.js';
import {
  CONFIDENTIAL_CLIENT,
  loginThroughProvider,
  PUBLIC_CLIENT,
  startOidcProvider,
  type TestProvider,
} from '../support/oidc-provider.js';

const SCOPE = ['user-read-email', 'user-read-private', 'user-top-read'];

interface CapturedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: URLSearchParams;
}

let op: TestProvider;
/** Every outgoing token-endpoint request, captured through the `fetch` config option. */
let sent: CapturedRequest[] = [];
/** Every secret value seen during the run: tokens, codes, verifiers, the client secret. */
const secrets = new Set<string>([CONFIDENTIAL_CLIENT.clientSecret]);
/** Every error core threw during the run, checked for leaks at the end (i). */
const thrown: SpotauthError[] = [];

/** The first token-endpoint request since `sent` was last emptied. */
function firstSent(): CapturedRequest {
  return must(sent[0], 'a token-endpoint request');
}

function capturingFetch(): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    sent.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: new URLSearchParams(await request.text()),
    });
    return fetch(input, init);
  };
}

function confidential(overrides: Partial<SpotifyAuthConfig> = {}): SpotifyAuth {
  return new SpotifyAuth({
    clientId: CONFIDENTIAL_CLIENT.clientId,
    clientSecret: CONFIDENTIAL_CLIENT.clientSecret,
    redirectUri: CONFIDENTIAL_CLIENT.redirectUri,
    accountsUrl: op.issuer,
    allowInsecureHttp: true,
    fetch: capturingFetch(),
    ...overrides,
  });
}

function publicClient(overrides: Partial<SpotifyAuthConfig> = {}): SpotifyAuth {
  return new SpotifyAuth({
    clientId: PUBLIC_CLIENT.clientId,
    redirectUri: PUBLIC_CLIENT.redirectUri,
    accountsUrl: op.issuer,
    allowInsecureHttp: true,
    fetch: capturingFetch(),
    ...overrides,
  });
}

/** Starts a login, logs in through op's forms, and returns the request plus op's callback URL. */
async function login(auth: SpotifyAuth, options: { redirectUri?: string; user?: string } = {}) {
  const request = await auth.createAuthorizationRequest({
    scope: SCOPE,
    ...(options.redirectUri ? { redirectUri: options.redirectUri } : {}),
  });
  const callback = await loginThroughProvider(request.url, { user: options.user ?? 'alice' });
  secrets.add(request.codeVerifier);
  const code = new URL(callback).searchParams.get('code');
  if (code) secrets.add(code);
  return { request, callback };
}

function remember<T extends { accessToken: string; refreshToken?: string }>(tokens: T): T {
  secrets.add(tokens.accessToken);
  if (tokens.refreshToken) secrets.add(tokens.refreshToken);
  return tokens;
}

/** Runs `fn`, expects a SpotauthError with `code`, records it for the leak check, returns it. */
async function expectSpotauthError(fn: () => unknown, code: string): Promise<SpotauthError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SpotauthError);
  const error = caught as SpotauthError;
  expect(error.code).toBe(code);
  thrown.push(error);
  return error;
}

function decodeBasic(header: string | null): { raw: string; id: string; secret: string } {
  expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
  const raw = Buffer.from(must(header, 'header').slice('Basic '.length), 'base64').toString('utf8');
  const parts = raw.split(':');
  // Both halves are form-encoded, so the only ':' left is the separator.
  expect(parts).toHaveLength(2);
  const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'));
  return { raw, id: decode(must(parts[0], 'parts[0]')), secret: decode(must(parts[1], 'parts[1]')) };
}

beforeAll(async () => {
  op = await startOidcProvider();
});

afterAll(async () => {
  await op?.close();
});

beforeEach(() => {
  sent = [];
  op.resetCounters();
});

describe('core against oidc-provider (a real, independent OAuth 2.0 server)', () => {
  it('(a) confidential client: code + PKCE with client_secret_basic', async () => {
    const auth = confidential();
    const { request, callback } = await login(auth);
    expect(new URL(callback).searchParams.get('iss')).toBe(op.issuer);

    const validated = auth.validateCallback(callback, { state: request.state });
    const before = Date.now();
    const tokens = remember(
      await auth.exchangeCode(validated, {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
        requestedScope: request.scope,
      }),
    );
    const after = Date.now();

    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(tokens.expiresAt).toBeLessThanOrEqual(after + 3_600_000);
    expect([...tokens.scope].sort()).toEqual([...SCOPE].sort());
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.refreshTokenIssued).toBe(true);

    // Exactly one token request, to op's /api/token, authenticated with Basic only.
    expect(sent).toHaveLength(1);
    const req = firstSent();
    expect(req.url).toBe(`${op.issuer}/api/token`);
    expect(req.method).toBe('POST');
    expect(req.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const basic = decodeBasic(req.headers.get('authorization'));
    expect(basic.id).toBe(CONFIDENTIAL_CLIENT.clientId);
    expect(basic.secret).toBe(CONFIDENTIAL_CLIENT.clientSecret);
    // RFC 6749 §2.3.1: the secret's ':', '+' and '%' were form-encoded before base64.
    expect(basic.raw).not.toContain(CONFIDENTIAL_CLIENT.clientSecret);
    expect(basic.raw).toContain('%3A');
    expect(basic.raw).toContain('%2B');
    expect(basic.raw).toContain('%25');
    expect(req.body.get('grant_type')).toBe('authorization_code');
    expect(req.body.get('code')).toBe(new URL(callback).searchParams.get('code'));
    expect(req.body.get('redirect_uri')).toBe(CONFIDENTIAL_CLIENT.redirectUri);
    expect(req.body.get('code_verifier')).toBe(request.codeVerifier);
    expect(req.body.has('client_secret')).toBe(false);
    expect(req.body.has('client_id')).toBe(false);

    expect(op.counters.tokenRequestsByGrantType).toEqual({ authorization_code: 1 });
    expect(op.counters.grantSuccess).toBe(1);
    expect(op.counters.grantError).toBe(0);
  });

  it('(b) public native client: client_id + verifier in the body, ephemeral loopback port', async () => {
    const auth = publicClient();
    const ephemeral = 'http://127.0.0.1:54321/callback';
    const { request, callback } = await login(auth, { redirectUri: ephemeral });
    expect(request.url.searchParams.get('redirect_uri')).toBe(ephemeral);
    expect(callback.startsWith(`${ephemeral}?`)).toBe(true);

    const tokens = remember(
      await auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      }),
    );
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.refreshTokenIssued).toBe(true);

    expect(sent).toHaveLength(1);
    const req = firstSent();
    expect(req.headers.has('authorization')).toBe(false);
    expect(req.body.get('client_id')).toBe(PUBLIC_CLIENT.clientId);
    expect(req.body.get('code_verifier')).toBe(request.codeVerifier);
    expect(req.body.get('redirect_uri')).toBe(ephemeral);
    expect(req.body.has('client_secret')).toBe(false);
    expect(op.counters.grantSuccess).toBe(1);

    // The public client's refresh also identifies itself with client_id in the body.
    sent = [];
    const refreshed = remember(await auth.refresh(must(tokens.refreshToken, 'a refresh token')));
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(firstSent().headers.has('authorization')).toBe(false);
    expect(firstSent().body.get('client_id')).toBe(PUBLIC_CLIENT.clientId);
    expect(firstSent().body.get('grant_type')).toBe('refresh_token');
  });

  it('(c) refresh with rotation; reusing the old refresh token revokes the whole grant', async () => {
    const auth = confidential();
    const { request, callback } = await login(auth);
    const first = remember(
      await auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      }),
    );
    const oldRefreshToken = must(first.refreshToken, 'a refresh token');

    sent = [];
    const rotated = remember(await auth.refresh(oldRefreshToken, { previousScope: first.scope }));
    expect(rotated.refreshTokenIssued).toBe(true);
    expect(rotated.refreshToken).toEqual(expect.any(String));
    expect(rotated.refreshToken).not.toBe(oldRefreshToken);
    expect(rotated.accessToken).not.toBe(first.accessToken);
    expect([...rotated.scope].sort()).toEqual([...SCOPE].sort());
    expect(firstSent().body.get('refresh_token')).toBe(oldRefreshToken);
    expect(firstSent().body.has('client_secret')).toBe(false);
    expect(decodeBasic(firstSent().headers.get('authorization')).secret).toBe(
      CONFIDENTIAL_CLIENT.clientSecret,
    );
    expect(op.counters.grantRevoked).toBe(0);

    // The rotated-out token is dead, and op treats its reuse as theft: it revokes the grant…
    const reuse = await expectSpotauthError(() => auth.refresh(oldRefreshToken), 'INVALID_GRANT');
    expect(reuse.transient).toBe(false);
    expect(reuse.spotifyError).toBe('invalid_grant');
    expect(reuse.status).toBe(400);
    expect(op.counters.grantRevoked).toBe(1);

    // …so the *new* refresh token fails too. Two concurrent refreshes with the same token would do exactly
    // this to a legitimate user, which is why the token manager must single-flight refreshes.
    await expectSpotauthError(
      () => auth.refresh(must(rotated.refreshToken, 'a refresh token')),
      'INVALID_GRANT',
    );
    expect(op.counters.tokenRequestsByGrantType).toEqual({ authorization_code: 1, refresh_token: 3 });
    expect(op.counters.grantSuccess).toBe(2);
    expect(op.counters.grantErrors).toEqual(['invalid_grant', 'invalid_grant']);
  });

  it('(d) client credentials: Basic auth, no user, no refresh token', async () => {
    const auth = confidential();
    const before = Date.now();
    const tokens = remember(await auth.clientCredentials());
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.refreshTokenIssued).toBe(false);

    expect(sent).toHaveLength(1);
    expect(firstSent().body.get('grant_type')).toBe('client_credentials');
    expect(firstSent().body.has('client_secret')).toBe(false);
    expect(firstSent().body.has('scope')).toBe(false);
    expect(decodeBasic(firstSent().headers.get('authorization')).secret).toBe(
      CONFIDENTIAL_CLIENT.clientSecret,
    );
    expect(op.counters.tokenRequestsByGrantType).toEqual({ client_credentials: 1 });

    // A public client has no secret, so it is refused before any request.
    await expectSpotauthError(() => publicClient().clientCredentials(), 'INVALID_CONFIG');
    expect(op.counters.tokenRequests).toBe(1);
  });

  it('(d2) a wrong client secret gives INVALID_CLIENT', async () => {
    const wrongSecret = 'wr0ng:secret+%value';
    secrets.add(wrongSecret);
    const error = await expectSpotauthError(
      () => confidential({ clientSecret: wrongSecret }).clientCredentials(),
      'INVALID_CLIENT',
    );
    expect(error.spotifyError).toBe('invalid_client');
    expect(op.counters.tokenRequests).toBe(1);
  });

  it("(e) another login's verifier gives INVALID_GRANT", async () => {
    const auth = confidential();
    const first = await login(auth);
    const second = await login(auth, { user: 'bob' });
    expect(second.request.codeVerifier).not.toBe(first.request.codeVerifier);

    const validated = auth.validateCallback(first.callback, { state: first.request.state });
    const error = await expectSpotauthError(
      () =>
        auth.exchangeCode(validated, {
          codeVerifier: second.request.codeVerifier,
          redirectUri: first.request.redirectUri,
        }),
      'INVALID_GRANT',
    );
    expect(error.spotifyError).toBe('invalid_grant');
    expect(op.counters.grantErrors).toEqual(['invalid_grant']);
    expect(op.counters.grantErrorDetails[0]).toMatch(/code_verifier does not match code_challenge/);
    expect(op.counters.grantSuccess).toBe(0);
  });

  it('(f) a different redirect_uri at the token step gives INVALID_GRANT', async () => {
    const auth = publicClient();
    const { request, callback } = await login(auth, { redirectUri: 'http://127.0.0.1:50001/callback' });
    const validated = auth.validateCallback(callback, { state: request.state });
    // Core accepts the other port (the registered URI is portless) but the code was bound to 50001.
    const error = await expectSpotauthError(
      () =>
        auth.exchangeCode(validated, {
          codeVerifier: request.codeVerifier,
          redirectUri: 'http://127.0.0.1:50002/callback',
        }),
      'INVALID_GRANT',
    );
    expect(error.spotifyError).toBe('invalid_grant');
    expect(sent).toHaveLength(1);
    expect(firstSent().body.get('redirect_uri')).toBe('http://127.0.0.1:50002/callback');
    expect(op.counters.grantErrorDetails).toEqual(['authorization code redirect_uri mismatch']);
  });

  it('(g) bad, missing or duplicated state: typed errors and zero token requests', async () => {
    const auth = confidential();
    const { request, callback } = await login(auth);
    const url = new URL(callback);

    const missing = new URL(url);
    missing.searchParams.delete('state');
    await expectSpotauthError(
      () => auth.validateCallback(missing, { state: request.state }),
      'STATE_MISSING',
    );

    const wrong = new URL(url);
    // One character off (the last one, flipped between two letters so it always differs).
    const last = request.state.endsWith('A') ? 'B' : 'A';
    wrong.searchParams.set('state', `${request.state.slice(0, -1)}${last}`);
    await expectSpotauthError(() => auth.validateCallback(wrong, { state: request.state }), 'STATE_MISMATCH');
    // The right callback checked against another login's state is a mismatch too.
    const other = await auth.createAuthorizationRequest({ scope: SCOPE });
    await expectSpotauthError(() => auth.validateCallback(url, { state: other.state }), 'STATE_MISMATCH');

    const duplicated = `${callback}&state=${encodeURIComponent(request.state)}`;
    await expectSpotauthError(
      () => auth.validateCallback(duplicated, { state: request.state }),
      'PARAM_DUPLICATED',
    );

    // An error response with a wrong state is a state error, not "access denied".
    await expectSpotauthError(
      () => auth.validateCallback('?error=access_denied&state=forged', { state: request.state }),
      'STATE_MISMATCH',
    );

    // Nothing reached the token endpoint.
    expect(sent).toHaveLength(0);
    expect(op.counters.tokenRequests).toBe(0);

    // The code itself was good: the rejections above were the client's doing.
    const tokens = remember(
      await auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      }),
    );
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(op.counters.tokenRequests).toBe(1);
  });

  it('(h) an iss that is not the accounts service is rejected before any token request', async () => {
    const auth = confidential();
    const { request, callback } = await login(auth);
    const forged = new URL(callback);
    expect(forged.searchParams.get('iss')).toBe(op.issuer);
    forged.searchParams.set('iss', 'https://evil.example');
    const error = await expectSpotauthError(
      () => auth.validateCallback(forged, { state: request.state }),
      'AUTHORIZATION_ERROR',
    );
    expect(error.message).toMatch(/iss/);

    // A second iss (even the right one next to a wrong one) is a duplicated parameter.
    await expectSpotauthError(
      () =>
        auth.validateCallback(`${callback}&iss=${encodeURIComponent('https://evil.example')}`, {
          state: request.state,
        }),
      'PARAM_DUPLICATED',
    );

    // A validated callback is usable once.
    const validated = auth.validateCallback(callback, { state: request.state });
    remember(
      await auth.exchangeCode(validated, {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      }),
    );
    await expectSpotauthError(
      () =>
        auth.exchangeCode(validated, {
          codeVerifier: request.codeVerifier,
          redirectUri: request.redirectUri,
        }),
      'CALLBACK_NOT_VALIDATED',
    );
    expect(sent).toHaveLength(1);
    expect(op.counters.tokenRequests).toBe(1);
  });

  it('(h2) replaying a code that was already exchanged gives INVALID_GRANT', async () => {
    const auth = confidential();
    const { request, callback } = await login(auth);
    const exchange = () =>
      auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      });
    remember(await exchange());
    await expectSpotauthError(exchange, 'INVALID_GRANT');
    expect(op.counters.grantErrors).toEqual(['invalid_grant']);
  });

  it('(i) no error message, JSON or cause contains a token, code, verifier or the client secret', () => {
    // Enough material for the check to mean something.
    expect(thrown.length).toBeGreaterThanOrEqual(15);
    expect(secrets.size).toBeGreaterThanOrEqual(20);
    const secretList = [...secrets, encodeURIComponent(CONFIDENTIAL_CLIENT.clientSecret)];
    for (const secret of secretList) expect(secret.length).toBeGreaterThanOrEqual(16);
    for (const error of thrown) {
      const surfaces = [
        error.message,
        JSON.stringify(error),
        String(error.cause),
        String(error),
        error.stack ?? '',
      ];
      for (const surface of surfaces) {
        for (const secret of secretList) {
          expect(surface.includes(secret), `${error.code} leaks a secret`).toBe(false);
        }
      }
    }
  });
});
