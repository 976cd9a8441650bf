import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  authorizeCode,
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  exchange,
  pkcePair,
  postToken,
  REDIRECT_URI,
  start,
} from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start({ autoApprove: 'alice', tokenPrefix: 'tok_CANARY_' });
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await control(emulator, 'config', { refresh_mode: 'keep' });
  await control(emulator, 'faults', undefined, 'DELETE');
});

const SANDBOX_AUTH = basic(CLIENT_ID, CLIENT_SECRET);

function expectTokenHeaders(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

async function login(scope = 'user-read-email user-read-private') {
  const code = await authorizeCode(emulator, { scope });
  const result = await exchange(emulator, code);
  expect(result.status).toBe(200);
  return result.json as { access_token: string; refresh_token: string; scope: string };
}

describe('authorization_code', () => {
  it('success: exact shape, headers, granted scope, prefixed tokens', async () => {
    const code = await authorizeCode(emulator, { scope: 'user-read-email user-top-read' });
    expect(code.startsWith('tok_CANARY_')).toBe(true);
    const { status, json, response } = await exchange(emulator, code);
    expect(status).toBe(200);
    expectTokenHeaders(response);
    expect(Object.keys(must(json, 'json')).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(json).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-email user-top-read',
    });
    expect(must(json, 'json')['access_token']).toMatch(/^tok_CANARY_/);
    expect(must(json, 'json')['refresh_token']).toMatch(/^tok_CANARY_/);
    const info = emulator.state.lookupAccessToken(must(json, 'json')['access_token'] as string);
    expect(info).toMatchObject({
      userId: 'alice',
      clientId: CLIENT_ID,
      scopes: ['user-read-email', 'user-top-read'],
    });
  });

  it('client id and secret in the body also work', async () => {
    const code = await authorizeCode(emulator);
    const result = await postToken(emulator, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(result.status).toBe(200);
  });

  it('the Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1)', async () => {
    await control(emulator, 'apps', {
      client_id: 'odd-secret',
      client_secret: 'a:b c%d+',
      redirect_uris: [REDIRECT_URI],
    });
    const good = await postToken(
      emulator,
      { grant_type: 'client_credentials' },
      { auth: basic('odd-secret', 'a:b c%d+') },
    );
    expect(good.status).toBe(200);
  });

  it('a code is single use, and replay revokes the tokens from the first exchange', async () => {
    const code = await authorizeCode(emulator);
    const first = await exchange(emulator, code);
    expect(first.status).toBe(200);
    const second = await exchange(emulator, code);
    expect(second.status).toBe(400);
    expectTokenHeaders(second.response);
    expect(second.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    expect(
      emulator.state.lookupAccessToken(must(first.json, 'a JSON body')['access_token'] as string),
    ).toBeUndefined();
    const refresh = await postToken(
      emulator,
      {
        grant_type: 'refresh_token',
        refresh_token: must(first.json, 'a JSON body')['refresh_token'] as string,
      },
      { auth: SANDBOX_AUTH },
    );
    expect(refresh.json).toEqual({ error: 'invalid_grant' });
  });

  it('unknown, missing and other-client codes → Invalid authorization code', async () => {
    expect((await exchange(emulator, 'nope')).json).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
    const missing = await postToken(
      emulator,
      { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI },
      { auth: SANDBOX_AUTH },
    );
    expect(missing.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    await control(emulator, 'apps', {
      client_id: 'other-app',
      client_secret: 'other',
      redirect_uris: [REDIRECT_URI],
    });
    const code = await authorizeCode(emulator);
    const other = await postToken(
      emulator,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      { auth: basic('other-app', 'other') },
    );
    expect(other.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
  });

  it('an expired code → Authorization code expired (default TTL 300 s)', async () => {
    const code = await authorizeCode(emulator);
    await control(emulator, 'clock', { advance_seconds: 301 });
    expect((await exchange(emulator, code)).json).toEqual({
      error: 'invalid_grant',
      error_description: 'Authorization code expired',
    });
  });

  it('a code is still good just before the TTL', async () => {
    const code = await authorizeCode(emulator);
    await control(emulator, 'clock', { advance_seconds: 299 });
    expect((await exchange(emulator, code)).status).toBe(200);
  });

  it('redirect_uri must equal the one sent to /authorize', async () => {
    const code = await authorizeCode(emulator, { redirect_uri: 'http://127.0.0.1:4000/callback' });
    const wrong = await exchange(emulator, code, { redirect_uri: 'http://127.0.0.1:4001/callback' });
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect URI' });
    const missing = await postToken(
      emulator,
      { grant_type: 'authorization_code', code },
      { auth: SANDBOX_AUTH },
    );
    expect(missing.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect URI' });
    expect((await exchange(emulator, code, { redirect_uri: 'http://127.0.0.1:4000/callback' })).status).toBe(
      200,
    );
  });
});

describe('PKCE', () => {
  it('RFC 7636 Appendix B vector, public client (client_id only)', async () => {
    const code = await authorizeCode(emulator, {
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const result = await postToken(emulator, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });
    expect(result.status).toBe(200);
    expect(must(result.json, 'a JSON body')['refresh_token']).toBeTruthy();
    // A PKCE grant refreshes with client_id alone.
    const refreshed = await postToken(emulator, {
      grant_type: 'refresh_token',
      refresh_token: must(result.json, 'a JSON body')['refresh_token'] as string,
      client_id: CLIENT_ID,
    });
    expect(refreshed.status).toBe(200);
  });

  it('missing verifier → invalid_request "code_verifier required" (also for a confidential client)', async () => {
    const { challenge } = pkcePair();
    const code = await authorizeCode(emulator, { code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(emulator, code)).json).toEqual({
      error: 'invalid_request',
      error_description: 'code_verifier required',
    });
  });

  it('wrong or malformed verifier → invalid_grant "code_verifier was incorrect"', async () => {
    const { challenge, verifier } = pkcePair();
    const code = await authorizeCode(emulator, { code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await exchange(emulator, code, { code_verifier: pkcePair().verifier });
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'code_verifier was incorrect' });
    const short = await exchange(emulator, code, { code_verifier: 'short' });
    expect(short.json).toEqual({ error: 'invalid_grant', error_description: 'code_verifier was incorrect' });
    // Failed attempts do not burn the code.
    expect((await exchange(emulator, code, { code_verifier: verifier })).status).toBe(200);
  });

  it('a public client without PKCE cannot exchange a code', async () => {
    const code = await authorizeCode(emulator);
    const result = await postToken(emulator, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    expect(result.json).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
  });

  it('a confidential grant cannot be refreshed without the secret', async () => {
    const tokens = await login();
    const result = await postToken(emulator, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: CLIENT_ID,
    });
    expect(result.json).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
  });
});

describe('client authentication', () => {
  const cc = { grant_type: 'client_credentials' };
  it('unknown client → Invalid client', async () => {
    expect((await postToken(emulator, cc, { auth: basic('nobody', 'x') })).json).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client',
    });
  });
  it('wrong secret → Invalid client secret (Basic and body)', async () => {
    const expected = { error: 'invalid_client', error_description: 'Invalid client secret' };
    const viaBasic = await postToken(emulator, cc, { auth: basic(CLIENT_ID, 'wrong') });
    expect(viaBasic.status).toBe(400);
    expect(viaBasic.json).toEqual(expected);
    expect((await postToken(emulator, { ...cc, client_id: CLIENT_ID, client_secret: 'wrong' })).json).toEqual(
      expected,
    );
    expect((await postToken(emulator, cc, { auth: basic(CLIENT_ID, '') })).json).toEqual(expected);
  });
  it('a public app has no secret to match', async () => {
    await control(emulator, 'apps', { client_id: 'public-app', redirect_uris: [REDIRECT_URI] });
    expect((await postToken(emulator, cc, { auth: basic('public-app', 'guess') })).json).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client secret',
    });
  });
  for (const [name, header] of [
    ['not base64', 'Basic !!!notbase64***'],
    ['no colon', `Basic ${Buffer.from('justanid').toString('base64')}`],
    ['bad percent-encoding', `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`],
    ['other scheme', 'Bearer abc'],
    ['empty', 'Basic '],
    ['huge', `Basic ${'A'.repeat(8000)}`],
  ] as const) {
    it(`malformed Basic header (${name}) → Invalid client`, async () => {
      const result = await postToken(emulator, cc, { auth: header });
      expect(result.status).toBe(400);
      expect(result.json).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
    });
  }
  it('client_credentials without a secret → Invalid client', async () => {
    expect((await postToken(emulator, { ...cc, client_id: CLIENT_ID })).json).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client',
    });
  });
  it('Basic plus a body secret → invalid_request', async () => {
    const result = await postToken(emulator, { ...cc, client_secret: CLIENT_SECRET }, { auth: SANDBOX_AUTH });
    expect(must(result.json, 'a JSON body')['error']).toBe('invalid_request');
  });
});

