/**
 * What the adapters add for their frameworks' idioms, each inside a real app of that framework (Express 5
 * and Fastify 5 over real HTTP, the fetch adapter with Web Requests): sessions from headers alone (Next.js
 * server components), a per-request client address (Deno.serve, Hono), loginUrl, and error handlers that
 * keep a framework's 4xx a 4xx. The full walks in Chromium are in test/e2e/frameworks/.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spotauthExpress } from '../../src/adapters/express.js';
import { spotauthFastify } from '../../src/adapters/fastify.js';
import { type FetchSpotauth, spotauthFetch } from '../../src/adapters/fetch.js';
import { SpotauthError, SpotifyAuth } from '../../src/core/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SANDBOX_APP } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/index.js';
import { control, emulatorAuth, startTestEmulator } from '../support/emulator.js';
import { must } from '../support/must.js';

const ORIGIN = 'http://127.0.0.1:8891';
const BASE = '/auth/spotify';
const quiet = { info() {}, warn() {}, error() {} };

/** An app that never reaches Spotify: the error and redirect paths need none. */
function offlineAuth(): SpotifyAuth {
  return new SpotifyAuth({
    clientId: 'offline-app',
    clientSecret: 'offline-secret',
    redirectUri: `${ORIGIN}${BASE}/callback`,
    accountsUrl: 'http://127.0.0.1:9',
    apiUrl: 'http://127.0.0.1:9/v1',
    allowInsecureHttp: true,
  });
}

describe('spotauth/fetch', () => {
  let emulator: RunningEmulator;
  let spotauth: FetchSpotauth;
  let cookie: string;

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    await control(emulator, 'apps', {
      client_id: SANDBOX_APP.clientId,
      client_secret: SANDBOX_APP.clientSecret,
      redirect_uris: [`${ORIGIN}${BASE}/callback`],
    });
    spotauth = spotauthFetch({
      auth: emulatorAuth(emulator, { redirectUri: `${ORIGIN}${BASE}/callback` }),
      store: new MemoryStore(),
      loginRateLimit: 2,
      logger: quiet,
    });
    const login = must(
      await spotauth.handle(new Request(`${ORIGIN}${BASE}/login`), { ip: '192.0.2.1' }),
      'an answer to /login',
    );
    const loginCookie = must(
      login.headers.getSetCookie()[0]?.split(';')[0],
      "login.headers.getSetCookie()[0].split(';')[0]",
    );
    const authorize = await fetch(must(login.headers.get('location'), 'a location header'), {
      redirect: 'manual',
    });
    const callback = new URL(must(authorize.headers.get('location'), 'a location header'));
    const done = must(
      await spotauth.handle(
        new Request(`${ORIGIN}${callback.pathname}${callback.search}`, { headers: { cookie: loginCookie } }),
        { ip: '192.0.2.1' },
      ),
      'an answer to the callback',
    );
    expect(done.status).toBe(303);
    cookie = must(
      done.headers
        .getSetCookie()
        .find((line) => line.startsWith('spotauth_session='))
        ?.split(';')[0],
      'a session cookie',
    );
  });
  afterAll(async () => {
    spotauth.handler.close();
    await emulator.stop();
  });

  it('finds the session from headers alone: a Headers, or an object like Next.js headers()', async () => {
    expect((await spotauth.session(new Headers({ cookie })))?.account).toBe('acct_alice_7f3a9c2e41d8');
    // Next.js's ReadonlyHeaders has get() and a `headers` field of its own that is a plain object.
    const nextLike = { headers: { cookie }, get: (name: string) => (name === 'cookie' ? cookie : null) };
    expect((await spotauth.session(nextLike))?.account).toBe('acct_alice_7f3a9c2e41d8');
    const api = await spotauth.api(new Headers({ cookie }));
    expect((await api.me())?.display_name).toBe('Alice Example');
    expect((await spotauth.accessToken(new Headers({ cookie }))).accessToken).toBeTruthy();
    expect(await spotauth.session(new Headers())).toBeNull();
  });

  it('GET /token with a cached session and token is answered at once, not as a promise; a miss is a promise', async () => {
    const tokenRequest = () => new Request(`${ORIGIN}${BASE}/token`, { headers: { cookie } });
    await spotauth.fetch(tokenRequest()); // the session and token are now this instance's
    const ready = spotauth.fetch(tokenRequest());
    expect(ready).toBeInstanceOf(Response);
    expect((ready as Response).status).toBe(200);
    expect(((await (ready as Response).json()) as { access_token?: string }).access_token).toBeTruthy();
    const unknown = spotauth.fetch(
      new Request(`${ORIGIN}${BASE}/token`, { headers: { cookie: 'spotauth_session=nobody' } }),
    );
    expect(unknown).toBeInstanceOf(Promise);
    expect((await unknown).status).toBe(401);
    const notOurs = spotauth.handle(new Request(`${ORIGIN}/elsewhere`));
    expect(notOurs).toBeNull();
  });

  it('loginUrl returns to the page asked for, and only to this origin', () => {
    expect(spotauth.loginUrl('/me')).toBe(`${BASE}/login?returnTo=%2Fme`);
    expect(spotauth.loginUrl('https://evil.example/')).toBe(`${BASE}/login`);
  });

  it('the login rate limit counts per client address given with the request', async () => {
    const login = (ip?: string) =>
      spotauth.handle(new Request(`${ORIGIN}${BASE}/login`), ip === undefined ? undefined : { ip });
    // 192.0.2.1 used one of its two in beforeAll (and one on the callback).
    expect(must(await login('192.0.2.1'), "login('192.0.2.1')").status).toBe(429);
    expect(must(await login('192.0.2.2'), "login('192.0.2.2')").status).toBe(303);
    expect(must(await login('192.0.2.2'), "login('192.0.2.2')").status).toBe(303);
    expect(must(await login('192.0.2.2'), "login('192.0.2.2')").status).toBe(429);
  });

  it('errorResponse keeps a framework 4xx (Hono HTTPException-like `status`) and hides other errors as 500', async () => {
    const request = new Request(`${ORIGIN}/upload`, { headers: { accept: 'application/json' } });
    const tooLarge = spotauth.errorResponse(
      request,
      Object.assign(new Error('Payload Too Large'), { status: 413 }),
    );
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ error: 'too_large', message: 'The request is too large.' });
    const internal = spotauth.errorResponse(request, new Error('/srv/app/secret.js exploded'));
    expect(internal.status).toBe(500);
    expect(await internal.text()).not.toContain('/srv');
  });
});

