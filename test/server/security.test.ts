import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/auth/security.js';
import { control, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';

/** SECURITY.md §1, §3, §5, §6, §7: each T line as a test against the real server and emulator. */
describe('server security', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      emulator: { tokenPrefix: 'tok_CANARY_' },
      env: { SPOTAUTH_LOGIN_RATE_LIMIT: '1000' },
    });
  });
  afterAll(() => server.close());

  /** Starts a login in `browser` and returns the callback URL the emulator sends back (not yet visited). */
  async function callbackFor(browser: Browser): Promise<URL> {
    const login = await browser.get(`${server.url}/login`);
    const authorize = await browser.get(must(login.headers.get('location'), 'a location header'));
    return new URL(must(authorize.headers.get('location'), 'a location header'));
  }

  function sessionCookies(response: Response): string[] {
    return response.headers
      .getSetCookie()
      .filter((c) => c.startsWith('spotauth_session=') && !/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c));
  }

  describe('§1.1 state: 400, no token request, no session', () => {
    const cases: [string, (cb: URL) => string][] = [
      ['(a) no state', (cb) => cb.href.replace(/([?&])state=[^&]*/, '$1')],
      ['(b) wrong state', (cb) => cb.href.replace(/state=[^&]*/, 'state=forged')],
      [
        '(e) access_denied with a wrong state',
        (cb) => `${cb.origin}${cb.pathname}?error=access_denied&state=wrong`,
      ],
      ['(f) duplicated state', (cb) => `${cb.href}&state=${cb.searchParams.get('state')}`],
      ['duplicated code', (cb) => `${cb.href}&code=x`],
      [
        'a 5 KiB code (§7.2)',
        (cb) => `${cb.origin}${cb.pathname}?code=${'a'.repeat(5120)}&state=${cb.searchParams.get('state')}`,
      ],
    ];
    for (const [name, mutate] of cases) {
      it(name, async () => {
        const browser = new Browser();
        const callback = await callbackFor(browser);
        const before = await tokenRequests(server.emulator);
        const response = await browser.get(mutate(callback));
        expect(response.status).toBe(400);
        expect(sessionCookies(response)).toEqual([]);
        expect(await tokenRequests(server.emulator)).toEqual(before);
      });
    }

    it('(c) a replayed callback is refused before any token request', async () => {
      const browser = new Browser();
      const callback = await callbackFor(browser);
      const loginCookie = must(browser.cookies.get('spotauth_login'), 'a spotauth_login cookie');
      expect((await browser.get(callback.href)).status).toBe(303);
      const before = await tokenRequests(server.emulator);
      const replay = await fetch(callback, {
        headers: { cookie: `spotauth_login=${loginCookie}` },
        redirect: 'manual',
      });
      expect(replay.status).toBe(400);
      expect(await tokenRequests(server.emulator)).toEqual(before);
    });

    it("(d) a valid state with another browser's transaction cookie is refused", async () => {
      const victim = new Browser();
      const attacker = new Browser();
      await callbackFor(victim);
      const attackerCallback = await callbackFor(attacker);
      const before = await tokenRequests(server.emulator);
      const response = await victim.get(attackerCallback.href);
      expect(response.status).toBe(400);
      expect(sessionCookies(response)).toEqual([]);
      expect(await tokenRequests(server.emulator)).toEqual(before);
    });

    it('a callback with no login cookie at all is refused', async () => {
      const callback = await callbackFor(new Browser());
      const response = await fetch(callback, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('Login expired or not started here');
    });
  });

  it('§1.3 a spoofed Host still yields the configured redirect_uri', async () => {
    const response = await fetch(`${server.url}/login`, {
      headers: { host: 'evil.test' },
      redirect: 'manual',
    });
    const location = new URL(must(response.headers.get('location'), 'a location header'));
    expect(location.searchParams.get('redirect_uri')).toBe(`${server.url}/callback`);
  });

  it('§1.6 the callback answers 303 to a clean URL, with no-referrer and no-store, empty body', async () => {
    const browser = new Browser();
    const callback = await callbackFor(browser);
    const response = await browser.get(callback.href);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('');
  });

  it('§1.7 an error_description with markup is escaped; no token request; the transaction is gone', async () => {
    await control(server.emulator, 'config', { auto_approve: 'alice' });
    const browser = new Browser();
    const callback = await callbackFor(browser);
    const state = must(callback.searchParams.get('state'), 'a state parameter');
    const before = await tokenRequests(server.emulator);
    const hostile = `${callback.origin}${callback.pathname}?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}`;
    const response = await browser.get(hostile);
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).not.toContain('<script>alert');
    expect(await tokenRequests(server.emulator)).toEqual(before);
    expect((await browser.get(callback.href)).status).toBe(400);
  });

  it('§3.1 cookies: HttpOnly, SameSite=Lax, Path=/, no Domain; the login cookie expires in 10 minutes', async () => {
    const browser = new Browser();
    const login = await browser.get(`${server.url}/login`);
    const [loginCookie] = login.headers.getSetCookie();
    expect(loginCookie).toMatch(/^spotauth_login=[A-Za-z0-9_-]{43};/);
    expect(loginCookie).toContain('Max-Age=600');
    for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Path=/']) expect(loginCookie).toContain(attribute);
    expect(loginCookie).not.toMatch(/Domain=/i);
    const authorize = await browser.get(must(login.headers.get('location'), 'a location header'));
    const callback = await browser.get(must(authorize.headers.get('location'), 'a location header'));
    const [session] = sessionCookies(callback);
    expect(session).toMatch(/^spotauth_session=[A-Za-z0-9_-]{43};/);
    for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Path=/']) expect(session).toContain(attribute);
    // The cookie is an opaque random id: it decodes to nothing meaningful.
    expect(
      Buffer.from(
        must(session?.split(';')[0]?.split('=')[1], "session.split(';')[0].split('=')[1]"),
        'base64url',
      ).toString('latin1'),
    ).not.toMatch(/state|verifier|alice/);
  });

  it('§3.1 over https the cookies are __Host- prefixed and Secure', async () => {
    const { cookieNames } = await import('../../src/auth/security.js');
    const { serializeCookie } = await import('../../src/auth/http.js');
    const names = cookieNames(new URL('https://music.example'));
    expect(names.session).toBe('__Host-spotauth_session');
    expect(names.login).toBe('__Host-spotauth_login');
    expect(serializeCookie(names.session, 'id', { secure: names.secure })).toBe(
      '__Host-spotauth_session=id; Path=/; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it('§3.2 session fixation: an attacker-chosen session id is replaced at login', async () => {
    const browser = new Browser();
    browser.cookies.set('spotauth_session', 'attacker-chosen-session-id');
    await browser.login(server);
    expect(browser.cookies.get('spotauth_session')).not.toBe('attacker-chosen-session-id');
    const attacker = await fetch(`${server.url}/token`, {
      headers: { cookie: 'spotauth_session=attacker-chosen-session-id' },
    });
    expect(attacker.status).toBe(401);
  });

  it('§3.3 open redirects: every hostile returnTo becomes /', async () => {
    const origin = server.url;
    const hostile = [
      'https://evil.com',
      '//evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      '/%5cevil.com',
      'javascript:alert(1)',
      'http://127.0.0.1.evil.com',
      '/ok\r\nSet-Cookie:x',
      `/${'a'.repeat(3000)}`,
    ];
    for (const value of hostile) expect(safeReturnTo(value, origin), value).toBe('/');
    expect(safeReturnTo('/me?tab=1', origin)).toBe('/me?tab=1');
    // End to end: returnTo travels in the server-side transaction and is honoured after login.
    const browser = new Browser();
    const { hops } = await browser.login(server, `/login?returnTo=${encodeURIComponent('//evil.com')}`);
    expect(hops.at(-1)).toBe(`${server.url}/`);
    const good = await new Browser().login(server, `/login?returnTo=${encodeURIComponent('/token?x=1')}`);
    expect(good.hops.at(-1)).toBe(`${server.url}/token?x=1`);
  });

  it('§3.4 a cross-site POST is refused and the session stays valid', async () => {
    const browser = new Browser();
    const { final } = await browser.login(server);
    const csrf = must(
      /name="csrf" value="([^"]+)"/.exec(await final.text())?.[1],
      '/name="csrf" value="([^"]+)"/ in await final.text()',
    );
    const response = await browser.request(`${server.url}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.test' },
      body: `csrf=${csrf}`,
    });
    expect(response.status).toBe(403);
    expect((await browser.get(`${server.url}/token`)).status).toBe(200);
  });

  it('§7.2 size limits: a 17 KiB POST → 413, a 20 KiB Cookie header → 431, never a 500', async () => {
    const big = await fetch(`${server.url}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${'a'.repeat(17 * 1024)}`,
    });
    expect(big.status).toBe(413);
    const cookie = await fetch(`${server.url}/`, { headers: { cookie: `x=${'a'.repeat(20 * 1024)}` } });
    expect(cookie.status).toBe(431);
    const junk = await fetch(`${server.url}/refresh_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(junk.status).toBeGreaterThanOrEqual(400);
    expect(junk.status).toBeLessThan(500);
    const badScope = await fetch(`${server.url}/login?scope=user-read-birthdate`, { redirect: 'manual' });
    expect(badScope.status).toBe(400);
    expect(await badScope.text()).toContain('user-read-birthdate');
    const twice = await fetch(`${server.url}/login?scope=a&scope=b`, { redirect: 'manual' });
    expect(twice.status).toBe(400);
  });

  it('security headers: CSP without inline script, no-referrer, nosniff, frame-ancestors none', async () => {
    const response = await fetch(`${server.url}/`);
    const csp = must(response.headers.get('content-security-policy'), 'a content-security-policy header');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('§5 logs never contain a token, a code, a cookie or a callback query', async () => {
    const browser = new Browser();
    const callback = await callbackFor(browser);
    await browser.get(callback.href);
    const token = (await (await browser.get(`${server.url}/token`)).json()) as { access_token: string };
    const logs = server.logs.join('');
    expect(logs.length).toBeGreaterThan(100);
    expect(logs).toContain('"url":"/callback"');
    expect(logs).not.toContain('tok_CANARY_');
    expect(logs).not.toContain(token.access_token);
    expect(logs).not.toContain(must(callback.searchParams.get('code'), 'a code parameter'));
    expect(logs).not.toContain(must(callback.searchParams.get('state'), 'a state parameter'));
    expect(logs).not.toMatch(/code=|Bearer |spotauth_session=/);
  });

  it('§6 no Math.random or randomUUID anywhere in src/', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.ts$/.test(entry) && /Math\.random\(|randomUUID\(/.test(readFileSync(path, 'utf8')))
          offenders.push(path);
      }
    };
    walk(new URL('../../src', import.meta.url).pathname);
    expect(offenders).toEqual([]);
  });
});

describe('server rate limits (§7.1)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SPOTAUTH_LOGIN_RATE_LIMIT: '3' } });
  });
  afterAll(() => server.close());

  it('the 4th /login in a minute → 429 with Retry-After; a spoofed X-Forwarded-For does not reset it', async () => {
    for (let i = 0; i < 3; i++)
      expect((await fetch(`${server.url}/login`, { redirect: 'manual' })).status).toBe(303);
    const limited = await fetch(`${server.url}/login`, { redirect: 'manual' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const spoofed = await fetch(`${server.url}/login`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(spoofed.status).toBe(429);
  });
});
