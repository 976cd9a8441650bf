/**
 * The framework-agnostic handler, driven through the fetch adapter in-process, against the emulator over
 * real HTTP. Two handlers on one SQLite file stand for two instances sharing a store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FetchSpotauth, spotauthFetch } from '../../src/adapters/fetch.js';
import type { SpotauthHandler } from '../../src/auth/handler.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SANDBOX_APP } from '../../src/emulator/index.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import { keyringOf } from '../stores/helpers.js';
import { control, emulatorAuth, startTestEmulator, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';

const ORIGIN = 'http://127.0.0.1:8890';
const BASE = '/auth/spotify';

/** A cookie jar over in-process Requests (absolute URLs on ORIGIN). */
/** The handler's answer to one of its own routes (null would mean "not an auth route"). */
async function answer(instance: FetchSpotauth, request: Request): Promise<Response> {
  return must(
    await instance.handle(request),
    `an answer to ${request.method} ${new URL(request.url).pathname}`,
  );
}

class Jar {
  readonly cookies = new Map<string, string>();
  request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Request {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Request(new URL(path, ORIGIN), { ...init, headers });
  }
  take(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

describe('the login handler, two instances on one store', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let stores: SqliteStore[];
  let a: FetchSpotauth;
  let b: FetchSpotauth;
  let handlers: SpotauthHandler[];

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    await control(emulator, 'apps', {
      client_id: SANDBOX_APP.clientId,
      client_secret: SANDBOX_APP.clientSecret,
      redirect_uris: [`${ORIGIN}${BASE}/callback`],
    });
    dir = mkdtempSync(join(tmpdir(), 'spotauth-handler-'));
    stores = [];
    const make = async () => {
      const store = await SqliteStore.open(join(dir, 'shared.db'), { keyring: keyringOf('k1') });
      stores.push(store);
      return spotauthFetch({
        auth: emulatorAuth(emulator, { redirectUri: `${ORIGIN}${BASE}/callback` }),
        store,
        scope: ['user-read-private', 'user-top-read'],
        sessions: { cacheMs: 50 },
        logger: { info() {}, warn() {}, error() {} },
      });
    };
    a = await make();
    b = await make();
    handlers = [a.handler, b.handler];
  });
  afterAll(async () => {
    for (const handler of handlers) handler.close();
    for (const store of stores) await store.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** /login on `start`, the emulator's auto-approve, and the callback URL it sends back (not yet visited). */
  async function startLogin(jar: Jar, start: FetchSpotauth, returnTo = '/after'): Promise<string> {
    const login = jar.take(await answer(start, jar.request(`${BASE}/login?returnTo=${returnTo}`)));
    expect(login.status).toBe(303);
    const authorize = await fetch(must(login.headers.get('location'), 'a location header'), {
      redirect: 'manual',
    });
    return must(authorize.headers.get('location'), 'a location header');
  }

  it('finishes on instance B a login started on A; the session works on both', async () => {
    const jar = new Jar();
    const callback = await startLogin(jar, a);
    const done = jar.take(
      await answer(b, jar.request(new URL(callback).pathname + new URL(callback).search)),
    );
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/after');
    for (const instance of [a, b]) {
      const token = await answer(instance, jar.request(`${BASE}/token`));
      expect(token.status).toBe(200);
      expect(await token.json()).toMatchObject({
        token_type: 'Bearer',
        scope: expect.stringContaining('user-top-read'),
      });
    }
    const api = await a.api(jar.request('/anything'));
    expect((await api.me())?.id).toBe('alice');
  });

  it('a login transaction is single use across instances: a replay elsewhere makes no token request', async () => {
    const jar = new Jar();
    const callback = new URL(await startLogin(jar, a));
    const login = must(jar.cookies.get('spotauth_login'), 'a spotauth_login cookie');
    expect((await answer(a, jar.request(callback.pathname + callback.search))).status).toBe(303);
    const before = await tokenRequests(emulator);
    const replay = await answer(
      b,
      new Request(callback.href.replace(callback.origin, ORIGIN), {
        headers: { cookie: `spotauth_login=${login}` },
      }),
    );
    expect(replay.status).toBe(400);
    expect(await tokenRequests(emulator)).toEqual(before);
  });

  it('a logout on one instance ends the session on the other within the cache time', async () => {
    const jar = new Jar();
    const callback = new URL(await startLogin(jar, a));
    jar.take(await answer(a, jar.request(callback.pathname + callback.search)));
    expect((await answer(b, jar.request(`${BASE}/token`))).status).toBe(200);
    const session = (await (await answer(a, jar.request(`${BASE}/session`))).json()) as {
      csrf_token: string;
    };
    const cookies = new Map(jar.cookies);
    const out = await answer(
      a,
      jar.request(`${BASE}/logout`, {
        method: 'POST',
        headers: {
          'x-csrf-token': session.csrf_token,
          'sec-fetch-site': 'same-origin',
          accept: 'application/json',
        },
      }),
    );
    expect(out.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const stale = new Jar();
    for (const [name, value] of cookies) stale.cookies.set(name, value);
    expect((await answer(b, stale.request(`${BASE}/token`))).status).toBe(401);
  });

  it('a dead grant ends its sessions on every instance', async () => {
    await control(emulator, 'config', { auto_approve: 'bob' });
    try {
      const jar = new Jar();
      const callback = new URL(await startLogin(jar, a));
      jar.take(await answer(a, jar.request(callback.pathname + callback.search)));
      const session = (await (await answer(b, jar.request(`${BASE}/session`))).json()) as {
        csrf_token: string;
      };
      await control(emulator, 'revoke', { user_id: 'bob' });
      // Refresh now on A meets invalid_grant: the grant is marked, and every session of bob is deleted.
      const refresh = await answer(
        a,
        jar.request(`${BASE}/refresh`, {
          method: 'POST',
          headers: { 'x-csrf-token': session.csrf_token, 'sec-fetch-site': 'same-origin' },
        }),
      );
      expect(refresh.status).toBe(401);
      expect(await refresh.json()).toMatchObject({ error: 'reauth_required' });
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect((await answer(b, jar.request(`${BASE}/session`))).status).toBe(401);
    } finally {
      await control(emulator, 'config', { auto_approve: 'alice' });
    }
  });

  it('answers only its own routes; a wrong method gets 405 with Allow; JSON login for SPAs', async () => {
    const jar = new Jar();
    expect(await a.handle(jar.request('/other'))).toBeNull();
    expect(await a.handle(jar.request(`${BASE}/nope`))).toBeNull();
    expect((await a.fetch(jar.request(`${BASE}/nope`))).status).toBe(404);
    const wrong = await answer(a, jar.request(`${BASE}/logout`));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const json = await answer(a, jar.request(`${BASE}/login`, { headers: { accept: 'application/json' } }));
    expect(json.status).toBe(200);
    expect(((await json.json()) as { authorize_url: string }).authorize_url).toMatch(/\/authorize\?/);
    expect(json.headers.getSetCookie()[0]).toMatch(
      /^spotauth_login=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );
  });

  it('requireLogin redirects to login and comes back to the page; JSON clients get 401', async () => {
    const jar = new Jar();
    const page = await a.requireLogin(jar.request('/top?range=short'));
    expect(must(page.response, 'page.response').status).toBe(303);
    expect(must(page.response, 'page.response').headers.get('location')).toBe(
      `${BASE}/login?returnTo=${encodeURIComponent('/top?range=short')}`,
    );
    const api = await a.requireLogin(jar.request('/api/top', { headers: { accept: 'application/json' } }));
    expect(must(api.response, 'api.response').status).toBe(401);
    expect(await must(api.response, 'api.response').json()).toMatchObject({ error: 'not_logged_in' });
  });

  it('cleans up expired login transactions and sessions', async () => {
    const jar = new Jar();
    await startLogin(jar, a);
    const store = must(stores[0], 'stores[0]');
    const { sessions } = a.handler;
    await store.entries.put('login', { id: 'expired-one', value: '{}', expiresAt: Date.now() - 1 });
    await store.entries.put('session', { id: 'expired-two', value: '{}', expiresAt: Date.now() - 1 });
    expect(await store.entries.purgeExpired()).toBeGreaterThanOrEqual(2);
    expect(await sessions.entries.get('login', 'expired-one')).toBeNull();
  });

  it('refuses a redirect URI that does not point at its callback route', () => {
    expect(() =>
      spotauthFetch({
        auth: emulatorAuth(emulator, { redirectUri: `${ORIGIN}/callback` }),
        store: must(stores[0], 'stores[0]'),
        basePath: BASE,
      }),
    ).toThrow(/must end in \/auth\/spotify\/callback/);
  });
});
