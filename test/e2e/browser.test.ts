import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must } from '../support/must.js';
import { freePort } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-results');

const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env['CI'])
    throw new Error(`Chromium is missing at ${CHROMIUM}; CI must install the Debian package "chromium".`);
  console.warn(`\n*** SKIPPING BROWSER TESTS: ${CHROMIUM} not found (apt-get install chromium) ***\n`);
}

/** `npm start` in a fresh folder: sandbox mode, embedded emulator, SQLite, generated key. */
async function startSandbox(): Promise<{
  url: string;
  emulatorUrl: string;
  process: ChildProcess;
  dir: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'spotauth-e2e-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'serve'], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: String(port),
      SPOTAUTH_EMULATOR_PORT: '0',
      SPOTIFY_CLIENT_ID: '',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  must(child.stdout, 'child.stdout').on('data', (chunk) => {
    output += chunk;
  });
  must(child.stderr, 'child.stderr').on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 20_000;
  while (!/Open (http:\/\/127\.0\.0\.1:\d+)/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = must(
    /Open (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
    '/Open (http:\\/\\/127\\.0\\.0\\.1:\\d+)/ in output',
  );
  const emulatorUrl = must(
    /emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
    '/emulator at (http:\\/\\/127\\.0\\.0\\.1:\\d+)/ in output',
  );
  expect(output).toContain('WARNING: generated a local encryption key');
  return { url, emulatorUrl, process: child, dir };
}

describe.skipIf(!available)('in a real browser (headless Chromium) against the sandbox server', () => {
  let browser: Browser;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    sandbox?.process.kill('SIGTERM');
    if (sandbox) rmSync(sandbox.dir, { recursive: true, force: true });
  });

  async function loginAs(page: Page, user: string) {
    await page.goto(sandbox.url);
    await page.getByRole('link', { name: 'Log in with Spotify' }).click();
    await page.waitForURL(`${sandbox.emulatorUrl}/authorize**`);
    await page.getByRole('radio', { name: new RegExp(user, 'i') }).check();
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(`${sandbox.url}/`);
  }

  it('log in → consent → profile with scopes, countdown, top items; refresh now; log out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(sandbox.url);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'Log in with Spotify, done properly',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'home.png'), fullPage: true });
    await page.getByRole('link', { name: 'Log in with Spotify' }).click();
    await page.waitForURL(`${sandbox.emulatorUrl}/authorize**`);
    await page.screenshot({ path: join(SCREENSHOTS, 'consent.png'), fullPage: true });
    await page.getByRole('radio', { name: /alice/i }).check();
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(`${sandbox.url}/`);
    expect(page.url()).not.toContain('code=');

    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Alice/);
    const countdown = page.locator('[data-expires-at]');
    const first = await countdown.textContent();
    expect(first).toMatch(/\d+ min \d{2} s/);
    await page.waitForTimeout(1_100);
    expect(await countdown.textContent()).not.toBe(first);
    const body = (await page.locator('main').textContent()) ?? '';
    expect(body).toContain('See your top artists and tracks');
    expect(
      await page.locator('section', { hasText: 'Your top tracks' }).locator('li').count(),
    ).toBeGreaterThan(0);
    expect(
      await page.locator('section', { hasText: 'Your top artists' }).locator('li').count(),
    ).toBeGreaterThan(0);
    expect(body).toContain('Nothing playing right now');
    await page.screenshot({ path: join(SCREENSHOTS, 'profile.png'), fullPage: true });

    const expiryBefore = Number(await countdown.getAttribute('data-expires-at'));
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect.poll(() => page.locator('#refresh-status').textContent()).toMatch(/Refreshed at/);
    // A new token, issued later than the first, so it expires later.
    expect(Number(await countdown.getAttribute('data-expires-at'))).toBeGreaterThan(expiryBefore);

    // The page can read its access token for browser calls, and never sees the refresh token.
    const token = (await page.evaluate(async () => (await fetch('/token')).json())) as Record<
      string,
      unknown
    >;
    expect(token.access_token).toBeTruthy();
    expect(Object.keys(token)).not.toContain('refresh_token');

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'spotauth_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${sandbox.url}/`);
    await expect.poll(() => page.getByRole('link', { name: 'Log in with Spotify' }).count()).toBe(1);
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 60_000);

  it('is usable on a phone-sized screen and by keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(sandbox.url);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    // String expressions: they run in the page, where the DOM exists (this file is typed for Node).
    const focused = await page.evaluate<string | undefined>('document.activeElement?.textContent');
    expect(focused).toContain('Log in with Spotify');
    const overflow = await page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
    expect(overflow).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'home-mobile.png'), fullPage: true });
    await context.close();
  });

  it('denying access on the consent page shows a clear page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${sandbox.url}/login`);
    await page.waitForURL(`${sandbox.emulatorUrl}/authorize**`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Access not granted');
    expect(page.url()).not.toContain('code=');
    await page.screenshot({ path: join(SCREENSHOTS, 'denied.png'), fullPage: true });
    await context.close();
  });

  it('a tampered state shows the "login attempt rejected" page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${sandbox.url}/login`);
    await page.waitForURL(`${sandbox.emulatorUrl}/authorize**`);
    await page.goto(`${sandbox.url}/callback?code=stolen-code&state=tampered`);
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Login attempt rejected');
    await page.screenshot({ path: join(SCREENSHOTS, 'tampered.png'), fullPage: true });
    await context.close();
  });

  it('a revoked grant leads to a "log in again" page with a button', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await loginAs(page, 'bob');
    await fetch(`${sandbox.emulatorUrl}/_emulator/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user_id":"bob"}',
    });
    await fetch(`${sandbox.emulatorUrl}/_emulator/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user_id":"bob"}',
    });
    // The page's next load meets a 401 from Spotify, refreshes once, gets invalid_grant, and says so.
    await page.reload();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Please log in again');
    expect(await page.getByRole('link', { name: 'Log in again' }).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'reauth.png'), fullPage: true });
    await context.close();
  }, 30_000);
});
