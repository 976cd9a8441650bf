/**
 * The Web API from the browser, in real headless Chromium against the emulator (with its CORS): the
 * `webApiFetch` wrapper (bearer, 401 → one refresh and retry, 429 → Retry-After up to a cap, typed errors),
 * the typed client, and the official @spotify/web-api-ts-sdk through the adapter.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../support/chromium.js';
import {
  attempt,
  type BrowserWorld,
  counts,
  loginIn,
  newContext,
  openHarness,
  resetEmulator,
  settled,
  startWorld,
} from './helpers.js';

const available = chromiumAvailable('spotauth/browser WEB API TESTS');

async function emulator(world: BrowserWorld, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${world.emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

async function apiRequests(world: BrowserWorld, route: string): Promise<number> {
  const stats = (await (await fetch(`${world.emulator.url}/_emulator/stats`)).json()) as {
    api_requests: Record<string, number>;
  };
  return stats.api_requests[route] ?? 0;
}

describe.skipIf(!available)('the Web API from spotauth/browser in headless Chromium', () => {
  let world: BrowserWorld;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    world = await startWorld();
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  beforeEach(async () => {
    await resetEmulator(world.emulator);
    await emulator(world, 'POST', 'config', { cors_expose_headers: [] });
    context = await newContext(world);
    page = await openHarness(world, context);
    expect((await loginIn(page, world)).ok).toBe(true);
  });

  afterEach(async () => {
    await context?.close();
  });

  it('webApiFetch adds the bearer token; a path is relative to the Web API', async () => {
    const me = await attempt(page, "api('/me').then((r) => r.json())");
    expect(me).toMatchObject({ ok: true, value: { id: 'alice', display_name: 'Alice Example' } });
  });

  it('401 (the access token expired at Spotify) → one refresh and one retry', async () => {
    await emulator(world, 'POST', 'expire', { user_id: 'alice' });
    const before = await apiRequests(world, 'GET /v1/me');
    expect(await attempt(page, "api('/me').then((r) => r.status)")).toEqual({ ok: true, value: 200 });
    expect((await counts(world.emulator)).refresh_token).toBe(1);
    expect((await apiRequests(world, 'GET /v1/me')) - before).toBe(2);
  });

  it('429: waits and retries; when it persists, RATE_LIMITED (Retry-After unreadable from the page, as at Spotify)', async () => {
    await emulator(world, 'POST', 'api-faults', {
      kind: 'rate_limit',
      retry_after: 1,
      count: 1,
      path: '/v1/me',
    });
    expect(await attempt(page, "api('/me').then((r) => r.status)")).toEqual({ ok: true, value: 200 });
    await emulator(world, 'POST', 'api-faults', {
      kind: 'rate_limit',
      retry_after: 1,
      count: 10,
      path: '/v1/me',
    });
    const limited = await attempt(page, "api('/me')");
    expect(limited).toMatchObject({ ok: false, code: 'RATE_LIMITED', transient: true });
  });

  it('429 QUOTA_EXCEEDED with an unreadable Retry-After: RATE_LIMITED at once, no pointless retries', async () => {
    await emulator(world, 'POST', 'api-faults', {
      kind: 'rate_limit',
      retry_after: 48925,
      reason: 'QUOTA_EXCEEDED',
      count: 5,
      path: '/v1/me',
    });
    const before = await apiRequests(world, 'GET /v1/me');
    const result = await page.evaluate<Record<string, unknown>>(`api('/me').then(
      () => ({ ok: true }),
      (e) => ({ code: e.code, retryAfterSeconds: e.retryAfterSeconds ?? null, reason: e.reason, message: e.message }),
    )`);
    expect(result).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: null, reason: 'QUOTA_EXCEEDED' });
    expect(result['message']).toMatch(/try again later/);
    expect((await apiRequests(world, 'GET /v1/me')) - before).toBe(1);
  });

  it('429 with a readable Retry-After beyond the cap: RATE_LIMITED at once with retryAfterSeconds and the quota reason', async () => {
    await emulator(world, 'POST', 'config', { cors_expose_headers: ['Retry-After'] });
    await emulator(world, 'POST', 'api-faults', {
      kind: 'rate_limit',
      retry_after: 48925,
      reason: 'QUOTA_EXCEEDED',
      count: 5,
      path: '/v1/me/top/tracks',
    });
    const before = await apiRequests(world, 'GET /v1/me/top/{type}');
    const result = await page.evaluate<Record<string, unknown>>(`api('/me/top/tracks').then(
      () => ({ ok: true }),
      (e) => ({ code: e.code, retryAfterSeconds: e.retryAfterSeconds, reason: e.reason, message: e.message }),
    )`);
    expect(result).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 48925,
      reason: 'QUOTA_EXCEEDED',
    });
    expect(result['message']).toMatch(/quota/i);
    expect((await apiRequests(world, 'GET /v1/me/top/{type}')) - before).toBe(1);
  });

  it('typed errors: a missing scope, a 5xx; the token is never sent outside the Web API', async () => {
    expect(await attempt(page, "api('/me/player/currently-playing')")).toMatchObject({
      ok: false,
      code: 'MISSING_SCOPE',
    });
    await emulator(world, 'POST', 'api-faults', {
      kind: 'server_error',
      status: 503,
      count: 10,
      path: '/v1/me',
    });
    expect(await attempt(page, "api('/me')")).toMatchObject({
      ok: false,
      code: 'SPOTIFY_UNAVAILABLE',
      transient: true,
    });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    expect(await attempt(page, "api('https://example.invalid/steal')")).toMatchObject({
      ok: false,
      code: 'INVALID_CONFIG',
    });
    expect(requests.filter((url) => url.includes('example.invalid'))).toEqual([]);
  });

  it('the typed Web API client (openapi-fetch over the spec) runs in the page with these tokens', async () => {
    const top = await attempt<number>(
      page,
      'spotauth.browserApi(auth).topTracks(5).then((p) => p.items.length)',
    );
    expect(top).toEqual({ ok: true, value: 5 });
    const typed = await attempt<string>(
      page,
      "spotauth.browserApi(auth).client.GET('/me').then(({ data }) => data.id)",
    );
    expect(typed).toEqual({ ok: true, value: 'alice' });
    // Through the typed client, a missing scope is named.
    const missing = await page.evaluate<Record<string, unknown>>(
      'spotauth.browserApi(auth).currentlyPlaying().catch((e) => ({ code: e.code, requiredScopes: e.requiredScopes }))',
    );
    expect(missing).toEqual({ code: 'MISSING_SCOPE', requiredScopes: ['user-read-currently-playing'] });
  });

  it('the official SDK keeps its code and gets our login and refresh (a 401 the SDK alone would throw on)', async () => {
    const setup = `import('/sdk.js').then(({ SpotifyApi }) => {
      window.sdk = new SpotifyApi(new spotauth.BrowserAuthStrategy(auth), { fetch: spotauth.sdkFetch(auth) });
    })`;
    await page.evaluate(setup);
    expect(await attempt(page, 'sdk.currentUser.profile().then((me) => me.id)')).toEqual({
      ok: true,
      value: 'alice',
    });
    await emulator(world, 'POST', 'expire', { user_id: 'alice' });
    expect(
      await attempt(page, "sdk.currentUser.topItems('tracks', 'short_term', 3).then((p) => p.items.length)"),
    ).toEqual({ ok: true, value: 3 });
    expect((await counts(world.emulator)).refresh_token).toBe(1);
    expect(await attempt(page, 'sdk.getAccessToken().then((t) => t.refresh_token)')).toEqual({
      ok: true,
      value: '',
    });
    // sdk.logOut() is our logout.
    await page.evaluate('sdk.logOut()');
    await expect.poll(() => page.evaluate('auth.session()')).toBeNull();
    expect(await page.evaluate('sdk.getAccessToken()')).toBeNull();
  });

  it('the SDK adapter logs in on demand, as the SDK does: no login yet → Spotify → back → the call works', async () => {
    await page.evaluate('auth.logout()');
    await page.evaluate(`import('/sdk.js').then(({ SpotifyApi }) => {
      const sdk = new SpotifyApi(new spotauth.BrowserAuthStrategy(auth), { fetch: spotauth.sdkFetch(auth) });
      sdk.currentUser.profile();
    })`);
    // The emulator (auto-approving) sends the tab straight back with a code; the harness finishes the login.
    await page.waitForURL((url) => url.pathname === '/harness/' && url.searchParams.has('code'));
    expect(await settled(page)).toMatchObject({ ok: true, value: { session: { status: 'active' } } });
    await page.evaluate(`import('/sdk.js').then(({ SpotifyApi }) => {
      window.sdk = new SpotifyApi(new spotauth.BrowserAuthStrategy(auth), { fetch: spotauth.sdkFetch(auth) });
    })`);
    expect(await attempt(page, 'sdk.currentUser.profile().then((me) => me.id)')).toEqual({
      ok: true,
      value: 'alice',
    });
  });
});
