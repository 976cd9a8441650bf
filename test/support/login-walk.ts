/**
 * The walk every framework example must pass in headless Chromium, in three parts: log in through the
 * emulator's consent page from a protected page, see Web API data on it, refresh (on demand, and after
 * Spotify expired the token), log out; a forged callback refused with a 4xx and no token request; a revoked
 * grant that ends the session. Token requests are counted at the emulator, as differences (any order).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, tokenRequests } from './emulator.js';
import { BASE, type ExampleApp, type ExampleStore, exampleStore } from './example-app.js';
import { must } from './must.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Chromium is a Debian package here; without it the browser tests skip (loudly), except under CI. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'])
    throw new Error(`Chromium is missing at ${CHROMIUM}; CI must install the Debian package "chromium".`);
  console.warn(
    `\n*** SKIPPING FRAMEWORK BROWSER TESTS: ${CHROMIUM} not found (apt-get install chromium) ***\n`,
  );
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WalkOptions {
  /**
   * What the protected page does when the grant turned out dead: show the handler's "Please log in again"
   * page (errorResponse / sendError), or send the browser to log in again (the Next.js example redirects).
   */
  onDeadGrant: 'page' | 'login';
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

async function consent(page: Page, app: ExampleApp, user: RegExp): Promise<void> {
  await page.waitForURL(`${app.emulator.url}/authorize**`);
  await page.getByRole('radio', { name: user }).check();
  await page.getByRole('button', { name: 'Agree' }).click();
}

async function postFromPage(page: Page, path: string, csrf: string | null) {
  return page.evaluate(
    async ([url, token]) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: token ? { 'x-csrf-token': token } : {},
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    [path, csrf] as const,
  );
}

async function getFromPage(page: Page, path: string) {
  return page.evaluate(async (url) => {
    const response = await fetch(url);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }, path);
}

async function withPage(browser: Browser, run: (page: Page) => Promise<void>): Promise<void> {
  // A fresh browser each time: no session here, and not logged in at the emulator either.
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await run(page);
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
  }
}

async function sessionStatus(app: ExampleApp, cookie: string): Promise<number> {
  const response = await fetch(`${app.url}${BASE}/session`, { headers: { cookie } });
  await response.body?.cancel();
  return response.status;
}

/** Log in from the protected page, Web API data, refresh now, refresh after an early expiry, log out. */
export async function walkLoginRefreshLogout(browser: Browser, app: ExampleApp): Promise<void> {
  await withPage(browser, async (page) => {
    const start = await tokenRequests(app.emulator);
    await page.goto(`${app.url}/`);
    expect(await page.getByRole('link', { name: 'Log in with Spotify' }).count()).toBe(1);
    await page.getByRole('link', { name: 'Your top tracks' }).click();
    await consent(page, app, /alice/i);
    await page.waitForURL(`${app.url}/me`);
    expect(page.url()).not.toContain('code=');
    expect(await heading(page)).toBe('Alice Example'); // display_name from GET /v1/me with her token
    expect(await page.locator('ol > li').count()).toBe(5); // GET /v1/me/top/tracks?limit=5
    const afterLogin = await tokenRequests(app.emulator);
    expect(afterLogin.authorization_code - start.authorization_code).toBe(1);
    expect(afterLogin.refresh_token).toBe(start.refresh_token);
    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === 'spotauth_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');

    // The page's own calls: its token (never the refresh token), and "refresh now" with the CSRF token.
    const token = await getFromPage(page, `${BASE}/token`);
    expect(token.status).toBe(200);
    expect(token.body['access_token']).toBeTruthy();
    expect(Object.keys(token.body)).not.toContain('refresh_token');
    expect(cookies.map((cookie) => cookie.value).join(' ')).not.toContain(String(token.body['access_token']));
    const csrf = await page.locator('input[name="csrf"]').getAttribute('value');
    expect((await postFromPage(page, `${BASE}/refresh`, null)).status).toBe(403);
    const refreshed = await postFromPage(page, `${BASE}/refresh`, csrf);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['ok']).toBe(true);
    expect(refreshed.body['access_token']).not.toBe(token.body['access_token']);
    expect((await tokenRequests(app.emulator)).refresh_token - start.refresh_token).toBe(1);

    // Spotify expires the token early: the next page load meets a 401, refreshes once, and shows the data.
    await control(app.emulator, 'expire', { user_id: 'alice' });
    await page.reload();
    expect(await heading(page)).toBe('Alice Example');
    expect(await page.locator('ol > li').count()).toBe(5);
    expect((await tokenRequests(app.emulator)).refresh_token - start.refresh_token).toBe(2);

    // Log out (a POST form with the CSRF token): the session ends on the server, not only in the browser.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${app.url}/`);
    expect(await page.getByRole('link', { name: 'Log in with Spotify' }).count()).toBe(1);
    expect((await page.context().cookies()).some((cookie) => cookie.name === 'spotauth_session')).toBe(false);
    expect(await sessionStatus(app, `spotauth_session=${must(session, 'session').value}`)).toBe(401);
  });
}

