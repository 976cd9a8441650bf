/**
 * examples/spa, served by its own static server on 127.0.0.1 and used like a person would in headless
 * Chromium, against the emulator's real consent page: log in, profile and top tracks, reload, a second tab,
 * log out; denial and revocation.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../support/chromium.js';
import { type BrowserWorld, counts, resetEmulator, startWorld } from './helpers.js';

const available = chromiumAvailable('SPA EXAMPLE TESTS');
const SCREENSHOTS = fileURLToPath(new URL('../../test-results', import.meta.url));

describe.skipIf(!available)('the SPA example in headless Chromium', () => {
  let world: BrowserWorld;
  let context: BrowserContext;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startWorld();
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  beforeEach(async () => {
    await resetEmulator(world.emulator);
    // The real consent page: pick a user, then Agree or Cancel.
    await fetch(`${world.emulator.url}/_emulator/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"auto_approve":null}',
    });
    context = await world.browser.newContext();
  });

  afterEach(async () => {
    await context?.close();
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${world.site.url}/`);
    return { page, errors };
  }

  async function logIn(page: Page, user = 'alice'): Promise<void> {
    await page.getByRole('button', { name: 'Log in with Spotify' }).click();
    await page.waitForURL(`${world.emulator.url}/authorize**`);
    await page.getByRole('radio', { name: new RegExp(user, 'i') }).check();
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(`${world.site.url}/**`);
  }

  it('log in → profile and top tracks; reload and a second tab stay logged in; log out', async () => {
    const { page, errors } = await open();
    await expect.poll(() => page.getByRole('button', { name: 'Log in with Spotify' }).isVisible()).toBe(true);
    await logIn(page);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Alice Example');
    expect(page.url()).toBe(`${world.site.url}/`);
    expect(await page.locator('#top-tracks li').count()).toBe(10);
    await page.screenshot({ path: join(SCREENSHOTS, 'spa-profile.png'), fullPage: true });

    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Alice Example');
    const { page: second } = await open();
    await expect.poll(() => second.getByRole('heading', { level: 1 }).textContent()).toBe('Alice Example');
    expect(await counts(world.emulator)).toMatchObject({ authorization_code: 1, refresh_token: 0 });

    await second.getByRole('button', { name: 'Log out' }).click();
    await expect
      .poll(() => second.getByRole('button', { name: 'Log in with Spotify' }).isVisible())
      .toBe(true);
    // The first tab follows.
    await expect.poll(() => page.getByRole('button', { name: 'Log in with Spotify' }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('Cancel on the consent page: a clear message, no token request, still logged out', async () => {
    const { page } = await open();
    await page.getByRole('button', { name: 'Log in with Spotify' }).click();
    await page.waitForURL(`${world.emulator.url}/authorize**`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(`${world.site.url}/**`);
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/did not allow access.*ACCESS_DENIED/);
    expect(page.url()).toBe(`${world.site.url}/`);
    // The message is shown before the page has read the (empty) session and drawn the signed-out view.
    await expect.poll(() => page.getByRole('button', { name: 'Log in with Spotify' }).isVisible()).toBe(true);
    expect((await counts(world.emulator)).authorization_code).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'spa-denied.png'), fullPage: true });
  });

  it('access removed on Spotify: the page asks to log in again, and logging in again works', async () => {
    const { page } = await open();
    await logIn(page, 'bob');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Bob Example');
    for (const path of ['revoke', 'expire']) {
      await fetch(`${world.emulator.url}/_emulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user_id":"bob"}',
      });
    }
    await page.reload();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Please log in again');
    await page.screenshot({ path: join(SCREENSHOTS, 'spa-reauth.png'), fullPage: true });
    await page.getByRole('button', { name: 'Log in again' }).click();
    await page.waitForURL(`${world.emulator.url}/authorize**`);
    await page.getByRole('radio', { name: /bob/i }).check();
    await page.getByRole('button', { name: 'Agree' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Bob Example');
  });
});
