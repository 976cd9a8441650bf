/**
 * spotauth/browser across tabs, in real headless Chromium against the emulator: exactly one refresh for
 * many tabs past expiry, rotation without losing the grant, logout everywhere, a revoked grant, transient
 * failures. "Past expiry" comes from the harness's injected clock (shared by the tabs), never from waiting.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../support/chromium.js';
import { must } from '../support/must.js';
import {
  type Attempt,
  attempt,
  type BrowserWorld,
  counts,
  HOUR_MS,
  loginIn,
  newContext,
  openHarness,
  resetEmulator,
  setClock,
  startWorld,
  storedGrant,
} from './helpers.js';

const available = chromiumAvailable('spotauth/browser TAB TESTS');

async function emulatorPost(world: BrowserWorld, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${world.emulator.url}/_emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

async function stats(world: BrowserWorld): Promise<{ token_errors: Record<string, number> }> {
  return (await fetch(`${world.emulator.url}/_emulator/stats`)).json() as Promise<{
    token_errors: Record<string, number>;
  }>;
}

/** Every tab asks for a token at once; resolves to what each got. */
function allAtOnce(tabs: Page[]): Promise<Attempt<string>[]> {
  return Promise.all(tabs.map((tab) => attempt<string>(tab, 'auth.getAccessToken()')));
}

