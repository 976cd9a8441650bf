import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, SANDBOX_APP } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  authorizeCode,
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  exchange,
  postToken,
  REDIRECT_URI,
  start,
  stats,
} from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start({ autoApprove: 'alice' });
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await control(emulator, 'faults', undefined, 'DELETE');
  await control(emulator, 'stats/reset');
});

const cc = () =>
  postToken(emulator, { grant_type: 'client_credentials' }, { auth: basic(CLIENT_ID, CLIENT_SECRET) });

describe('faults on /api/token', () => {
  it('server_error: 503 with a non-JSON body, then back to normal', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 2 });
    for (let i = 0; i < 2; i++) {
      const result = await cc();
      expect(result.status).toBe(503);
      expect(result.response.headers.get('content-type')).toBe('text/html');
      expect(result.json).toBeUndefined();
      expect(result.text).toContain('503 Service Temporarily Unavailable');
    }
    expect((await cc()).status).toBe(200);
    const s = await stats(emulator);
    expect(s.token_requests['client_credentials']).toBe(3);
    expect(s.token_faults['server_error']).toBe(2);
  });

  it("error_transient: Spotify's non-RFC errorTransient body, 503 by default or 500", async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'error_transient' });
    const first = await cc();
    expect(first.status).toBe(503);
    expect(first.json).toEqual({
      error: 'errorTransient',
      error_description: 'Temporary error, please retry',
    });
    await control(emulator, 'faults', { endpoint: 'token', kind: 'error_transient', status: 500 });
    expect((await cc()).status).toBe(500);
  });

  it('rate_limit: 429 with Retry-After (default 1)', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'rate_limit', retry_after: 7 });
    await control(emulator, 'faults', { endpoint: 'token', kind: 'rate_limit' });
    const first = await cc();
    expect(first.status).toBe(429);
    expect(first.response.headers.get('retry-after')).toBe('7');
    expect(first.json).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    expect((await cc()).response.headers.get('retry-after')).toBe('1');
    expect((await cc()).status).toBe(200);
  });

  it('latency: waits, then answers normally', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'latency', latency_ms: 300 });
    const started = Date.now();
    const result = await cc();
    expect(result.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('response_latency: the request takes effect at once, its answer comes later', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    try {
      const first = must(
        (await exchange(emulator, await authorizeCode(emulator))).json,
        '(await exchange(emulator, await authorizeCode(emulator))).json',
      );
      const refresh = (token: unknown) =>
        postToken(
          emulator,
          { grant_type: 'refresh_token', refresh_token: String(token) },
          { auth: basic(CLIENT_ID, CLIENT_SECRET) },
        );
      await control(emulator, 'faults', { endpoint: 'token', kind: 'response_latency', latency_ms: 120_000 });
      const before = (await stats(emulator)).token_successes;
      const slow = refresh(first['refresh_token']);
      while ((await stats(emulator)).token_successes === before) await new Promise((r) => setTimeout(r, 10));
      // Rotated already, while its answer is still held: the old refresh token is spent.
      const replay = await refresh(first['refresh_token']);
      expect(replay.json).toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
      expect((await control(emulator, 'faults/release')).json).toEqual({ released: 1 });
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect((await refresh(must(answer.json, 'a JSON body')['refresh_token'])).status).toBe(200);
      expect((await stats(emulator)).token_faults['response_latency']).toBe(1);
    } finally {
      await control(emulator, 'config', { refresh_mode: 'keep' });
    }
  });

  it('latency: held requests are listed, and released early on request', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'latency', latency_ms: 120_000, count: 2 });
    const held = [cc(), cc()];
    while (
      must(
        (await control(emulator, 'faults', undefined, 'GET')).json,
        "(await control(emulator, 'faults', undefined, 'GET')).json",
      )['held'] !== 2
    )
      await new Promise((r) => setTimeout(r, 10));
    expect((await control(emulator, 'faults/release')).json).toEqual({ released: 2 });
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await control(emulator, 'faults', undefined, 'GET')).json).toEqual({ faults: [], held: 0 });
  });

  it('redirect: 302 to a target that counts followers', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'redirect' });
    const result = await cc();
    expect(result.status).toBe(302);
    expect(result.response.headers.get('location')).toBe(`${emulator.url}/_emulator/redirect-target`);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'redirect' });
    const followed = await fetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(CLIENT_ID, CLIENT_SECRET),
      },
      body: 'grant_type=client_credentials',
    });
    expect(followed.status).toBe(200);
    expect((await stats(emulator)).redirect_follows).toBe(1);
  });

  it('a code is not consumed by a replacing fault', async () => {
    const code = await authorizeCode(emulator);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error' });
    expect((await exchange(emulator, code)).status).toBe(503);
    expect((await exchange(emulator, code)).status).toBe(200);
  });

  const shapes: [string, (json: Record<string, unknown>) => void][] = [
    ['bad_token_type', (j) => expect(j['token_type']).toBe('mac')],
    ['bad_expires_in', (j) => expect(j['expires_in']).toBe('abc')],
    ['lowercase_bearer', (j) => expect(j['token_type']).toBe('bearer')],
    ['no_expires_in', (j) => expect(j).not.toHaveProperty('expires_in')],
  ];
  for (const [kind, check] of shapes) {
    it(`${kind}: deforms the next successful response`, async () => {
      await control(emulator, 'faults', { endpoint: 'token', kind });
      // An error response does not use up a shaping fault.
      expect(
        (await postToken(emulator, { grant_type: 'client_credentials' }, { auth: basic(CLIENT_ID, 'x') }))
          .status,
      ).toBe(400);
      const result = await cc();
      expect(result.status).toBe(200);
      expect(must(result.json, 'a JSON body')['access_token']).toBeTruthy();
      check(must(result.json, 'a JSON body'));
      const next = await cc();
      expect(next.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect((await stats(emulator)).token_faults[kind]).toBe(1);
    });
  }

  it('huge_body: a ~5 MB JSON 200', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'huge_body' });
    const result = await cc();
    expect(result.status).toBe(200);
    expect(result.text.length).toBe(5 * 1024 * 1024);
    expect(must(result.json, 'a JSON body')['token_type']).toBe('Bearer');
  });

  it('faults are listed, cleared, and validated', async () => {
    await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 3 });
    const listed = await control(emulator, 'faults', undefined, 'GET');
    expect(listed.json).toMatchObject({
      faults: [{ kind: 'server_error', remaining: 3, endpoint: 'token' }],
    });
    await control(emulator, 'faults', undefined, 'DELETE');
    expect((await cc()).status).toBe(200);
    for (const bad of [
      { kind: 'nope' },
      { kind: 'server_error', endpoint: 'authorize' },
      { kind: 'latency', count: 0 },
      { kind: 'rate_limit', retry_after: -1 },
    ]) {
      const result = await control(emulator, 'faults', bad);
      expect(result.status, JSON.stringify(bad)).toBe(400);
      expect(result.json).toMatchObject({ error: { status: 400 } });
    }
  });
});