describe('spotauth/express in an Express 5 app', () => {
  let url: string;
  let close: () => Promise<void>;
  let spotauth: ReturnType<typeof spotauthExpress>;

  beforeAll(async () => {
    spotauth = spotauthExpress({ auth: offlineAuth(), store: new MemoryStore(), logger: quiet });
    const app = express();
    app.use(express.json());
    app.use(spotauth);
    app.post('/notes', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/me', spotauth.requireLogin, (_req, res) => {
      res.send('mine');
    });
    app.get('/dead', () => {
      throw new SpotauthError('REAUTH_REQUIRED', 'The grant was revoked; log in again.');
    });
    app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) =>
      spotauth.sendError(req, res, error),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    spotauth.handler.close();
    await close();
  });

  it('a malformed JSON body refused by express.json() stays a 400 through sendError', async () => {
    const response = await fetch(`${url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"not json',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'bad_request',
      message: 'The request was malformed.',
    });
  });

  it('requireLogin redirects to login and back; a dead grant gets the "log in again" page', async () => {
    const me = await fetch(`${url}/me`, { redirect: 'manual' });
    expect(me.status).toBe(303);
    expect(me.headers.get('location')).toBe(`${BASE}/login?returnTo=%2Fme`);
    const dead = await fetch(`${url}/dead`);
    expect(dead.status).toBe(401);
    expect(await dead.text()).toContain('Please log in again');
  });
});

describe('spotauth/fastify in a Fastify 5 app', () => {
  const app = Fastify();

  beforeAll(async () => {
    await app.register(spotauthFastify, { auth: offlineAuth(), store: new MemoryStore(), logger: quiet });
    app.post('/notes', async () => ({ ok: true }));
    app.get('/me', { preHandler: app.spotauth.requireLogin }, async () => 'mine');
    app.get('/dead', async () => {
      throw new SpotauthError('REAUTH_REQUIRED', 'The grant was revoked; log in again.');
    });
    app.setErrorHandler((error, request, reply) => app.spotauth.sendError(request, reply, error));
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  const url = () => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  it('sendError: a malformed JSON body stays a 400, a dead grant is a 401 "log in again" page', async () => {
    const bad = await fetch(`${url()}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"not json',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request', message: 'The request was malformed.' });
    const dead = await fetch(`${url()}/dead`);
    expect(dead.status).toBe(401);
    expect(await dead.text()).toContain('Please log in again');
    const me = await fetch(`${url()}/me`, { redirect: 'manual' });
    expect(me.status).toBe(303);
    expect(me.headers.get('location')).toBe(`${BASE}/login?returnTo=%2Fme`);
  });
});