describe.skipIf(!available)('spotauth/browser across tabs in headless Chromium', () => {
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
  });

  afterEach(async () => {
    await context?.close();
  });

  /** A context with `n` harness tabs, logged in from the first. */
  async function loggedInTabs(n: number, storage?: string): Promise<[Page, ...Page[]]> {
    context = await newContext(world, storage);
    const first = await openHarness(world, context);
    expect((await loginIn(first, world)).ok).toBe(true);
    const tabs: [Page, ...Page[]] = [first];
    while (tabs.length < n) tabs.push(await openHarness(world, context));
    return tabs;
  }

  it('5 tabs open past expiry make exactly 1 refresh, and all get its token (default storage, IndexedDB)', async () => {
    const tabs = await loggedInTabs(5);
    expect(await tabs[0].evaluate('auth.storage.kind')).toBe('indexeddb');
    const before = await tabs[0].evaluate<string>('auth.getAccessToken()');
    // The refresh takes a while, so the other tabs really do ask while it is in flight.
    await emulatorPost(world, 'faults', { endpoint: 'token', kind: 'latency', latency_ms: 300 });
    await setClock(tabs, 2 * HOUR_MS);
    const results = await allAtOnce(tabs);
    expect(results.every((r) => r.ok)).toBe(true);
    const tokens = new Set(results.map((r) => r.value));
    expect(tokens.size).toBe(1);
    expect(tokens.has(before)).toBe(false);
    expect((await counts(world.emulator)).refresh_token).toBe(1);
    // And the new token works.
    const me = await attempt<string>(
      must(tabs[4], 'tabs[4]'),
      "api('/me').then((r) => r.json()).then((me) => me.id)",
    );
    expect(me).toEqual({ ok: true, value: 'alice' });
  });

  it('localStorage across tabs, rotate mode: exactly 1 refresh per round too, no rotated-away token spent, no grant lost', async () => {
    // localStorage reads can lag behind another tab's write (see WebStorage): without the writers' marks in
    // the lock manager, the next lock holder could read the old grant and refresh again with a
    // rotated-away refresh token (measured before them: 12 refreshes for 8 expiries with 20 tabs).
    await emulatorPost(world, 'config', { refresh_mode: 'rotate' });
    const tabs = await loggedInTabs(20, 'local');
    for (let round = 1; round <= 6; round++) {
      await setClock(tabs, round * 2 * HOUR_MS);
      const results = await allAtOnce(tabs);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(new Set(results.map((r) => r.value)).size).toBe(1);
      expect((await counts(world.emulator)).refresh_token).toBe(round);
    }
    expect((await stats(world)).token_errors['invalid_grant'] ?? 0).toBe(0);
    for (const tab of tabs.slice(0, 3)) {
      expect(await tab.evaluate('auth.session().then((s) => s.status)')).toBe('active');
      expect(await attempt(tab, "api('/me').then((r) => r.status)")).toEqual({ ok: true, value: 200 });
    }
  });

  it('localStorage: tabs open before the login in another tab get it (their reads can lag the message about it)', async () => {
    // Chromium may deliver the BroadcastChannel "changed" before another tab process sees the localStorage
    // write; the tab then reads no grant. The storage event (sent once the write is visible) corrects it.
    context = await newContext(world, 'local');
    const tabs: Page[] = [];
    for (let i = 0; i < 20; i++) tabs.push(await openHarness(world, context));
    const [first, ...others] = tabs as [Page, ...Page[]];
    expect((await loginIn(first, world)).ok).toBe(true);
    for (const tab of others) {
      await expect.poll(() => tab.evaluate<unknown[]>('events'), { timeout: 10_000 }).toContain('active');
      expect(await attempt(tab, 'auth.getAccessToken().then((t) => t.length > 0)')).toEqual({
        ok: true,
        value: true,
      });
    }
    expect((await counts(world.emulator)).refresh_token).toBe(0);
  });

  it('rotate mode across tabs: every round one refresh, the rotated refresh token stored first, no grant lost', async () => {
    await emulatorPost(world, 'config', { refresh_mode: 'rotate' });
    const tabs = await loggedInTabs(5);
    let previous = must(await storedGrant(tabs[0]), 'the stored grant')['refreshToken'];
    for (let round = 1; round <= 3; round++) {
      await setClock(tabs, round * 2 * HOUR_MS);
      const results = await allAtOnce(tabs);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(new Set(results.map((r) => r.value)).size).toBe(1);
      // By the time any tab had the new access token, the new refresh token was in storage.
      const stored = must(await storedGrant(tabs[0]), 'the stored grant');
      expect(stored['accessToken']).toBe(must(results[0], 'results[0]').value);
      expect(stored['refreshToken']).not.toBe(previous);
      previous = stored['refreshToken'];
    }
    expect((await counts(world.emulator)).refresh_token).toBe(3);
    expect((await stats(world)).token_errors['invalid_grant'] ?? 0).toBe(0);
    for (const tab of tabs) {
      expect(await attempt(tab, "api('/me').then((r) => r.status)")).toEqual({ ok: true, value: 200 });
    }
  });

  it('keep mode: a refresh without a refresh token keeps the old one (never "undefined")', async () => {
    const tabs = await loggedInTabs(1);
    const before = must(await storedGrant(tabs[0]), 'the stored grant');
    await setClock(tabs, 2 * HOUR_MS);
    expect((await attempt(tabs[0], 'auth.getAccessToken()')).ok).toBe(true);
    const after = must(await storedGrant(tabs[0]), 'the stored grant');
    expect(after['accessToken']).not.toBe(before['accessToken']);
    expect(after['refreshToken']).toBe(before['refreshToken']);
    expect(after['version']).toBe((before['version'] as number) + 1);
  });

  it('logout in one tab logs out every tab', async () => {
    const tabs = await loggedInTabs(3);
    expect((await allAtOnce(tabs)).every((r) => r.ok)).toBe(true);
    await must(tabs[1], 'tabs[1]').evaluate('auth.logout()');
    for (const tab of tabs) {
      await expect.poll(() => tab.evaluate<unknown[]>('events')).toContain(null);
      expect(await attempt(tab, 'auth.getAccessToken()')).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
      expect(await tab.evaluate('auth.session()')).toBeNull();
    }
    expect(await storedGrant(tabs[0])).toBeNull();
  });

  it('with per-tab storage (sessionStorage) too, a logout in one tab ends the others', async () => {
    context = await newContext(world, 'session');
    const one = await openHarness(world, context);
    const two = await openHarness(world, context);
    expect((await loginIn(one, world)).ok).toBe(true);
    expect((await loginIn(two, world)).ok).toBe(true);
    await one.evaluate('auth.logout()');
    await expect.poll(() => two.evaluate<unknown[]>('events')).toContain(null);
    expect(await attempt(two, 'auth.getAccessToken()')).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
    expect(await two.evaluate('Object.keys(sessionStorage).filter((k) => k.endsWith(":grant"))')).toEqual([]);
  });

  it('a grant revoked in the emulator asks for login again, in every tab, after a single refresh attempt', async () => {
    const tabs = await loggedInTabs(3);
    await emulatorPost(world, 'revoke', { user_id: 'alice' });
    await setClock(tabs, 2 * HOUR_MS);
    const results = await allAtOnce(tabs);
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, code: 'REAUTH_REQUIRED' });
      expect(result.message).toMatch(/revoked/);
    }
    expect((await counts(world.emulator)).refresh_token).toBe(1);
    for (const tab of tabs) {
      expect(await tab.evaluate('auth.session().then((s) => s.status)')).toBe('reauth_required');
      await expect.poll(() => tab.evaluate<unknown[]>('events')).toContain('reauth_required');
    }
    // Logging in again replaces the dead grant; every tab can use the new one.
    expect((await loginIn(tabs[0], world)).ok).toBe(true);
    await expect.poll(() => must(tabs[2], 'tabs[2]').evaluate<unknown[]>('events')).toContain('active');
    expect((await attempt(must(tabs[2], 'tabs[2]'), 'auth.getAccessToken()')).ok).toBe(true);
  });

  it('a revoked grant met through the Web API (401 → one refresh → invalid_grant) asks for login again', async () => {
    const tabs = await loggedInTabs(1);
    await emulatorPost(world, 'revoke', { user_id: 'alice' });
    expect(await attempt(tabs[0], "api('/me')")).toMatchObject({
      ok: false,
      code: 'REAUTH_REQUIRED',
    });
    expect((await counts(world.emulator)).refresh_token).toBe(1);
  });

  it('transient failures log nobody out: an error while the token still works serves it; past expiry a transient error, then recovery', async () => {
    const tabs = await loggedInTabs(2);
    const token = await tabs[0].evaluate<string>('auth.getAccessToken()');
    await emulatorPost(world, 'faults', { endpoint: 'token', kind: 'server_error', count: 50 });
    // Inside the 60 s refresh margin but not expired: the refresh fails, the valid token is served.
    await setClock(tabs, HOUR_MS - 30_000);
    expect(await attempt(tabs[0], 'auth.getAccessToken()')).toEqual({ ok: true, value: token });
    // Past expiry: a transient error (after the bounded retries), the grant untouched.
    await setClock(tabs, 2 * HOUR_MS);
    const failure = await attempt(must(tabs[1], 'tabs[1]'), 'auth.getAccessToken()');
    expect(failure).toMatchObject({ ok: false, code: 'SPOTIFY_UNAVAILABLE', transient: true });
    for (const tab of tabs) {
      expect(await tab.evaluate('auth.session().then((s) => s.status)')).toBe('active');
    }
    await fetch(`${world.emulator.url}/_emulator/faults`, { method: 'DELETE' });
    const recovered = await allAtOnce(tabs);
    expect(recovered.every((r) => r.ok && r.value !== token)).toBe(true);
  });
});
