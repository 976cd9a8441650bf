/**
 * spotauth/browser in real headless Chromium against the emulator: the built module loaded by a page with
 * no bundler, login (PKCE, state bound to the tab), the redirect's clean-up, refusals, storage choices.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_MODULE } from '../../examples/spa/serve.mjs';
import { chromiumAvailable } from '../support/chromium.js';
import { must } from '../support/must.js';
import {
  attempt,
  BROWSER_CLIENT_ID,
  type BrowserWorld,
  counts,
  loginIn,
  newContext,
  openHarness,
  resetEmulator,
  settled,
  startWorld,
  storedGrant,
} from './helpers.js';

const available = chromiumAvailable('spotauth/browser LOGIN TESTS');

describe('the built module', () => {
  it('has no Node built-ins, no require, no process or Buffer: it runs in a page as it is', () => {
    const code = readFileSync(BROWSER_MODULE, 'utf8');
    expect(code).not.toMatch(/from\s*["']node:|import\(["']node:|require\(/);
    // (openapi-fetch looks for Node with `typeof process === "object"`, which is false in a page.)
    expect(code).not.toMatch(/\bprocess\.env|\bBuffer\.|globalThis\.process/);
    // One self-contained file: no bare imports a page without a bundler could not resolve.
    expect(code).not.toMatch(/^import .* from ["'][^./]/m);
  });
});

describe.skipIf(!available)('spotauth/browser login in headless Chromium', () => {
  let world: BrowserWorld;
  let context: BrowserContext;

  beforeAll(async () => {
    world = await startWorld();
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  beforeEach(async () => {
    await resetEmulator(world.emulator);
    context = await newContext(world);
  });

  afterEach(async () => {
    await context?.close();
  });

  it('a page imports the built file with no bundler and gets the whole API', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${world.site.url}/harness/`);
    expect(await settled(page)).toEqual({ ok: true, value: null });
    const exported = await page.evaluate<string[]>('Object.keys(spotauth).sort()');
    expect(exported).toEqual(
      expect.arrayContaining([
        'BrowserAuth',
        'BrowserAuthStrategy',
        'IndexedDbStorage',
        'MemoryStorage',
        'SpotauthError',
        'WebStorage',
        'browserApi',
        'isSpotauthError',
        'sdkFetch',
        'webApiFetch',
      ]),
    );
    expect(await page.evaluate('typeof process')).toBe('undefined');
    expect(errors).toEqual([]);
  });

  it('the authorize URL: PKCE S256, a 43-character state, scopes, show_dialog; the verifier stays in the tab', async () => {
    const page = await openHarness(world, context);
    const url = new URL(await page.evaluate<string>('auth.loginUrl({ showDialog: true }).then(String)'));
    expect(url.origin + url.pathname).toBe(`${world.emulator.url}/authorize`);
    const q = url.searchParams;
    expect(q.get('client_id')).toBe(BROWSER_CLIENT_ID);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('redirect_uri')).toBe(`${world.site.url}/harness/`);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('scope')).toBe('user-read-private user-top-read');
    expect(q.get('show_dialog')).toBe('true');
    const attemptStored = JSON.parse(
      (await page.evaluate<string>(`sessionStorage.getItem('spotauth:${BROWSER_CLIENT_ID}:login')`)) ?? '{}',
    ) as { state: string; codeVerifier: string };
    expect(attemptStored.state).toBe(q.get('state'));
    expect(attemptStored.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.href).not.toContain(attemptStored.codeVerifier);
    // The challenge is S256 of the verifier (RFC 7636), computed here independently.
    const challenge = await page.evaluate<string>(`(async () => {
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(${JSON.stringify(attemptStored.codeVerifier)}));
      return btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    })()`);
    expect(q.get('code_challenge')).toBe(challenge);
    // Two attempts never share a state or verifier.
    const second = new URL(await page.evaluate<string>('auth.loginUrl().then(String)'));
    expect(second.searchParams.get('state')).not.toBe(q.get('state'));
    expect(second.searchParams.get('code_challenge')).not.toBe(q.get('code_challenge'));
  });

  it('logs in: one code exchange, no secret, and no code, state or token left in the URL or the history', async () => {
    const page = await openHarness(world, context);
    const tokenBodies: string[] = [];
    page.on('request', (request) => {
      if (request.url() === `${world.emulator.url}/api/token`) tokenBodies.push(request.postData() ?? '');
    });
    const result = await loginIn(page, world);
    expect(result.ok).toBe(true);
    const login = result.value as { session: { status: string; scope: string[] }; returnTo: string };
    expect(login.session.status).toBe('active');
    expect(login.session.scope.sort()).toEqual(['user-read-private', 'user-top-read']);
    expect(login.returnTo).toBe('/harness/');
    expect((await counts(world.emulator)).authorization_code).toBe(1);

    // A public client: client_id and verifier, never a secret or an Authorization header.
    expect(tokenBodies).toHaveLength(1);
    const body = new URLSearchParams(tokenBodies[0]);
    expect(body.get('grant_type')).toBe('authorization_code');
    expect(body.get('client_id')).toBe(BROWSER_CLIENT_ID);
    expect(body.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.has('client_secret')).toBe(false);

    expect(page.url()).toBe(`${world.site.url}/harness/`);
    const grant = must(await storedGrant(page), 'storedGrant(page)');
    const secrets = [String(grant['accessToken']), String(grant['refreshToken'])];
    const cdp = await context.newCDPSession(page);
    const { entries } = (await cdp.send('Page.getNavigationHistory')) as {
      entries: { url: string }[];
    };
    const ours = entries.filter((entry) => entry.url.startsWith(world.site.url));
    expect(ours.length).toBeGreaterThan(0);
    for (const entry of ours) expect(entry.url).not.toMatch(/[?&](code|state|error)=/);
    for (const entry of entries) for (const secret of secrets) expect(entry.url).not.toContain(secret);
    // The login attempt was used up.
    expect(await page.evaluate(`sessionStorage.getItem('spotauth:${BROWSER_CLIENT_ID}:login')`)).toBeNull();
    expect(await page.evaluate<string>('auth.getAccessToken()')).toBe(grant['accessToken']);
  });

  it('denied consent: ACCESS_DENIED, no token request, a clean URL', async () => {
    await fetch(`${world.emulator.url}/_emulator/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"auto_approve":null}',
    });
    const page = await openHarness(world, context);
    const url = await page.evaluate<string>('auth.loginUrl().then(String)');
    await page.goto(url);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(`${world.site.url}/harness/**`);
    const result = await settled(page);
    expect(result).toMatchObject({ ok: false, code: 'ACCESS_DENIED' });
    expect(result.message).toMatch(/did not allow access/);
    expect(await counts(world.emulator)).toMatchObject({ authorization_code: 0, refresh_token: 0 });
    await expect.poll(() => page.url()).toBe(`${world.site.url}/harness/`);
    expect(await attempt(page, 'auth.getAccessToken()')).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
  });

  it('a forged state: STATE_MISMATCH and no token request; the real attempt is used up too', async () => {
    const page = await openHarness(world, context);
    await page.evaluate('auth.loginUrl()');
    await page.goto(`${world.site.url}/harness/?code=stolen-code&state=forged-state`);
    expect(await settled(page)).toMatchObject({ ok: false, code: 'STATE_MISMATCH' });
    expect(page.url()).toBe(`${world.site.url}/harness/`);
    expect((await counts(world.emulator)).authorization_code).toBe(0);
    // A forged "access denied" is a state error too (the state is checked first).
    await page.evaluate('auth.loginUrl()');
    await page.goto(`${world.site.url}/harness/?error=access_denied&state=forged-state`);
    expect(await settled(page)).toMatchObject({ ok: false, code: 'STATE_MISMATCH' });
    // No state at all.
    await page.goto(`${world.site.url}/harness/?code=stolen-code`);
    expect(await settled(page)).toMatchObject({ ok: false, code: 'STATE_MISSING' });
    expect((await counts(world.emulator)).authorization_code).toBe(0);
  });

  it('a replayed callback: STATE_MISMATCH, no second token request, the login unharmed', async () => {
    const page = await openHarness(world, context);
    let callback = '';
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && frame.url().includes('code=')) callback = frame.url();
    });
    expect((await loginIn(page, world)).ok).toBe(true);
    expect(callback).toContain('state=');
    await page.goto(callback);
    const replay = await settled(page);
    expect(replay).toMatchObject({ ok: false, code: 'STATE_MISMATCH' });
    expect(replay.message).toMatch(/no login was started in this tab/);
    expect((await counts(world.emulator)).authorization_code).toBe(1);
    expect(await attempt(page, 'auth.session().then((s) => s.status)')).toEqual({
      ok: true,
      value: 'active',
    });
  });

  it('the state is bound to the tab: the callback opened in another tab is refused before any token request', async () => {
    const starter = await openHarness(world, context);
    const url = await starter.evaluate<string>('auth.loginUrl().then(String)');
    const response = await fetch(url, { redirect: 'manual' });
    const callback = must(response.headers.get('location'), 'a location header');
    expect(callback).toContain('code=');
    const other = await context.newPage();
    await other.goto(callback);
    expect(await settled(other)).toMatchObject({ ok: false, code: 'STATE_MISMATCH' });
    expect((await counts(world.emulator)).authorization_code).toBe(0);
    expect(other.url()).toBe(`${world.site.url}/harness/`);
  });

  it('refuses bad configuration with clear errors: a secret, localhost, an unknown scope', async () => {
    const page = await openHarness(world, context);
    const make = (options: string) => attempt(page, `new spotauth.BrowserAuth(${options})`);
    expect(
      await make(`{ clientId: 'x', clientSecret: 's', redirectUri: location.origin + '/harness/' }`),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/never be shipped/),
    });
    expect(await make(`{ clientId: 'x', redirectUri: 'http://localhost:5173/' }`)).toMatchObject({
      ok: false,
      code: 'INVALID_REDIRECT_URI',
      message: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(
      await make(
        `{ clientId: 'x', redirectUri: location.origin + '/harness/', scope: 'user-read-birthdate' }`,
      ),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_SCOPE',
      message: expect.stringMatching(/removed it in 2019/),
    });
    // Another origin's redirect URI: the callback would land where this attempt is unknown.
    expect(
      await attempt(
        page,
        `new spotauth.BrowserAuth({ clientId: 'x', redirectUri: 'https://elsewhere.example/' }).loginUrl()`,
      ),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/different origin/),
    });
  });

  async function reloadKeeps(storage: string): Promise<{ reload: boolean; newTab: boolean }> {
    const ctx = await newContext(world, storage);
    try {
      const page = await openHarness(world, ctx);
      expect((await loginIn(page, world)).ok).toBe(true);
      await page.reload();
      await settled(page);
      const reload = (await attempt(page, 'auth.getAccessToken()')).ok;
      const other = await openHarness(world, ctx);
      const newTab = (await attempt(other, 'auth.getAccessToken()')).ok;
      return { reload, newTab };
    } finally {
      await ctx.close();
    }
  }

  it('a reload keeps you logged in, per the storage: IndexedDB (default) and local across tabs, session per tab, memory not at all', async () => {
    expect(await reloadKeeps('local')).toEqual({ reload: true, newTab: true });
    expect(await reloadKeeps('indexeddb')).toEqual({ reload: true, newTab: true });
    expect(await reloadKeeps('session')).toEqual({ reload: true, newTab: false });
    expect(await reloadKeeps('memory')).toEqual({ reload: false, newTab: false });
    // Each login exchanged one code, and none of the reloads refreshed anything.
    expect(await counts(world.emulator)).toMatchObject({ authorization_code: 4, refresh_token: 0 });
  });

  it('a corrupt stored value (e.g. the official example\'s "undefined") means logged out, and is removed', async () => {
    await context.close();
    context = await newContext(world, 'local');
    const page = await openHarness(world, context);
    await page.evaluate(`localStorage.setItem('spotauth:${BROWSER_CLIENT_ID}:grant', 'undefined')`);
    expect(await attempt(page, 'auth.getAccessToken()')).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
    expect(await storedGrant(page)).toBeNull();
    // The same in IndexedDB (the default): a record missing its refresh token is unusable.
    const other = await newContext(world);
    try {
      const idb = await openHarness(world, other);
      await idb.evaluate(
        `auth.storage.set('spotauth:${BROWSER_CLIENT_ID}:grant', JSON.stringify({ accessToken: 'x', refreshToken: '' }))`,
      );
      expect(await attempt(idb, 'auth.getAccessToken()')).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
      expect(await storedGrant(idb)).toBeNull();
    } finally {
      await other.close();
    }
  }, 120_000); // four storages, each a login and a reload in Chromium: slow on a loaded 2-core host
});