describe('grant_type and body format', () => {
  const missing = { error: 'unsupported_grant_type', error_description: 'grant_type parameter is missing' };
  it('a JSON body → unsupported_grant_type / grant_type parameter is missing (not a 415)', async () => {
    const result = await postToken(
      emulator,
      {},
      {
        auth: SANDBOX_AUTH,
        contentType: 'application/json',
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      },
    );
    expect(result.status).toBe(400);
    expectTokenHeaders(result.response);
    expect(result.json).toEqual(missing);
  });
  it('missing grant_type, empty body, no content type', async () => {
    expect((await postToken(emulator, {}, { auth: SANDBOX_AUTH })).json).toEqual(missing);
    const noType = await fetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: { authorization: SANDBOX_AUTH },
    });
    expect(noType.status).toBe(400);
    expect(await noType.json()).toEqual(missing);
  });
  it('unknown grant_type → unsupported_grant_type', async () => {
    const result = await postToken(emulator, { grant_type: 'password' }, { auth: SANDBOX_AUTH });
    expect(result.json).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type password is not supported',
    });
    const hostile = await postToken(emulator, { grant_type: '<x>"' }, { auth: SANDBOX_AUTH });
    expect(hostile.json).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type is not supported',
    });
  });
  it('a charset parameter on the content type is fine', async () => {
    const result = await postToken(
      emulator,
      { grant_type: 'client_credentials' },
      {
        auth: SANDBOX_AUTH,
        contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      },
    );
    expect(result.status).toBe(200);
  });
  it('duplicate parameters → invalid_request', async () => {
    const result = await postToken(
      emulator,
      {},
      { auth: SANDBOX_AUTH, body: 'grant_type=client_credentials&grant_type=client_credentials' },
    );
    expect(must(result.json, 'a JSON body')['error']).toBe('invalid_request');
  });
  it('malformed form encoding never crashes', async () => {
    const result = await postToken(emulator, {}, { auth: SANDBOX_AUTH, body: 'grant_type=%ZZ&&&=&%%%' });
    expect(result.status).toBe(400);
    expect(must(result.json, 'a JSON body')['error']).toBe('unsupported_grant_type');
  });
  it('a 100 KB body → 413', async () => {
    const result = await postToken(
      emulator,
      {},
      { auth: SANDBOX_AUTH, body: `grant_type=client_credentials&pad=${'x'.repeat(100_000)}` },
    );
    expect(result.status).toBe(413);
    expect(result.json).toEqual({ error: 'invalid_request', error_description: 'Request body too large' });
  });
  it('GET /api/token → 405', async () => {
    const response = await fetch(`${emulator.url}/api/token`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

describe('refresh_token', () => {
  const refresh = (token: string) =>
    postToken(emulator, { grant_type: 'refresh_token', refresh_token: token }, { auth: SANDBOX_AUTH });

  it('keep mode: no refresh_token in the response; the old one keeps working', async () => {
    const tokens = await login('user-read-email');
    const first = await refresh(tokens.refresh_token);
    expect(first.status).toBe(200);
    expectTokenHeaders(first.response);
    expect(Object.keys(must(first.json, 'a JSON body')).sort()).toEqual([
      'access_token',
      'expires_in',
      'scope',
      'token_type',
    ]);
    expect(first.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'user-read-email' });
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
    // Old access tokens stay valid until they expire.
    expect(emulator.state.lookupAccessToken(tokens.access_token)).toBeDefined();
  });

  it('rotate mode: a new refresh token each time; reuse → "Refresh token revoked"', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const tokens = await login();
    const first = await refresh(tokens.refresh_token);
    const next = must(first.json, 'a JSON body')['refresh_token'] as string;
    expect(next).toMatch(/^tok_CANARY_/);
    expect(next).not.toBe(tokens.refresh_token);
    expect((await refresh(tokens.refresh_token)).json).toEqual({
      error: 'invalid_grant',
      error_description: 'Refresh token revoked',
    });
    expect((await refresh(next)).status).toBe(200);
  });

  it('unknown → Invalid refresh token; missing → invalid_request', async () => {
    expect((await refresh('nope')).json).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    const missing = await postToken(emulator, { grant_type: 'refresh_token' }, { auth: SANDBOX_AUTH });
    expect(missing.json).toEqual({
      error: 'invalid_request',
      error_description: 'refresh_token must be supplied',
    });
  });

  it('another client cannot use the refresh token', async () => {
    await control(emulator, 'apps', {
      client_id: 'thief-app',
      client_secret: 'thief',
      redirect_uris: [REDIRECT_URI],
    });
    const tokens = await login();
    const result = await postToken(
      emulator,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      { auth: basic('thief-app', 'thief') },
    );
    expect(result.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
  });

  it('revoked → bare invalid_grant, and its access tokens die too', async () => {
    const tokens = await login();
    await control(emulator, 'revoke', { user_id: 'alice', client_id: CLIENT_ID });
    const result = await refresh(tokens.refresh_token);
    expect(result.status).toBe(400);
    expectTokenHeaders(result.response);
    expect(result.text).toBe('{"error":"invalid_grant"}');
    expect(emulator.state.lookupAccessToken(tokens.access_token)).toBeUndefined();
  });

  it('6 months after the ORIGINAL authorization → bare invalid_grant, even with refreshes in between', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const tokens = await login();
    await control(emulator, 'clock', { advance_seconds: 100 * 24 * 3600 });
    const mid = await refresh(tokens.refresh_token);
    expect(mid.status).toBe(200);
    await control(emulator, 'clock', { advance_seconds: 82 * 24 * 3600 });
    const late = await refresh(must(mid.json, 'a JSON body')['refresh_token'] as string);
    expect(late.status).toBe(200);
    await control(emulator, 'clock', { advance_seconds: 12 * 3600 + 1 });
    expect((await refresh(must(late.json, 'a JSON body')['refresh_token'] as string)).text).toBe(
      '{"error":"invalid_grant"}',
    );
    // Re-authorizing starts a new 6 months.
    const fresh = await login();
    expect((await refresh(fresh.refresh_token)).status).toBe(200);
  });
});

describe('client_credentials', () => {
  it('app token: no refresh_token, no user', async () => {
    const result = await postToken(emulator, { grant_type: 'client_credentials' }, { auth: SANDBOX_AUTH });
    expect(result.status).toBe(200);
    expectTokenHeaders(result.response);
    expect(Object.keys(must(result.json, 'a JSON body')).sort()).toEqual([
      'access_token',
      'expires_in',
      'token_type',
    ]);
    expect(result.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(
      emulator.state.lookupAccessToken(must(result.json, 'a JSON body')['access_token'] as string),
    ).toMatchObject({
      userId: null,
      clientId: CLIENT_ID,
      scopes: [],
    });
  });

  it('access_token_ttl is configurable and tokens expire on the emulator clock', async () => {
    await control(emulator, 'config', { access_token_ttl: 60 });
    try {
      const result = await postToken(emulator, { grant_type: 'client_credentials' }, { auth: SANDBOX_AUTH });
      expect(must(result.json, 'a JSON body')['expires_in']).toBe(60);
      const token = must(result.json, 'a JSON body')['access_token'] as string;
      expect(emulator.state.lookupAccessToken(token)).toBeDefined();
      await control(emulator, 'clock', { advance_seconds: 60 });
      expect(emulator.state.lookupAccessToken(token)).toBeUndefined();
    } finally {
      await control(emulator, 'config', { access_token_ttl: 3600 });
    }
  });
});
