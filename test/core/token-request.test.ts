/**
 * The lean token request (core/token-response.ts `requestToken`: plain fetch, what the browser client
 * sends) against the emulator, side by side with SpotifyAuth's oauth4webapi path: every outcome — success,
 * each injected fault, a revoked grant — must be classified the same way by both. Plus the runtime-neutral
 * pieces they share: the callback checks and safeEqual.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callbackParams, checkCallback } from '../../src/core/callback.js';
import { type ResolvedConfig, resolveConfig, type SpotifyAuth } from '../../src/core/index.js';
import { safeEqual } from '../../src/core/safe-equal.js';
import { requestToken, type TokenSet } from '../../src/core/token-response.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  authorizeRedirect,
  control,
  emulatorAuth,
  startTestEmulator,
  tokenRequests,
} from '../support/emulator.js';
import { caught } from '../support/errors.js';
import { must } from '../support/must.js';

const PUBLIC_CLIENT = 'lean-public-client';
const REDIRECT = 'http://127.0.0.1:8888/callback';

let emulator: RunningEmulator;
let auth: SpotifyAuth;
let config: ResolvedConfig;

beforeAll(async () => {
  emulator = await startTestEmulator({ autoApprove: 'alice' });
  emulator.state.addApp({ clientId: PUBLIC_CLIENT, redirectUris: [REDIRECT] });
  auth = emulatorAuth(emulator, { clientId: PUBLIC_CLIENT, clientSecret: undefined });
  config = resolveConfig({
    clientId: PUBLIC_CLIENT,
    redirectUri: REDIRECT,
    accountsUrl: emulator.url,
    allowInsecureHttp: true,
  });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(async () => {
  await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
  await control(emulator, 'config', { refresh_mode: 'keep' });
});

/** A login through the lean path: the browser client's exchange (client_id + verifier, no secret). */
async function leanLogin(): Promise<TokenSet> {
  const request = await auth.createAuthorizationRequest({ scope: ['user-read-private'] });
  const callback = callbackParams(await authorizeRedirect(request.url));
  const code = checkCallback(callback, request.state);
  return requestToken(
    config,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: request.redirectUri,
      client_id: PUBLIC_CLIENT,
      code_verifier: request.codeVerifier,
    },
    { scope: request.scope },
  );
}

function leanRefresh(refreshToken: string): Promise<TokenSet> {
  return requestToken(
    config,
    { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT },
    { refreshToken, scope: ['user-read-private'] },
  );
}

describe('the lean token request (browser path)', () => {
  it('exchanges a code as a public client and refreshes; keep mode keeps the refresh token, rotate stores the new one', async () => {
    const login = await leanLogin();
    expect(login.refreshToken).toBeTruthy();
    expect(login.refreshTokenIssued).toBe(true);
    expect(login.scope).toEqual(['user-read-private']);
    const kept = await leanRefresh(must(login.refreshToken, 'a refresh token'));
    expect(kept.refreshTokenIssued).toBe(false);
    expect(kept.refreshToken).toBe(login.refreshToken);
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const rotated = await leanRefresh(must(login.refreshToken, 'a refresh token'));
    expect(rotated.refreshTokenIssued).toBe(true);
    expect(rotated.refreshToken).not.toBe(login.refreshToken);
    // The rotated-away token is dead: invalid_grant, terminal.
    expect(await caught(leanRefresh(must(login.refreshToken, 'a refresh token')))).toMatchObject({
      code: 'INVALID_GRANT',
      transient: false,
    });
  });

  const FAULTS: { kind: string; extra?: Record<string, unknown> }[] = [
    { kind: 'server_error' },
    { kind: 'error_transient' },
    { kind: 'rate_limit', extra: { retry_after: 7 } },
    { kind: 'redirect' },
    { kind: 'huge_body' },
    { kind: 'bad_token_type' },
    { kind: 'bad_expires_in' },
    { kind: 'lowercase_bearer' },
    { kind: 'no_expires_in' },
  ];

  for (const { kind, extra } of FAULTS) {
    it(`fault ${kind}: classified as oauth4webapi's path classifies it`, async () => {
      const { refreshToken } = await leanLogin();
      const outcome = async (run: () => Promise<TokenSet>) => {
        await control(emulator, 'faults', { endpoint: 'token', kind, ...extra });
        try {
          const tokens = await run();
          return { ok: true, expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken };
        } catch (error) {
          const e = error as Record<string, unknown>;
          return { ok: false, code: e['code'], transient: e['transient'], retryAfter: e['retryAfter'] };
        }
      };
      const viaLibrary = await outcome(() => auth.refresh(must(refreshToken, 'refreshToken')));
      const viaLean = await outcome(() => leanRefresh(must(refreshToken, 'refreshToken')));
      expect(viaLean).toEqual(viaLibrary);
    });
  }

  it('a revoked grant: INVALID_GRANT from both paths, one request each', async () => {
    const { refreshToken } = await leanLogin();
    await control(emulator, 'revoke', { user_id: 'alice', client_id: PUBLIC_CLIENT });
    const before = (await tokenRequests(emulator)).refresh_token;
    const a = await caught(auth.refresh(must(refreshToken, 'refreshToken')));
    const b = await caught(leanRefresh(must(refreshToken, 'refreshToken')));
    expect([a.code, b.code]).toEqual(['INVALID_GRANT', 'INVALID_GRANT']);
    expect(b.spotifyError).toBe('invalid_grant');
    expect((await tokenRequests(emulator)).refresh_token - before).toBe(2);
  });

  it('nothing listening: NETWORK, transient; no answer in time: TIMEOUT, transient', async () => {
    const closed = resolveConfig({
      clientId: PUBLIC_CLIENT,
      accountsUrl: 'http://127.0.0.1:9',
      allowInsecureHttp: true,
    });
    expect(await caught(requestToken(closed, { grant_type: 'refresh_token' }, {}))).toMatchObject({
      code: 'NETWORK',
      transient: true,
    });
    await control(emulator, 'faults', { endpoint: 'token', kind: 'latency', latency_ms: 500 });
    const impatient = { ...config, timeoutMs: 100 };
    expect(await caught(requestToken(impatient, { grant_type: 'refresh_token' }, {}))).toMatchObject({
      code: 'TIMEOUT',
      transient: true,
    });
  });
});

describe('runtime-neutral checks', () => {
  it('safeEqual: equal strings only, any lengths, no throw', () => {
    expect(safeEqual('state-abc', 'state-abc')).toBe(true);
    expect(safeEqual('state-abc', 'state-abd')).toBe(false);
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(safeEqual('ab', 'a')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'x')).toBe(false);
    expect(safeEqual('é', 'e')).toBe(false);
  });

  it('checkCallback: the state first, then Spotify’s error, then the code', () => {
    const codeOf = (query: string, state = 'good'): string | undefined => {
      try {
        checkCallback(callbackParams(query), state);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(checkCallback(callbackParams('?code=x&state=good'), 'good')).toBe('x');
    expect(codeOf('?error=access_denied&state=bad')).toBe('STATE_MISMATCH');
    expect(codeOf('?error=access_denied&state=good')).toBe('ACCESS_DENIED');
    expect(codeOf('?code=x')).toBe('STATE_MISSING');
    expect(codeOf('?code=x&code=y&state=good')).toBe('PARAM_DUPLICATED');
    expect(codeOf('?state=good')).toBe('CODE_MISSING');
    expect(codeOf('?code=x&state=good', '')).toBe('STATE_MISMATCH');
  });
});
