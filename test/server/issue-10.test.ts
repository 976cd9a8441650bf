/**
 * Issue 10: what an outside security review of the server found. Each case failed on the code before its fix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/auth/security.js';
import { loadServerConfig, startupWarnings } from '../../src/server/config.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import { keyringOf } from '../stores/helpers.js';
import { control } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';

const BROKER_KEY = 'broker-key-for-issue-10-tests-0123456789';
const ALICE = 'user:acct_alice_7f3a9c2e41d8';
const BOB = 'user:acct_bob_0c55e1b7a92f';

/** The response headers every answer of the server must carry, whoever produced it. */
function expectOurHeaders(response: Response): void {
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
}

function logEvents(server: TestServer, event: string): Array<Record<string, unknown>> {
  return server.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['event'] === event);
}

describe('issue 10, item 1: open redirect through dot segments', () => {
  const vectors = ['/.//evil.com', '/..//evil.com', '/a/../..//evil.com', '/%2e%2e/%2e%2e//evil.com'];
  const encodedForms = (vector: string) => [
    vector,
    vector.replaceAll('.', '%2e').replace('%2eevil', '.evil').replace('evil%2ecom', 'evil.com'),
    vector.replaceAll('.', '%2E').replace('evil%2Ecom', 'evil.com'),
    vector.replace('/', '/.%2e/').replace('//evil', '//evil'),
    vector.replaceAll('//', '/\\'),
    vector.replaceAll('//', '/%5c'),
    vector.replaceAll('%2e', '%252e'),
  ];
  const origin = 'http://127.0.0.1:8888';

  /** What must hold on every returned value. */
  function expectSameOrigin(result: string): void {
    expect(result.startsWith('/')).toBe(true);
    expect(result.startsWith('//')).toBe(false);
    expect(result.startsWith('/\\')).toBe(false);
    expect(new URL(result, origin).origin).toBe(origin);
  }

  it('never returns a protocol-relative path, for every vector and its percent-encoded forms', () => {
    for (const vector of vectors) {
      for (const form of encodedForms(vector)) {
        const result = safeReturnTo(form, origin);
        expectSameOrigin(result);
        expect(result, form).not.toContain('evil.com/');
      }
    }
    // The existing table stays as it was.
    expect(safeReturnTo('/me?tab=1', origin)).toBe('/me?tab=1');
    expect(safeReturnTo('/a/./b/../c', origin)).toBe('/a/c');
  });

  it('holds on arbitrary compositions of slashes, dots and their encodings (property)', () => {
    const part = fc.constantFrom(
      '/',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '\\',
      '%5c',
      'evil.com',
      'a',
      '?x=1',
      '#f',
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        expectSameOrigin(safeReturnTo(`/${parts.join('')}`, origin));
      }),
      { numRuns: 2000 },
    );
  });

  describe('end to end: /callback never redirects off-origin', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { SPOTAUTH_LOGIN_RATE_LIMIT: '1000' } });
    });
    afterAll(() => server.close());

    for (const vector of vectors) {
      for (const form of encodedForms(vector)) {
        it(`returnTo=${form}`, async () => {
          const browser = new Browser();
          const { hops } = await browser.login(server, `/login?returnTo=${encodeURIComponent(form)}`);
          expect(new URL(must(hops.at(-1), 'hops.at(-1)')).origin).toBe(server.url);
          for (const hop of hops) expect([server.url, server.emulator.url]).toContain(new URL(hop).origin);
        });
      }
    }
  });
});