describe('stats', () => {
  it('counts every token request by grant type and client, successes, errors', async () => {
    await cc();
    await postToken(
      emulator,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { auth: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    await postToken(
      emulator,
      { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI },
      { auth: basic('nobody', 'x') },
    );
    await postToken(emulator, {}, { contentType: 'application/json', body: '{}' });
    const s = await stats(emulator);
    expect(s.token_requests).toEqual({
      authorization_code: 1,
      refresh_token: 1,
      client_credentials: 1,
      other: 1,
    });
    expect(s.token_requests_total).toBe(4);
    expect(s.token_successes).toBe(1);
    expect(s.token_errors).toEqual({ invalid_grant: 1, invalid_client: 1, unsupported_grant_type: 1 });
    expect(s.token_requests_by_client[CLIENT_ID]).toMatchObject({ client_credentials: 1, refresh_token: 1 });
    expect(s.token_requests_by_client['(unknown)']).toMatchObject({ authorization_code: 1, other: 1 });
  });

  it('reset zeroes everything', async () => {
    await cc();
    const reset = await control(emulator, 'stats/reset');
    expect(reset.json).toMatchObject({ token_requests_total: 0, authorize_requests: 0 });
    expect((await stats(emulator)).token_requests['client_credentials']).toBe(0);
  });
});

describe('users, apps, config, clock, revoke, expire', () => {
  it('health', async () => {
    expect(await control(emulator, 'health', undefined, 'GET')).toEqual({ status: 200, json: { ok: true } });
  });

  it('lists seeded users and registers new ones', async () => {
    const list = (await control(emulator, 'users', undefined, 'GET')).json as unknown as {
      id: string;
      images: unknown[];
    }[];
    expect(list.map((u) => u.id)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    expect(
      must(
        list.find((u) => u.id === 'carol'),
        "list.find((u) => u.id === 'carol')",
      ).images,
    ).toEqual([]);
    const created = await control(emulator, 'users', {
      id: 'dave',
      display_name: 'Dave',
      email: 'd@example.com',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'dave', display_name: 'Dave', email: 'd@example.com' });
    await control(emulator, 'config', { auto_approve: 'dave' });
    const code = await authorizeCode(emulator);
    const token = await exchange(emulator, code);
    expect(
      emulator.state.lookupAccessToken(must(token.json, 'a JSON body')['access_token'] as string)?.userId,
    ).toBe('dave');
    await control(emulator, 'config', { auto_approve: 'alice' });
    expect((await control(emulator, 'users', { display_name: 'no id' })).status).toBe(400);
    expect((await control(emulator, 'users', { id: '../x' })).status).toBe(400);
  });

  it('lists and registers apps, refusing Spotify-invalid redirect URIs', async () => {
    const list = (await control(emulator, 'apps', undefined, 'GET')).json as unknown as {
      client_id: string;
    }[];
    expect(list.map((a) => a.client_id)).toContain(SANDBOX_APP.clientId);
    const created = await control(emulator, 'apps', {
      client_id: 'my-app',
      client_secret: 'sec',
      redirect_uris: ['https://a.example/cb'],
    });
    expect(created.status).toBe(201);
    for (const uri of [
      'http://localhost:8888/callback',
      'http://example.com/cb',
      'not a url',
      'https://a.example/cb#frag',
    ]) {
      expect(
        (await control(emulator, 'apps', { client_id: 'bad-app', redirect_uris: [uri] })).status,
        uri,
      ).toBe(400);
    }
  });

  it('config: read, change, validate', async () => {
    const current = await control(emulator, 'config', undefined, 'GET');
    expect(current.json).toEqual({
      refresh_mode: 'keep',
      access_token_ttl: 3600,
      refresh_token_lifetime: 15_768_000,
      authorization_code_ttl: 300,
      auto_approve: 'alice',
      dev_mode_profile: null,
      player_success: 'no_content',
      player_reasons: 'observed',
      unauthorized_messages: '2026',
      owner_premium_body: 'json',
      allowlist: null,
      cors_expose_headers: [],
      token_cors_origin: '*',
    });
    expect((await control(emulator, 'config', { refresh_mode: 'sometimes' })).status).toBe(400);
    expect((await control(emulator, 'config', { access_token_ttl: -5 })).status).toBe(400);
    expect((await control(emulator, 'config', { access_token_ttl: 10, refresh_mode: 'bad' })).status).toBe(
      400,
    );
    expect(
      must(
        (await control(emulator, 'config', undefined, 'GET')).json,
        "(await control(emulator, 'config', undefined, 'GET')).json",
      )['access_token_ttl'],
    ).toBe(3600);
  });

  it('refresh_token_lifetime is configurable', async () => {
    await control(emulator, 'config', { refresh_token_lifetime: 100 });
    try {
      const tokens = must(
        (await exchange(emulator, await authorizeCode(emulator))).json,
        '(await exchange(emulator, await authorizeCode(emulator))).json',
      );
      await control(emulator, 'clock', { advance_seconds: 100 });
      const result = await postToken(
        emulator,
        { grant_type: 'refresh_token', refresh_token: tokens['refresh_token'] as string },
        { auth: basic(CLIENT_ID, CLIENT_SECRET) },
      );
      expect(result.json).toEqual({ error: 'invalid_grant' });
    } finally {
      await control(emulator, 'config', { refresh_token_lifetime: 15_768_000 });
    }
  });

  it('clock: advances and validates', async () => {
    const before = must(
      (await control(emulator, 'clock', undefined, 'GET')).json,
      "(await control(emulator, 'clock', undefined, 'GET')).json",
    )['now'] as number;
    const after = must(
      (await control(emulator, 'clock', { advance_seconds: 10 })).json,
      "(await control(emulator, 'clock', { advance_seconds: 10 })).json",
    )['now'] as number;
    expect(after - before).toBeGreaterThanOrEqual(10_000);
    expect((await control(emulator, 'clock', { advance_seconds: -1 })).status).toBe(400);
    expect((await control(emulator, 'clock', { advance_seconds: 'soon' })).status).toBe(400);
  });

  it('expire: access tokens expire now (one user or all); refresh still works', async () => {
    const alice = must(
      (await exchange(emulator, await authorizeCode(emulator))).json,
      '(await exchange(emulator, await authorizeCode(emulator))).json',
    );
    const app = must((await cc()).json, '(await cc()).json');
    expect(
      must(
        (await control(emulator, 'expire', { user_id: 'alice' })).json,
        "(await control(emulator, 'expire', { user_id: 'alice' })).json",
      )['expired_access_tokens'],
    ).toBeGreaterThanOrEqual(1);
    expect(emulator.state.lookupAccessToken(alice['access_token'] as string)).toBeUndefined();
    expect(emulator.state.lookupAccessToken(app['access_token'] as string)).toBeDefined();
    await control(emulator, 'expire', {});
    expect(emulator.state.lookupAccessToken(app['access_token'] as string)).toBeUndefined();
    const refreshed = await postToken(
      emulator,
      { grant_type: 'refresh_token', refresh_token: alice['refresh_token'] as string },
      { auth: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    expect(refreshed.status).toBe(200);
  });

  it('revoke: only the named client when given, all clients otherwise', async () => {
    await control(emulator, 'apps', {
      client_id: 'second',
      client_secret: 'two',
      redirect_uris: [REDIRECT_URI],
    });
    const first = must(
      (await exchange(emulator, await authorizeCode(emulator))).json,
      '(await exchange(emulator, await authorizeCode(emulator))).json',
    );
    const code = await authorizeCode(emulator, { client_id: 'second' });
    const second = must(
      (
        await postToken(
          emulator,
          { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
          { auth: basic('second', 'two') },
        )
      ).json,
      'a token response',
    );
    const revoked = await control(emulator, 'revoke', { user_id: 'alice', client_id: 'second' });
    expect(revoked.json).toMatchObject({ revoked_grants: 1 });
    expect(emulator.state.lookupAccessToken(second['access_token'] as string)).toBeUndefined();
    expect(emulator.state.lookupAccessToken(first['access_token'] as string)).toBeDefined();
    await control(emulator, 'revoke', { user_id: 'alice' });
    expect(emulator.state.lookupAccessToken(first['access_token'] as string)).toBeUndefined();
    expect((await control(emulator, 'revoke', {})).status).toBe(400);
  });
});

describe('hostile input and odd requests', () => {
  it('control API: bad JSON, non-object, too large', async () => {
    const post = (body: string) =>
      fetch(`${emulator.url}/_emulator/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect((await post('{')).status).toBe(400);
    expect((await post('[1,2]')).status).toBe(400);
    expect((await post(JSON.stringify({ id: 'x', pad: 'y'.repeat(100_000) }))).status).toBe(413);
  });

  it('refuses cross-origin browser requests to the control API', async () => {
    const response = await fetch(`${emulator.url}/_emulator/config`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ auto_approve: 'bob' }),
    });
    expect(response.status).toBe(403);
    expect(emulator.state.config.autoApprove).toBe('alice');
  });

  it('consent decision: no body, garbage, oversized', async () => {
    const post = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${emulator.url}/authorize/decision`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
        redirect: 'manual',
      });
    expect((await post('')).status).toBe(400);
    expect((await post('%%%&&==')).status).toBe(400);
    expect((await post('{}', 'application/json')).status).toBe(400);
    expect((await post(`request_id=${'x'.repeat(100_000)}`)).status).toBe(413);
  });

  it('unknown paths → Spotify-style 404 JSON; wrong method → 405', async () => {
    const response = await fetch(`${emulator.url}/v1/nothing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { status: 404, message: 'Service not found' } });
    const wrong = await fetch(`${emulator.url}/authorize`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
  });

  it('a huge query string is refused without crashing', async () => {
    const response = await fetch(`${emulator.url}/authorize?state=${'x'.repeat(20_000)}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect((await control(emulator, 'health', undefined, 'GET')).status).toBe(200);
  });

  it('the home page explains what this is, without external assets', async () => {
    const response = await fetch(`${emulator.url}/`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('spotauth Spotify emulator');
    expect(html).toContain('/api/token');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
