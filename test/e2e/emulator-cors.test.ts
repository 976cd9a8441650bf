import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, SANDBOX_APP, startEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';

/**
 * CORS as a browser sees it (WEB-API-2026.md §4), from real headless Chromium: a page on another origin
 * calls the emulator's /v1 and /api/token, and a DNS-rebinding page cannot reach the control API.
 */

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env['CI'])
    throw new Error(`Chromium is missing at ${CHROMIUM}; CI must install the Debian package "chromium".`);
  console.warn(
    `\n*** SKIPPING EMULATOR CORS BROWSER TESTS: ${CHROMIUM} not found (apt-get install chromium) ***\n`,
  );
}

interface FetchOutcome {
  ok: boolean;
  status?: number;
  body?: string;
  retryAfter?: string | null;
  error?: string;
}

describe.skipIf(!available)('emulator CORS in headless Chromium', () => {
  let browser: Browser;
  let emulator: RunningEmulator;
  let site: Server;
  let siteUrl: string;
  let page: Page;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quiet: true });
    // The app's own origin: a page on another port, so every call to the emulator is cross-origin.
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>app</title><p>app</p>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // For the rebinding case: evil.test resolves to this machine, as after a rebinding attack.
        '--host-resolver-rules=MAP evil.test 127.0.0.1',
      ],
    });
    page = await (await browser.newContext()).newPage();
    await page.goto(siteUrl);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await emulator?.stop();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
  });

  beforeEach(async () => {
    await fetch(`${emulator.url}/_emulator/stats/reset`, { method: 'POST' });
    await fetch(`${emulator.url}/_emulator/api-faults`, { method: 'DELETE' });
  });

  /** fetch() inside the page; a CORS failure comes back as { ok: false, error }. */
  function browserFetch(url: string, init: Record<string, unknown>): Promise<FetchOutcome> {
    return page.evaluate(
      async ([target, options]) => {
        try {
          const response = await fetch(target as string, options as RequestInit);
          return {
            ok: true,
            status: response.status,
            body: await response.text(),
            retryAfter: response.headers.get('retry-after'),
          };
        } catch (error) {
          return { ok: false, error: String(error) };
        }
      },
      [url, init] as const,
    );
  }

  async function stats() {
    return (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as {
      cors_preflights: { api: number; token: number };
      token_requests_total: number;
      api_requests: Record<string, number>;
    };
  }

  it('/v1 with a bearer token: Chromium preflights, gets 200, then reads the JSON', async () => {
    const token = emulator.state.issueAccessToken(SANDBOX_APP.clientId, 'alice', [], null);
    const result = await browserFetch(`${emulator.url}/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(must(result.body, 'result.body')).id).toBe('alice');
    const s = await stats();
    expect(s.cors_preflights.api).toBe(1);
    expect(s.api_requests['GET /v1/me']).toBe(1);
  });

  it('/v1 writes (PUT with a JSON body) pass their preflight too', async () => {
    const token = emulator.state.issueAccessToken(
      SANDBOX_APP.clientId,
      'alice',
      ['user-library-modify'],
      null,
    );
    const result = await browserFetch(
      `${emulator.url}/v1/me/library?uris=spotify:track:4cOdK2wGLETKBW3PvgPWqT`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
    );
    expect(result).toMatchObject({ ok: true });
    expect((await stats()).cors_preflights.api).toBe(1);
  });

  it('a header Spotify does not allow (Cache-Control) fails the preflight: the request is never sent', async () => {
    const token = emulator.state.issueAccessToken(SANDBOX_APP.clientId, 'alice', [], null);
    const result = await browserFetch(`${emulator.url}/v1/me`, {
      headers: { authorization: `Bearer ${token}`, 'cache-control': 'no-cache' },
    });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/TypeError/);
    const s = await stats();
    expect(s.cors_preflights.api).toBe(1);
    expect(s.api_requests['GET /v1/me']).toBeUndefined();
  });

  it('Retry-After is not readable by page code (no Expose-Headers), unless switched on', async () => {
    const token = emulator.state.issueAccessToken(SANDBOX_APP.clientId, 'alice', [], null);
    const limit = () =>
      fetch(`${emulator.url}/_emulator/api-faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'rate_limit', retry_after: 3 }),
      });
    await limit();
    const hidden = await browserFetch(`${emulator.url}/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(hidden).toMatchObject({ ok: true, status: 429, retryAfter: null });
    const configure = (value: string[]) =>
      fetch(`${emulator.url}/_emulator/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cors_expose_headers: value }),
      });
    await configure(['Retry-After']);
    try {
      await limit();
      const shown = await browserFetch(`${emulator.url}/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(shown).toMatchObject({ ok: true, status: 429, retryAfter: '3' });
    } finally {
      await configure([]);
    }
  });

  it('/api/token: the CORS-simple form POST works and its JSON is readable', async () => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SANDBOX_APP.clientId,
      client_secret: SANDBOX_APP.clientSecret,
    }).toString();
    const result = await browserFetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(must(result.body, 'result.body')).token_type).toBe('Bearer');
    const s = await stats();
    expect(s.cors_preflights.token).toBe(0);
    expect(s.token_requests_total).toBe(1);
  });

  it('/api/token with Authorization: Basic: the preflight fails as at Spotify, the POST is never sent', async () => {
    const basic = Buffer.from(`${SANDBOX_APP.clientId}:${SANDBOX_APP.clientSecret}`).toString('base64');
    const result = await browserFetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: 'grant_type=client_credentials',
    });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/TypeError/);
    const s = await stats();
    expect(s.cors_preflights.token).toBe(1);
    expect(s.token_requests_total).toBe(0);
  });

  it('DNS rebinding: a page on evil.test (resolving to 127.0.0.1) cannot read the control API', async () => {
    const rebound = await (await browser.newContext()).newPage();
    try {
      const response = await rebound.goto(`http://evil.test:${emulator.port}/`);
      expect(response?.status()).toBe(403);
      const apps = await rebound.evaluate(async () => {
        const r = await fetch('/_emulator/apps');
        return { status: r.status, text: await r.text() };
      });
      expect(apps.status).toBe(403);
      expect(apps.text).not.toContain(SANDBOX_APP.clientSecret);
    } finally {
      await rebound.close();
    }
  });
});