describe('issue 10, items 2 and 3: unreadable store records', () => {
  let server: TestServer;
  let dir: string;
  let path: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotauth-issue10-'));
    path = join(dir, 'tokens.db');
    const store = await SqliteStore.open(path, { keyring: keyringOf('k1') });
    server = await startTestServer({
      store,
      tokens: { cacheTtlMs: 0 },
      env: { SPOTAUTH_BROKER_KEYS: BROKER_KEY, SPOTAUTH_LOGIN_RATE_LIMIT: '1000' },
    });
  });
  afterAll(async () => {
    await server.close();
    await server.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Re-encrypts a row's access token under a key id the server does not have (a lost key). */
  function makeUnreadable(key: string): void {
    const db = new Database(path);
    db.prepare('UPDATE spotauth_tokens SET access_token = ? WHERE key = ?').run(
      'v1.kLost.AAAA.BBBB.CCCC',
      key,
    );
    db.close();
  }

  async function loginAs(user: string): Promise<Browser> {
    await control(server.emulator, 'config', { auto_approve: user });
    const browser = new Browser();
    const { final } = await browser.login(server);
    expect(final.status).toBe(200);
    return browser;
  }

  function leaksInternals(text: string): string[] {
    return [
      path,
      dir,
      'kLost',
      'k1',
      'SPOTAUTH_ENCRYPTION_KEYS',
      'acct_alice',
      'SQLite',
      'spotauth_tokens',
    ].filter((needle) => text.includes(needle));
  }

  it('item 2: a browser and a broker client get a generic store_error, the log gets the detail', async () => {
    const browser = await loginAs('alice');
    makeUnreadable(ALICE);
    const token = await browser.get(`${server.url}/token`, { accept: 'application/json' });
    expect(token.status).toBe(500);
    const body = (await token.json()) as Record<string, unknown>;
    expect(body['error']).toBe('store_error');
    expect(leaksInternals(JSON.stringify(body))).toEqual([]);
    expectOurHeaders(token);

    const page = await browser.get(`${server.url}/`);
    expect(page.status).toBe(500);
    expect(leaksInternals(await page.text())).toEqual([]);

    const broker = await fetch(`${server.url}/api/v1/users/acct_alice_7f3a9c2e41d8/token`, {
      headers: { authorization: `Bearer ${BROKER_KEY}` },
    });
    expect(broker.status).toBe(500);
    const brokerBody = await broker.text();
    expect(JSON.parse(brokerBody)).toMatchObject({ error: 'store_error', code: 'KEY_UNKNOWN' });
    expect(leaksInternals(brokerBody)).toEqual([]);

    const logged = server.logs.filter(
      (line) => line.includes('"code":"KEY_UNKNOWN"') && line.includes('"detail"'),
    );
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('')).toContain('kLost');
  });

  it('item 3: logging in again replaces the unreadable record and keeps its bytes aside', async () => {
    const browser = await loginAs('alice');
    const token = await browser.get(`${server.url}/token`);
    expect(token.status).toBe(200);
    const [event] = logEvents(server, 'record_quarantined');
    expect(event).toMatchObject({ user: ALICE, code: 'KEY_UNKNOWN' });
    expect(String(must(event, 'event')['location'])).toContain('spotauth_quarantine');
    const db = new Database(path, { readonly: true });
    const kept = db.prepare('SELECT key, access_token FROM spotauth_quarantine').all();
    db.close();
    expect(kept).toEqual([{ key: ALICE, access_token: 'v1.kLost.AAAA.BBBB.CCCC' }]);
  });

  it('item 3: the user list skips an unreadable record and reports it by key, with a count', async () => {
    await loginAs('bob');
    makeUnreadable(BOB);
    const response = await fetch(`${server.url}/api/v1/users`, {
      headers: { authorization: `Bearer ${BROKER_KEY}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      users: Array<{ account: string }>;
      unreadable: { count: number; keys: string[] };
    };
    expect(body.users.map((user) => user.account)).toEqual(['acct_alice_7f3a9c2e41d8']);
    expect(body.unreadable).toEqual({ count: 1, keys: [BOB] });
  });
});

describe('issue 10: framework errors, headers, readiness, refresh, logging, metrics, hosts', () => {
  let server: TestServer;
  let probes = 0;
  beforeAll(async () => {
    server = await startTestServer({
      onAuthFetch: (_url, init) => {
        if (init?.method === 'HEAD') probes++;
      },
      env: {
        SPOTAUTH_BROKER_KEYS: BROKER_KEY,
        SPOTAUTH_LOGIN_RATE_LIMIT: '1000',
        SPOTAUTH_METRICS_TOKEN: 'metrics-token-0123456789abcdef',
      },
    });
  });
  afterAll(() => server.close());

  it("item 4: a malformed URL gets our page and headers, not Fastify's FST_ERR_BAD_URL", async () => {
    const response = await fetch(`${server.url}/%`);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('FST_ERR');
    expect(text).toContain('malformed');
    expectOurHeaders(response);
  });

  it('item 4: an over-long path parameter gets 414 without echoing the input', async () => {
    const long = 'x'.repeat(201);
    const response = await fetch(`${server.url}/api/v1/users/${long}/token`, {
      headers: { authorization: `Bearer ${BROKER_KEY}` },
    });
    expect(response.status).toBe(414);
    const text = await response.text();
    expect(text).not.toContain('FST_ERR');
    expect(text).not.toContain(long);
    expect(JSON.parse(text)).toMatchObject({ error: 'uri_too_long' });
    expectOurHeaders(response);
    expect(server.logs.some((line) => line.includes('request refused by the router'))).toBe(true);
  });

  it('item 4: 404 and 405 come from our handler, with our headers; 405 says which methods work', async () => {
    const missing = await fetch(`${server.url}/no/such/page`);
    expect(missing.status).toBe(404);
    expectOurHeaders(missing);
    const wrongMethod = await fetch(`${server.url}/logout`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expectOurHeaders(wrongMethod);
    const json = await fetch(`${server.url}/token`, { method: 'DELETE' });
    expect(json.status).toBe(405);
    expect(await json.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('item 4: malformed HTTP gets a 400 with our headers', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw.toLowerCase()).toContain('referrer-policy: no-referrer');
    expect(raw.toLowerCase()).toContain('x-content-type-options: nosniff');
  });

  it('item 8: /readyz reuses its probe instead of one outbound request per hit', async () => {
    const before = probes;
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/readyz`)));
    for (const answer of answers) expect(answer.status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(probes - before).toBe(1);
  });

  it('item 9: "Refresh now" reports a failed refresh with its code instead of ok', async () => {
    const browser = new Browser();
    const { final } = await browser.login(server);
    const csrf = must(
      /name="csrf" value="([^"]+)"/.exec(await final.text())?.[1],
      '/name="csrf" value="([^"]+)"/ in await final.text()',
    );
    const before = await (await browser.get(`${server.url}/token`)).json();
    await control(server.emulator, 'faults', { kind: 'bad_token_type', count: 1 });
    const response = await browser.request(`${server.url}/refresh_token`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin', accept: 'application/json' },
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['ok']).toBeUndefined();
    expect(body['code']).toBe('INVALID_TOKEN_RESPONSE');
    // Nothing was lost: the old token still works.
    expect(await (await browser.get(`${server.url}/token`)).json()).toMatchObject({
      access_token: (before as { access_token: string }).access_token,
    });
  });

  it('item 10: state mismatch, CSRF refusal and a bad broker key are logged as security events', async () => {
    const browser = new Browser();
    const login = await browser.get(`${server.url}/login`);
    const authorize = await browser.get(must(login.headers.get('location'), 'a location header'));
    const callback = new URL(must(authorize.headers.get('location'), 'a location header'));
    callback.searchParams.set('state', 'forged');
    expect((await browser.get(callback.href)).status).toBe(400);
    expect(logEvents(server, 'login_rejected').map((e) => e['reason'])).toContain('STATE_MISMATCH');

    const user = new Browser();
    await user.login(server);
    const refused = await user.request(`${server.url}/logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=wrong',
    });
    expect(refused.status).toBe(403);
    expect(logEvents(server, 'csrf_refused')).toHaveLength(1);

    const bad = await fetch(`${server.url}/api/v1/users`, {
      headers: { authorization: 'Bearer sk_abc123_not-the-secret-at-all' },
    });
    expect(bad.status).toBe(401);
    const [event] = logEvents(server, 'broker_key_rejected');
    expect(event).toMatchObject({ key_id: 'abc123' });
    expect(server.logs.join('')).not.toContain('not-the-secret-at-all');
  });

  it('item 10: repeated bad broker keys from one client are rate limited (429 with Retry-After)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const response = await fetch(`${server.url}/api/v1/users`, {
        headers: { authorization: `Bearer wrong-key-${i}` },
      });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 5).every((status) => status === 401 || status === 429)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Even the right key waits out the window: guessing gains nothing.
    const good = await fetch(`${server.url}/api/v1/users`, {
      headers: { authorization: `Bearer ${BROKER_KEY}` },
    });
    expect(good.status).toBe(429);
  });

  it('item 13: /metrics needs SPOTAUTH_METRICS_TOKEN when it is set', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${server.url}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-0123456789abcdef' },
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('spotauth_logins_total');
  });

  it('item 11 (rebinding): a request for another Host is refused; health checks answer any Host', async () => {
    const { request } = await import('node:http');
    const get = (path: string, host: string, cookie?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const { port } = new URL(server.url);
        const headers = cookie ? { host, cookie } : { host };
        const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: must(res.statusCode, 'res.statusCode'), body }));
        });
        req.on('error', reject);
        req.end();
      });
    const { port } = new URL(server.url);
    const rebound = await get('/login', `evil.test:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('authorize');
    expect((await get('/healthz', `10.0.0.5:${port}`)).status).toBe(200);
    expect((await get('/login', `127.0.0.1:${port}`)).status).toBe(303);
    // The hot GET /token (answered before the framework once its session and token are cached) checks
    // the Host too: right after two good reads, the same cookie under another Host gets 421, no token.
    const browser = new Browser();
    await browser.login(server);
    const cookie = browser.cookieHeader();
    expect((await get('/token', `127.0.0.1:${port}`, cookie)).status).toBe(200);
    expect((await get('/token', `127.0.0.1:${port}`, cookie)).status).toBe(200);
    const stolen = await get('/token', `evil.test:${port}`, cookie);
    expect(stolen.status).toBe(421);
    expect(stolen.body).not.toContain('access_token');
    // A target in absolute-form names its own host, which the Host header then does not: refused, as
    // is `*`, whatever the Host header says; the session's token is not in the answer.
    for (const target of [`http://evil.test:${port}/token`, `http://127.0.0.1:${port}/token`, '*']) {
      const absolute = await get(target, `127.0.0.1:${port}`, cookie);
      expect(absolute.status, target).toBe(400);
      expect(absolute.body).toContain('not a full URL');
      expect(absolute.body).not.toContain('access_token');
    }
  });
});

