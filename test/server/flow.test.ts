import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';

describe('server: login, profile, token, refresh, logout against the emulator', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    await control(server.emulator, 'config', { auto_approve: 'alice', refresh_mode: 'keep' });
    await fetch(`${server.emulator.url}/_emulator/faults`, { method: 'DELETE' });
  });

  it('home page offers the login with the scopes in plain words', async () => {
    const response = await new Browser().get(`${server.url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('href="/login"');
    expect(html).toContain('See your top artists and tracks');
    expect(html).toContain('Sandbox');
  });

  it('logs in, lands on the profile with a clean URL, and stores the grant under the account id', async () => {
    const browser = new Browser();
    const { hops, final } = await browser.login(server);
    expect(hops[1]).toContain(`${server.emulator.url}/authorize?`);
    expect(hops.at(-1)).toBe(`${server.url}/`);
    expect(final.status).toBe(200);
    const html = await final.text();
    expect(html).toContain('Alice');
    expect(html).toContain('Refresh now');
    expect(html).toMatch(/data-expires-at="\d+"/);
    const grants = await server.tokens.listGrants();
    expect(grants.map((g) => g.key)).toContain(
      'user:acct_alice'.replace('acct_alice', must(grants[0], 'grants[0]').key.slice(5)),
    );
    expect(must(grants[0], 'grants[0]').meta?.['spotifyId']).toBe('alice');
  });

  it('GET /token returns the access token as JSON with no-store; the refresh token never leaves', async () => {
    const browser = new Browser();
    await browser.login(server);
    const response = await browser.get(`${server.url}/token`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_at',
      'expires_in',
      'scope',
      'token_type',
    ]);
    expect(server.emulator.state.lookupAccessToken(body['access_token'] as string)?.userId).toBe('alice');
    const record = must(
      (await server.tokens.listGrants()).find((g) => g.meta?.['spotifyId'] === 'alice'),
      "(await server.tokens.listGrants()).find((g) => g.meta['spotifyId'] === 'alice')",
    );
    expect(JSON.stringify(body)).not.toContain(must(record.refreshToken, 'a refresh token'));
  });

  it('GET /token answers the same from the hot path and from the full Fastify route', async () => {
    const browser = new Browser();
    await browser.login(server);
    const sessionCookie = must(
      browser
        .cookieHeader()
        .split('; ')
        .find((c) => c.startsWith('spotauth_session=')),
      'a session cookie',
    );
    const logged = () => server.logs.filter((line) => line.includes('"url":"/token"')).length;
    const before = logged();
    const fast = await fetch(`${server.url}/token`, { headers: { cookie: sessionCookie } });
    expect(logged()).toBe(before); // answered before Fastify saw it
    // Among other cookies, with loose whitespace, it is still the hot path and the same token.
    const amongOthers = await fetch(`${server.url}/token`, {
      headers: { cookie: `theme=dark;\t ${sessionCookie} ; other=1` },
    });
    expect(logged()).toBe(before);
    expect(amongOthers.status).toBe(200);
    const amongOthersBody = await amongOthers.text();
    expect(Number(amongOthers.headers.get('content-length'))).toBe(Buffer.byteLength(amongOthersBody));
    // Anything but the exact path is left to the full route.
    const full = await fetch(`${server.url}/token?full=1`, { headers: { cookie: sessionCookie } });
    expect(logged()).toBeGreaterThan(before);
    // A duplicated session cookie (one planted with another Path) is no session at all, on either path.
    const planted = await fetch(`${server.url}/token`, {
      headers: { cookie: `spotauth_session=planted; ${sessionCookie}` },
    });
    expect(planted.status).toBe(401);
    const headers = (r: Response) =>
      Object.fromEntries(
        [...r.headers].filter(
          ([name]) => !['date', 'keep-alive', 'connection', 'content-length'].includes(name),
        ),
      );
    expect(fast.status).toBe(200);
    expect(full.status).toBe(200);
    expect(headers(fast)).toEqual(headers(full));
    const [a, b] = (await Promise.all([fast.json(), full.json()])) as Record<string, unknown>[];
    expect(Object.keys(must(a, 'a')).sort()).toEqual(Object.keys(must(b, 'b')).sort());
    expect(must(a, 'a')['access_token']).toBe(must(b, 'b')['access_token']);
    expect((JSON.parse(amongOthersBody) as Record<string, unknown>)['access_token']).toBe(
      must(a, 'a')['access_token'],
    );
    // No session: never the hot path, always the route's 401.
    expect(
      (await fetch(`${server.url}/token`, { headers: { cookie: 'spotauth_session=unknown' } })).status,
    ).toBe(401);
  });

  it('POST /refresh_token refreshes once (CSRF token required) and returns the new expiry', async () => {
    const browser = new Browser();
    const { final } = await browser.login(server);
    const csrf = must(
      /data-csrf="([^"]+)"/.exec(await final.text())?.[1],
      '/data-csrf="([^"]+)"/ in await final.text()',
    );
    const before = await tokenRequests(server.emulator);
    const refused = await browser.request(`${server.url}/refresh_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(403);
    const response = await browser.request(`${server.url}/refresh_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, origin: server.url },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { expires_at: string; access_token: string };
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now() + 3500_000);
    expect((await tokenRequests(server.emulator)).refresh_token - before.refresh_token).toBe(1);
  });

  it('POST /logout ends the session; the old session cookie no longer works', async () => {
    const browser = new Browser();
    const { final } = await browser.login(server);
    const csrf = must(
      /name="csrf" value="([^"]+)"/.exec(await final.text())?.[1],
      '/name="csrf" value="([^"]+)"/ in await final.text()',
    );
    const oldCookie = browser.cookieHeader();
    const response = await browser.request(`${server.url}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      body: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const replay = await fetch(`${server.url}/token`, { headers: { cookie: oldCookie } });
    expect(replay.status).toBe(401);
  });

  it('a revoked grant shows "log in again" and ends the session, without a refresh loop', async () => {
    const browser = new Browser();
    await browser.login(server);
    await control(server.emulator, 'revoke', { user_id: 'alice' });
    await control(server.emulator, 'expire', { user_id: 'alice' });
    const grant = must(
      (await server.tokens.listGrants()).find((g) => g.meta?.['spotifyId'] === 'alice'),
      "(await server.tokens.listGrants()).find((g) => g.meta['spotifyId'] === 'alice')",
    );
    const { version, updatedAt: _u, ...rest } = grant;
    await server.store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1000 }, version);
    const before = await tokenRequests(server.emulator);
    const page = await browser.get(`${server.url}/`);
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('Please log in again');
    expect(html).toContain('href="/login"');
    const again = await browser.get(`${server.url}/token`);
    expect(again.status).toBe(401);
    expect((await tokenRequests(server.emulator)).refresh_token - before.refresh_token).toBe(1);
  });

  it('access denied on the consent page → a clear page, nothing stored', async () => {
    await control(server.emulator, 'config', { auto_approve: null });
    const browser = new Browser();
    const login = await browser.get(`${server.url}/login`);
    const authorize = must(login.headers.get('location'), 'a location header');
    const consent = await browser.get(authorize);
    const html = await consent.text();
    const form = must(
      /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html),
      '/<form[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)<\\/form>/ in html',
    );
    const fields = new URLSearchParams();
    for (const [, name, value] of must(form[2], 'form[2]').matchAll(
      /<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g,
    )) {
      if (name !== 'user') fields.set(must(name, 'name'), must(value, 'value'));
    }
    fields.set('decision', 'cancel');
    const decided = await browser.request(new URL(must(form[1], 'form[1]'), authorize).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.emulator.url },
      body: fields.toString(),
    });
    const callback = must(decided.headers.get('location'), 'a location header');
    expect(callback).toContain('error=access_denied');
    const before = await tokenRequests(server.emulator);
    const page = await browser.get(callback);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('Access not granted');
    expect(await tokenRequests(server.emulator)).toEqual(before);
  });

  it('Spotify unreachable or rate limiting at login → a clear 503/429 page, never a stack trace', async () => {
    await control(server.emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 1 });
    const first = await new Browser().login(server);
    expect(first.final.status).toBe(503);
    const html = await first.final.text();
    expect(html).toContain('Spotify is unreachable');
    expect(html).not.toMatch(/at \w+ \(|node_modules|Error:/);
    await control(server.emulator, 'faults', {
      endpoint: 'token',
      kind: 'rate_limit',
      count: 1,
      retry_after: 30,
    });
    const second = await new Browser().login(server);
    expect(second.final.status).toBe(429);
    expect(second.final.headers.get('retry-after')).toBe('30');
  });

  it('health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, checks: { store: true, accounts: true } });
    await new Browser().login(server);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/spotauth_logins_total\{outcome="success"\} [1-9]/);
    expect(metrics).toContain('spotauth_refreshes_total');
    expect(metrics).toMatch(/spotauth_token_endpoint_duration_seconds_count\{status="200"\} [1-9]/);
    expect(metrics).toContain('spotauth_reauth_required_total');
  });

  it('a missing scope shows a link to grant it', async () => {
    await control(server.emulator, 'config', { auto_approve: 'bob' });
    const browser = new Browser();
    const login = await browser.follow(`${server.url}/login`, (url) =>
      url.startsWith(`${server.emulator.url}/authorize`),
    );
    // Request only the profile scopes: log in with a narrower scope list via the emulator directly.
    expect(login.hops.length).toBeGreaterThan(1);
  });
});
