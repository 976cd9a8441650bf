import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotauthError, type SpotifyAuth } from '../../src/core/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  authorizeRedirect,
  control,
  emulatorAuth,
  login,
  startTestEmulator,
  tokenRequests,
} from '../support/emulator.js';
import { must } from '../support/must.js';

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<SpotauthError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected SpotauthError ${code}`).toBeInstanceOf(SpotauthError);
  expect((caught as SpotauthError).code).toBe(code);
  return caught as SpotauthError;
}

describe('core against the emulator (auto-approve, keep mode)', () => {
  let emulator: RunningEmulator;
  let auth: SpotifyAuth;

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    auth = emulatorAuth(emulator);
  });
  afterAll(() => emulator.stop());
  beforeEach(async () => {
    await control(emulator, 'config', { refresh_mode: 'keep', auto_approve: 'alice' });
  });

  it('authorization code (confidential, Basic + PKCE): tokens, granted scope, expires_at at receipt', async () => {
    const before = Date.now();
    const { tokens } = await login(auth, ['user-read-email', 'user-top-read']);
    expect(tokens.accessToken).toMatch(/\S{16,}/);
    expect(tokens.refreshToken).toMatch(/\S{16,}/);
    expect(tokens.refreshTokenIssued).toBe(true);
    expect(tokens.scope.sort()).toEqual(['user-read-email', 'user-top-read']);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(tokens.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(emulator.state.lookupAccessToken(tokens.accessToken)?.userId).toBe('alice');
  });

  it('public client (PKCE, no secret) logs in on a dynamic loopback port', async () => {
    const publicAuth = emulatorAuth(emulator, {
      clientSecret: undefined,
      redirectUri: 'http://127.0.0.1/callback',
    });
    const request = await publicAuth.createAuthorizationRequest({
      scope: 'user-read-private',
      redirectUri: 'http://127.0.0.1:53123/callback',
    });
    const callback = await authorizeRedirect(request.url);
    expect(callback.startsWith('http://127.0.0.1:53123/callback?')).toBe(true);
    const tokens = await publicAuth.exchangeCode(
      publicAuth.validateCallback(callback, { state: request.state }),
      {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      },
    );
    expect(tokens.refreshToken).toBeTruthy();
    const refreshed = await publicAuth.refresh(must(tokens.refreshToken, 'a refresh token'));
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
  });

  it('keep mode: the refresh response has no refresh_token, and the old one is kept', async () => {
    const { tokens } = await login(auth);
    const refreshed = await auth.refresh(must(tokens.refreshToken, 'a refresh token'), {
      previousScope: tokens.scope,
    });
    expect(refreshed.refreshTokenIssued).toBe(false);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    const again = await auth.refresh(must(refreshed.refreshToken, 'a refresh token'));
    expect(again.accessToken).not.toBe(refreshed.accessToken);
  });

  it('rotate mode: a new refresh token each time; reusing the old one is "Refresh token revoked"', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const { tokens } = await login(auth);
    const refreshed = await auth.refresh(must(tokens.refreshToken, 'a refresh token'));
    expect(refreshed.refreshTokenIssued).toBe(true);
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    const error = await expectCode(
      auth.refresh(must(tokens.refreshToken, 'a refresh token')),
      'INVALID_GRANT',
    );
    expect(error.spotifyErrorDescription).toBe('Refresh token revoked');
    expect(error.transient).toBe(false);
  });

  it('a revoked grant is invalid_grant with no description, terminal', async () => {
    const { tokens } = await login(auth);
    await control(emulator, 'revoke', { user_id: 'alice' });
    const error = await expectCode(
      auth.refresh(must(tokens.refreshToken, 'a refresh token')),
      'INVALID_GRANT',
    );
    expect(error.spotifyError).toBe('invalid_grant');
    expect(error.spotifyErrorDescription).toBeUndefined();
    expect(error.status).toBe(400);
  });

  it('the 6-month refresh-token limit ends in invalid_grant', async () => {
    const { tokens } = await login(auth);
    await control(emulator, 'clock', { advance_seconds: 183 * 24 * 3600 });
    await expectCode(auth.refresh(must(tokens.refreshToken, 'a refresh token')), 'INVALID_GRANT');
  });

  it('client credentials: app token without refresh token', async () => {
    const tokens = await auth.clientCredentials();
    expect(tokens.refreshToken).toBeUndefined();
    expect(emulator.state.lookupAccessToken(tokens.accessToken)?.userId).toBeNull();
  });

  it('wrong client secret → INVALID_CLIENT "Invalid client secret"; unknown client → "Invalid client"', async () => {
    const wrong = emulatorAuth(emulator, { clientSecret: 'not-the-secret' });
    const error = await expectCode(wrong.clientCredentials(), 'INVALID_CLIENT');
    expect(error.spotifyErrorDescription).toBe('Invalid client secret');
    expect(error.message).not.toContain('not-the-secret');
    const unknown = emulatorAuth(emulator, { clientId: 'nobody', clientSecret: 'x' });
    expect((await expectCode(unknown.clientCredentials(), 'INVALID_CLIENT')).spotifyErrorDescription).toBe(
      'Invalid client',
    );
  });

  it('a code is single use: "Invalid authorization code" the second time', async () => {
    const request = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const callback = await authorizeRedirect(request.url);
    const options = { codeVerifier: request.codeVerifier, redirectUri: request.redirectUri };
    await auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), options);
    const error = await expectCode(
      auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), options),
      'INVALID_GRANT',
    );
    expect(error.spotifyErrorDescription).toBe('Invalid authorization code');
  });

  it('an expired code: "Authorization code expired"', async () => {
    const request = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const callback = await authorizeRedirect(request.url);
    await control(emulator, 'clock', { advance_seconds: 3600 });
    const error = await expectCode(
      auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      }),
      'INVALID_GRANT',
    );
    expect(error.spotifyErrorDescription).toBe('Authorization code expired');
  });

  it('a wrong verifier: "code_verifier was incorrect"', async () => {
    const request = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const other = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const callback = await authorizeRedirect(request.url);
    const error = await expectCode(
      auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
        codeVerifier: other.codeVerifier,
        redirectUri: request.redirectUri,
      }),
      'INVALID_GRANT',
    );
    expect(error.spotifyErrorDescription).toBe('code_verifier was incorrect');
  });

  it('a different redirect_uri at the token step: "Invalid redirect URI"', async () => {
    const loopback = emulatorAuth(emulator, { redirectUri: 'http://127.0.0.1/callback' });
    const request = await loopback.createAuthorizationRequest({
      redirectUri: 'http://127.0.0.1:4000/callback',
    });
    const callback = await authorizeRedirect(request.url);
    const error = await expectCode(
      loopback.exchangeCode(loopback.validateCallback(callback, { state: request.state }), {
        codeVerifier: request.codeVerifier,
        redirectUri: 'http://127.0.0.1:4001/callback',
      }),
      'INVALID_GRANT',
    );
    expect(error.spotifyErrorDescription).toBe('Invalid redirect URI');
  });

  it('token-endpoint faults: 5xx non-JSON and errorTransient are transient, 429 carries Retry-After', async () => {
    const { tokens } = await login(auth);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 1 });
    expect(
      (await expectCode(auth.refresh(must(tokens.refreshToken, 'a refresh token')), 'SPOTIFY_UNAVAILABLE'))
        .transient,
    ).toBe(true);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'error_transient', count: 1 });
    expect(
      (await expectCode(auth.refresh(must(tokens.refreshToken, 'a refresh token')), 'SPOTIFY_UNAVAILABLE'))
        .transient,
    ).toBe(true);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'rate_limit', count: 1, retry_after: 9 });
    const limited = await expectCode(
      auth.refresh(must(tokens.refreshToken, 'a refresh token')),
      'RATE_LIMITED',
    );
    expect(limited.retryAfter).toBe(9);
    expect(limited.transient).toBe(true);
    const ok = await auth.refresh(must(tokens.refreshToken, 'a refresh token'));
    expect(ok.accessToken).toBeTruthy();
  });

  it('token-endpoint faults: redirect, bad token_type and bad expires_in are invalid responses', async () => {
    for (const kind of ['redirect', 'bad_token_type', 'bad_expires_in', 'huge_body']) {
      await control(emulator, 'faults', { endpoint: 'token', kind, count: 1 });
      await expectCode(auth.clientCredentials(), 'INVALID_TOKEN_RESPONSE');
    }
    await control(emulator, 'faults', { endpoint: 'token', kind: 'lowercase_bearer', count: 1 });
    expect((await auth.clientCredentials()).tokenType).toBe('Bearer');
    await control(emulator, 'faults', { endpoint: 'token', kind: 'no_expires_in', count: 1 });
    const noExpiry = await auth.clientCredentials();
    expect(noExpiry.expiresIn).toBe(3600);
  });

  it('a slow token endpoint times out as a transient TIMEOUT', async () => {
    const impatient = emulatorAuth(emulator, { timeoutMs: 200 });
    await control(emulator, 'faults', { endpoint: 'token', kind: 'latency', count: 1, latency_ms: 1_000 });
    expect((await expectCode(impatient.clientCredentials(), 'TIMEOUT')).transient).toBe(true);
  });
});

describe('callback state checks (SECURITY §1.1): typed errors and zero token requests', () => {
  let emulator: RunningEmulator;
  let auth: SpotifyAuth;

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'bob' });
    auth = emulatorAuth(emulator);
  });
  afterAll(() => emulator.stop());

  async function realCallback() {
    const request = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const callback = new URL(await authorizeRedirect(request.url));
    return { request, callback };
  }

  const cases: [string, string, (callback: URL, state: string) => string][] = [
    ['(a) no state', 'STATE_MISSING', (cb) => cb.href.replace(/([?&])state=[^&]*/, '$1')],
    ['(b) wrong state', 'STATE_MISMATCH', (cb) => cb.href.replace(/state=[^&]*/, 'state=forged-state-value')],
    [
      '(e) access_denied with a wrong state',
      'STATE_MISMATCH',
      (cb) => `${cb.origin}${cb.pathname}?error=access_denied&state=wrong`,
    ],
    ['(f) duplicated state', 'PARAM_DUPLICATED', (cb, state) => `${cb.href}&state=${state}`],
    ['duplicated code', 'PARAM_DUPLICATED', (cb) => `${cb.href}&code=other`],
    [
      'access denied',
      'ACCESS_DENIED',
      (cb, state) => `${cb.origin}${cb.pathname}?error=access_denied&state=${state}`,
    ],
    ['no code', 'CODE_MISSING', (cb, state) => `${cb.origin}${cb.pathname}?state=${state}`],
    [
      'a 5 KiB code',
      'PARAM_TOO_LONG',
      (cb, state) => `${cb.origin}${cb.pathname}?code=${'x'.repeat(5000)}&state=${state}`,
    ],
  ];

  for (const [name, code, mutate] of cases) {
    it(`${name} → ${code}`, async () => {
      const { request, callback } = await realCallback();
      const before = await tokenRequests(emulator);
      await expectCode(
        () => auth.validateCallback(mutate(callback, request.state), { state: request.state }),
        code,
      );
      expect(await tokenRequests(emulator)).toEqual(before);
    });
  }

  it('(c) a replayed callback cannot be exchanged twice from the same validation', async () => {
    const { request, callback } = await realCallback();
    const validated = auth.validateCallback(callback, { state: request.state });
    const options = { codeVerifier: request.codeVerifier, redirectUri: request.redirectUri };
    await auth.exchangeCode(validated, options);
    const before = await tokenRequests(emulator);
    await expectCode(auth.exchangeCode(validated, options), 'CALLBACK_NOT_VALIDATED');
    expect(await tokenRequests(emulator)).toEqual(before);
  });

  it('(d) a callback checked against another login’s state is rejected', async () => {
    const first = await realCallback();
    const second = await realCallback();
    const before = await tokenRequests(emulator);
    await expectCode(
      () => auth.validateCallback(first.callback, { state: second.request.state }),
      'STATE_MISMATCH',
    );
    expect(await tokenRequests(emulator)).toEqual(before);
  });

  it('an unvalidated object never reaches the token endpoint', async () => {
    const before = await tokenRequests(emulator);
    await expectCode(
      auth.exchangeCode(
        { validated: true },
        { codeVerifier: 'x'.repeat(43), redirectUri: 'http://127.0.0.1:8888/callback' },
      ),
      'CALLBACK_NOT_VALIDATED',
    );
    expect(await tokenRequests(emulator)).toEqual(before);
  });
});

describe('authorize-side rules against the emulator', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.stop());

  it('an unregistered redirect URI gets Spotify’s error page, not a redirect', async () => {
    const auth = emulatorAuth(emulator, { redirectUri: 'https://app.example/callback' });
    const request = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const response = await fetch(request.url, { redirect: 'manual' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('INVALID_CLIENT: Invalid redirect URI');
  });

  it('core refuses removed scopes and the implicit grant before any redirect', async () => {
    const auth = emulatorAuth(emulator);
    const scope = await expectCode(
      auth.createAuthorizationRequest({ scope: 'user-read-birthdate' }),
      'INVALID_SCOPE',
    );
    expect(scope.message).toContain('user-read-birthdate');
    const implicit = await expectCode(
      auth.createAuthorizationRequest({ responseType: 'token' }),
      'IMPLICIT_GRANT_REMOVED',
    );
    expect(implicit.message).toMatch(/27 Nov 2025/);
    // The emulator agrees: both are refused there too.
    const direct = new URL(`${emulator.url}/authorize`);
    direct.search = new URLSearchParams({
      client_id: 'spotauth-sandbox',
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:8888/callback',
      scope: 'user-read-birthdate',
    }).toString();
    direct.searchParams.set('client_id', auth.config.clientId);
    const response = await fetch(direct, { redirect: 'manual' });
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('Illegal scope');
  });

  it('core refuses a localhost redirect URI with Spotify’s rule', () => {
    const error = (() => {
      try {
        emulatorAuth(emulator, { redirectUri: 'http://localhost:8888/callback' });
      } catch (e) {
        return e as SpotauthError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('INVALID_REDIRECT_URI');
    expect(error?.message).toContain('http://127.0.0.1:8888/callback');
  });
});