describe('issue 10, items 5, 11 and 13: configuration', () => {
  it('item 5: an https public URL sends Strict-Transport-Security on every response', async () => {
    const server = await startTestServer({ env: { SPOTAUTH_PUBLIC_URL: 'https://music.example' } });
    try {
      const { request } = await import('node:http');
      const { port } = new URL(server.url);
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/', headers: { host: 'music.example' } },
          (res) => {
            res.resume();
            resolve(res.headers);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      await server.close();
    }
    const plain = await startTestServer();
    try {
      expect((await fetch(`${plain.url}/healthz`)).headers.get('strict-transport-security')).toBeNull();
    } finally {
      await plain.close();
    }
  });

  const real = {
    SPOTIFY_CLIENT_ID: 'client',
    SPOTIFY_CLIENT_SECRET: 'secret',
    SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:8888/callback',
  };

  it('item 11: a non-sandbox server on plain http warns at start; https and the sandbox do not', () => {
    expect(startupWarnings(loadServerConfig(real)).join(' ')).toMatch(/plain http.*cookies/);
    expect(startupWarnings(loadServerConfig({}))).toEqual([]);
    const https = loadServerConfig({
      ...real,
      SPOTAUTH_PUBLIC_URL: 'https://music.example',
      SPOTIFY_REDIRECT_URI: 'https://music.example/callback',
    });
    expect(startupWarnings(https)).toEqual([]);
  });

  it('item 13: a non-loopback HOST without SPOTAUTH_METRICS_TOKEN warns at start', () => {
    expect(startupWarnings(loadServerConfig({ HOST: '0.0.0.0' })).join(' ')).toMatch(
      /SPOTAUTH_METRICS_TOKEN/,
    );
    expect(
      startupWarnings(loadServerConfig({ HOST: '0.0.0.0', SPOTAUTH_METRICS_TOKEN: 'a'.repeat(32) })),
    ).toEqual([]);
    expect(startupWarnings(loadServerConfig({ HOST: '127.0.0.1' }))).toEqual([]);
  });
});
