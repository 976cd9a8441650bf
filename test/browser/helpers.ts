import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type RunningSpaServer, startSpaServer } from '../../examples/spa/serve.mjs';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { launchChromium } from '../support/chromium.js';
import { startTestEmulator, type TokenRequestCounts, tokenRequests } from '../support/emulator.js';

/** The public (PKCE-only) app the browser tests log in to; loopback URIs without a port match any port. */
export const BROWSER_CLIENT_ID = 'spotauth-browser-test';
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface BrowserWorld {
  emulator: RunningEmulator;
  site: RunningSpaServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Emulator + the SPA server (SPA at /, test harness at /harness/, the official SDK at /sdk.js) + Chromium. */
export async function startWorld(): Promise<BrowserWorld> {
  const emulator = await startTestEmulator();
  emulator.state.addApp({
    clientId: BROWSER_CLIENT_ID,
    redirectUris: ['http://127.0.0.1/', 'http://127.0.0.1/harness/'],
    name: 'spotauth browser tests',
  });
  const dir = mkdtempSync(join(tmpdir(), 'spotauth-browser-'));
  const sdk = join(dir, 'sdk.js');
  await build({
    stdin: { contents: "export { SpotifyApi } from '@spotify/web-api-ts-sdk';", resolveDir: process.cwd() },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: sdk,
    logLevel: 'error',
  });
  const site = await startSpaServer({
    mounts: { '/harness/': FIXTURES },
    files: { '/sdk.js': sdk },
    config: {
      clientId: BROWSER_CLIENT_ID,
      accountsUrl: emulator.url,
      apiUrl: `${emulator.url}/v1`,
      allowInsecureHttp: true,
    },
  });
  const browser = await launchChromium();
  return {
    emulator,
    site,
    browser,
    async close() {
      await browser.close();
      await site.close();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function resetEmulator(emulator: RunningEmulator): Promise<void> {
  for (const [method, path, body] of [
    ['POST', 'stats/reset', undefined],
    ['DELETE', 'faults', undefined],
    ['DELETE', 'api-faults', undefined],
    ['POST', 'config', { refresh_mode: 'keep', auto_approve: 'alice' }],
  ] as const) {
    const response = await fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`emulator ${path}: ${response.status}`);
  }
}

export function counts(emulator: RunningEmulator): Promise<TokenRequestCounts> {
  return tokenRequests(emulator);
}

/** What `attempt(() => …)` in the harness returns. */
export interface Attempt<T = unknown> {
  ok: boolean;
  value?: T;
  code?: string;
  message?: string;
  transient?: boolean;
}

/** Opens the harness in a new tab of `context` and waits until its handleRedirect() has settled. */
export async function openHarness(world: BrowserWorld, context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${world.site.url}/harness/`);
  await settled(page);
  return page;
}

/** The harness's handleRedirect() result for the page's current document (its module may still be starting). */
export async function settled(page: Page): Promise<Attempt> {
  // A function, not a string: the site's CSP forbids eval, and a string predicate would need it.
  await page.waitForFunction(() => 'ready' in globalThis);
  return page.evaluate<Attempt>('ready');
}

/** A fresh context; `storage` (when given) is the harness's storage choice, set before any page runs. */
export async function newContext(world: BrowserWorld, storage?: string): Promise<BrowserContext> {
  const context = await world.browser.newContext();
  if (storage !== undefined) {
    await context.addInitScript(`localStorage.setItem('harness:storage', ${JSON.stringify(storage)})`);
  }
  return context;
}

/**
 * Logs in from `page` as the emulator's auto-approved user: the tab's own login URL, followed like a
 * click on "Log in" (the emulator redirects straight back), then the harness's handleRedirect() result.
 */
export async function loginIn(page: Page, world: BrowserWorld): Promise<Attempt> {
  if (!page.url().startsWith(`${world.site.url}/harness/`)) await page.goto(`${world.site.url}/harness/`);
  const url = await page.evaluate<string>('auth.loginUrl().then(String)');
  await page.goto(url);
  return settled(page);
}

/** Runs `expression` (which may return a promise) in the page through the harness's attempt(). */
export function attempt<T = unknown>(page: Page, expression: string): Promise<Attempt<T>> {
  return page.evaluate<Attempt<T>>(`attempt(() => ${expression})`);
}

/**
 * Moves the harness clock of these tabs `ms` ahead of real time. Written by each tab itself: another
 * process's localStorage write reaches a tab's cached copy only a moment later.
 */
export async function setClock(pages: Page | Page[], ms: number): Promise<void> {
  await Promise.all(
    (Array.isArray(pages) ? pages : [pages]).map((page) =>
      page.evaluate(`localStorage.setItem('harness:clock', '${ms}')`),
    ),
  );
}

/** The stored grant record, as any script of the origin could read it from the storage in use. */
export function storedGrant(page: Page): Promise<Record<string, unknown> | null> {
  return page.evaluate<Record<string, unknown> | null>('storedGrant()');
}

export const HOUR_MS = 3_600_000;