/** A forged callback while a login is under way in this browser: a 4xx page, and no token request. */
export async function walkForgedCallback(browser: Browser, app: ExampleApp): Promise<void> {
  await withPage(browser, async (page) => {
    const before = await tokenRequests(app.emulator);
    await page.goto(`${app.url}${BASE}/login?show_dialog=true`);
    await page.waitForURL(`${app.emulator.url}/authorize**`);
    const forged = await page.goto(`${app.url}${BASE}/callback?code=x&state=forged`);
    expect(must(forged, 'forged').status()).toBeGreaterThanOrEqual(400);
    expect(must(forged, 'forged').status()).toBeLessThan(500);
    expect(await heading(page)).toBe('Login attempt rejected');
    // The transaction was single-use: the real answer arriving now is refused too.
    const replay = await page.goto(`${app.url}${BASE}/callback?code=x&state=forged`);
    expect(must(replay, 'replay').status()).toBe(400);
    expect(await tokenRequests(app.emulator)).toEqual(before);
  });
}

/** A grant the user revoked on Spotify: the protected page ends the session and asks to log in again. */
export async function walkDeadGrant(browser: Browser, app: ExampleApp, options: WalkOptions): Promise<void> {
  await withPage(browser, async (page) => {
    await page.goto(`${app.url}/me`);
    await consent(page, app, /bob/i);
    await page.waitForURL(`${app.url}/me`);
    expect(await heading(page)).toBe('Bob Example');
    await control(app.emulator, 'revoke', { user_id: 'bob' });
    await control(app.emulator, 'expire', { user_id: 'bob' });
    if (options.onDeadGrant === 'page') {
      const dead = await page.reload();
      expect(must(dead, 'dead').status()).toBe(401);
      expect(await heading(page)).toBe('Please log in again');
      expect(await page.getByRole('link', { name: 'Log in again' }).count()).toBe(1);
    } else {
      await page.reload();
      await page.waitForURL(`${app.emulator.url}/authorize**`);
    }
    const jar = (await page.context().cookies(app.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect(await sessionStatus(app, jar)).toBe(401);
  });
}

/**
 * The whole suite for one example: its store, the app as a process, Chromium, the three walks.
 * `start` gets the store's environment and starts the app (startExample).
 */
export function describeExample(
  name: string,
  options: WalkOptions & {
    store: Parameters<typeof exampleStore>;
    start(env: Record<string, string>): Promise<ExampleApp>;
    /** Time for the app to start (Next.js builds first). */
    startTimeoutMs?: number;
  },
): void {
  describe.skipIf(!chromiumAvailable())(`${name} in Chromium`, () => {
    let store: ExampleStore;
    let app: ExampleApp;
    let browser: Browser;

    beforeAll(async () => {
      store = await exampleStore(...options.store);
      app = await options.start(store.env);
      browser = await launchChromium();
    }, options.startTimeoutMs ?? 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.stop();
      await store?.cleanup();
    });

    it('log in from a protected page, Web API data, refresh now and after expiry, log out', async () => {
      await walkLoginRefreshLogout(browser, app);
    }, 60_000);

    it('a forged callback gets a 4xx page and causes no token request', async () => {
      await walkForgedCallback(browser, app);
    }, 30_000);

    it('a revoked grant ends the session', async () => {
      await walkDeadGrant(browser, app, options);
    }, 30_000);
  });
}
