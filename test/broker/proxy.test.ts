/**
 * The Web API proxy: against the emulator (real tokens, real 401/429/5xx semantics, upstream requests
 * counted at the emulator and at the proxy's transport), and against a recording HTTP upstream for what the
 * emulator's GET-only Web API slice cannot show (request bodies, headers, size limits, network failures).
 * SSRF attempts are sent raw (node:http), exactly as written.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SpotifyApi } from '../../src/api/client.js';
import { nodeUpstream, type UpstreamTransport } from '../../src/broker/upstream.js';
import { TRACKS } from '../../src/emulator/index.js';
import { sampleRecord } from '../stores/helpers.js';
import { control } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';
import { call, createKey, rawCall } from './helpers.js';

const KEY = 'bootstrap-key-for-the-proxy-tests-0123456789';
const ALICE = 'acct_alice_7f3a9c2e41d8';
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 10 };

async function apiRequests(server: TestServer, key: string): Promise<number> {
  const stats = (await (await fetch(`${server.emulator.url}/_emulator/stats`)).json()) as {
    api_requests: Record<string, number>;
  };
  return stats.api_requests[key] ?? 0;
}

async function refreshes(server: TestServer): Promise<number> {
  const stats = (await (await fetch(`${server.emulator.url}/_emulator/stats`)).json()) as {
    token_requests: { refresh_token: number };
  };
  return stats.token_requests.refresh_token;
}

/** The proxy's default transport, counted: every request it sends anywhere. */
function countingUpstream() {
  const calls: string[] = [];
  const send = nodeUpstream();
  const transport: UpstreamTransport = (url, init) => {
    calls.push(`${init.method} ${url}`);
    return send(url, init);
  };
  return { calls, transport };
}

describe('proxy against the emulator', () => {
  let server: TestServer;
  const upstream = countingUpstream();
  const proxy = (path: string, key = KEY) =>
    call(server.url, 'GET', `/api/v1/users/${ALICE}/spotify/${path}`, { key });

  beforeAll(async () => {
    server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: KEY },
      broker: { proxy: { upstream: upstream.transport, retry: FAST_RETRY }, failedKeyLimit: 1000 },
    });
    await new Browser().login(server);
    await server.store.put(
      sampleRecord('user:dead_grant', { status: 'reauth_required', reauthReason: 'revoked' }),
      null,
    );
  });
  afterAll(() => server.close());
  afterEach(() => fetch(`${server.emulator.url}/_emulator/api-faults`, { method: 'DELETE' }));

  it("passes Spotify's status, body and Content-Type through, with the user's token, and no caching", async () => {
    const before = await apiRequests(server, 'GET /v1/me');
    const answer = await proxy('me');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: 'alice', display_name: 'Alice Example' });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('x-spotauth-source')).toBe('spotify');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await apiRequests(server, 'GET /v1/me')).toBe(before + 1);
    const top = await proxy('me/top/tracks?limit=2&time_range=short_term');
    expect(top.json.items).toHaveLength(2);
    const notFound = await proxy('tracks/0000000000000000000000');
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-spotauth-source')).toBe('spotify');
    expect(notFound.json).toMatchObject({ error: { status: 404 } });
  });

  it('a 401 from Spotify refreshes once and retries', async () => {
    await proxy('me');
    await control(server.emulator, 'expire', { user_id: 'alice' });
    const [calls, refreshed] = [await apiRequests(server, 'GET /v1/me'), await refreshes(server)];
    const answer = await proxy('me');
    expect(answer.status).toBe(200);
    expect(await apiRequests(server, 'GET /v1/me')).toBe(calls + 2);
    expect(await refreshes(server)).toBe(refreshed + 1);
  });

  it('a 5xx on GET is retried with backoff; if it persists, it is passed through', async () => {
    await control(server.emulator, 'api-faults', {
      kind: 'server_error',
      status: 502,
      count: 2,
      path: '/v1/me',
    });
    const before = await apiRequests(server, 'GET /v1/me');
    expect((await proxy('me')).status).toBe(200);
    expect(await apiRequests(server, 'GET /v1/me')).toBe(before + 3);
    await control(server.emulator, 'api-faults', {
      kind: 'server_error',
      status: 503,
      count: 10,
      path: '/v1/me',
    });
    const failed = await proxy('me');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('x-spotauth-source')).toBe('spotify');
    expect(failed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(failed.text).toContain('503 Service Temporarily Unavailable');
    expect(await apiRequests(server, 'GET /v1/me')).toBe(before + 6);
  });

  it('refuses endpoints needing none of the key’s scopes (403 scope_forbidden); catalogue calls stay open', async () => {
    const { key } = await createKey(server.store, { scopes: ['user-top-read'], proxy: true });
    const sent = upstream.calls.length;
    const me = await proxy('me', key);
    expect(me.status).toBe(403);
    expect(me.json).toMatchObject({
      error: 'scope_forbidden',
      required_scopes: ['user-read-private', 'user-read-email'],
    });
    expect(upstream.calls.length).toBe(sent);
    expect((await proxy('me/top/artists', key)).status).toBe(200);
    expect((await proxy(`tracks/${must(TRACKS[0], 'TRACKS[0]').id}`, key)).status).toBe(200);
  });

  it('a dead grant gets 409 with the login URL, an unknown user 404, before anything is sent', async () => {
    const sent = upstream.calls.length;
    const dead = await call(server.url, 'GET', '/api/v1/users/dead_grant/spotify/me', { key: KEY });
    expect(dead.status).toBe(409);
    expect(dead.json).toMatchObject({ reason: 'revoked', login_url: `${server.url}/login` });
    const unknown = await call(server.url, 'GET', '/api/v1/users/nobody/spotify/me', { key: KEY });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('user_not_found');
    expect(upstream.calls.length).toBe(sent);
  });

  describe('SSRF: only plain paths under the Web API base', () => {
    const base = `/api/v1/users/${ALICE}/spotify/`;
    const vectors = [
      'http://evil.test/',
      'https:%2F%2Fevil.test',
      'HTTP://127.0.0.1:22/',
      '/evil.test/x',
      '//evil.test',
      '../../oauth/token',
      'me/../../x',
      'me/..',
      './me',
      '%2e%2e/x',
      '.%2e/api/token',
      '%2E%2E/%2E%2E/x',
      'me/%2e',
      'me%2f..%2f..%2fapi%2ftoken',
      'me%2Fx',
      'me%5cx',
      'me\\..\\x',
      '%252e%252e/x',
      'me%252fx',
      'me%00',
      'me%0d%0aHost:%20evil.test',
      'me%',
      'me%zz',
      'me/',
      'me//top',
      'me/"x"',
      'me/<x>',
      `${'a/'.repeat(1100)}a`,
    ];
    it.each(vectors)('%s → 400 invalid_proxy_path, nothing sent', async (vector) => {
      const sent = upstream.calls.length;
      const answer = await rawCall(server.url, 'GET', `${base}${vector}`, { authorization: `Bearer ${KEY}` });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      if (answer.status === 400 && answer.json?.error !== 'bad_request')
        expect(answer.json.error).toBe('invalid_proxy_path');
      expect(upstream.calls.length).toBe(sent);
    });

    it('an absolute-form request target or another Host never sends anything elsewhere', async () => {
      const sent = upstream.calls.length;
      // An absolute-form target (meant for proxies) is refused whatever host it names: this server is none.
      for (const target of [`http://evil.test${base}me`, `${server.url}${base}me`]) {
        const absolute = await rawCall(server.url, 'GET', target, { authorization: `Bearer ${KEY}` });
        expect(absolute.status, target).toBe(400);
      }
      const otherHost = await rawCall(server.url, 'GET', `${base}me`, {
        authorization: `Bearer ${KEY}`,
        host: 'evil.test',
      });
      expect(otherHost.status).toBe(421);
      expect(upstream.calls.length).toBe(sent);
      // The same call as a plain path goes to the configured Web API base.
      expect((await rawCall(server.url, 'GET', `${base}me`, { authorization: `Bearer ${KEY}` })).status).toBe(
        200,
      );
      expect(upstream.calls.slice(sent)).toEqual([`GET ${server.emulator.url}/v1/me`]);
    });

    it('sends plain paths, percent-encoded ids and query strings exactly, to the configured base only', async () => {
      const sent = upstream.calls.length;
      await proxy('search?q=a%20b&type=track&limit=1');
      await proxy('tracks/%41bc');
      expect(upstream.calls.slice(sent)).toEqual([
        `GET ${server.emulator.url}/v1/search?q=a%20b&type=track&limit=1`,
        `GET ${server.emulator.url}/v1/tracks/%41bc`,
      ]);
    });
  });
});

describe('proxy: 429 from Spotify', () => {
  it('is passed through with Retry-After; until it passes, the broker answers 429 without calling Spotify', async () => {
    const upstream = countingUpstream();
    const server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: KEY },
      broker: { proxy: { upstream: upstream.transport, retry: FAST_RETRY } },
    });
    try {
      await new Browser().login(server);
      await control(server.emulator, 'api-faults', { kind: 'rate_limit', retry_after: 30, path: '/v1/me' });
      const before = await apiRequests(server, 'GET /v1/me');
      const path = `/api/v1/users/${ALICE}/spotify/me`;
      const first = await call(server.url, 'GET', path, { key: KEY });
      expect(first.status).toBe(429);
      expect(first.headers.get('retry-after')).toBe('30');
      expect(first.headers.get('x-spotauth-source')).toBe('spotify');
      expect(first.json).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
      const second = await call(server.url, 'GET', path, { key: KEY });
      expect(second.status).toBe(429);
      expect(second.headers.get('x-spotauth-source')).toBe('broker');
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(second.headers.get('retry-after'))).toBeLessThanOrEqual(30);
      expect(second.json).toMatchObject({ error: 'rate_limited', code: 'RATE_LIMITED' });
      expect(await apiRequests(server, 'GET /v1/me')).toBe(before + 1);
      // The api client in the same process honours the same cooldown.
      await expect(new SpotifyApi({ tokens: server.tokens, user: ALICE }).me()).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      expect(await apiRequests(server, 'GET /v1/me')).toBe(before + 1);
    } finally {
      await server.close();
    }
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('proxy against a recording upstream', () => {
  let server: TestServer;
  let upstream: Server;
  let seen: Seen[] = [];
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const path = (rest: string) => `/api/v1/users/${ALICE}/spotify/${rest}`;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: must(req.method, 'req.method'),
          url: must(req.url, 'req.url'),
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        answer(req, res);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as { port: number };
    server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: KEY },
      broker: {
        proxy: {
          apiUrl: `http://127.0.0.1:${port}/v1`,
          retry: FAST_RETRY,
          maxRequestBytes: 1000,
          maxResponseBytes: 2000,
          timeoutMs: 400,
        },
      },
    });
    await new Browser().login(server);
  });
  afterAll(async () => {
    await server.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });
  afterEach(() => {
    seen = [];
  });

  it('forwards the body and a few request headers, the user token instead of the key, and nothing else', async () => {
    answer = (_req, res) => {
      res.writeHead(201, {
        'content-type': 'application/json; charset=utf-8',
        etag: '"v1"',
        'set-cookie': 'tracking=1',
        'x-internal': 'secret-ish',
      });
      res.end('{"snapshot_id":"abc"}');
    };
    const body = JSON.stringify({ uris: ['spotify:track:1'], position: 0 });
    const response = await call(server.url, 'POST', path('playlists/p1/items?position=0'), {
      key: KEY,
      body,
      headers: {
        'content-type': 'application/json',
        cookie: 'spotauth_session=x',
        'x-forwarded-for': '1.2.3.4',
        'accept-language': 'sv',
      },
    });
    expect(response.status).toBe(201);
    expect(response.json).toEqual({ snapshot_id: 'abc' });
    expect(response.headers.get('etag')).toBe('"v1"');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('x-internal')).toBeNull();
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/playlists/p1/items?position=0', body });
    expect(must(request, 'request').headers['content-type']).toBe('application/json');
    expect(must(request, 'request').headers['accept-language']).toBe('sv');
    expect(must(request, 'request').headers['cookie']).toBeUndefined();
    expect(must(request, 'request').headers['x-forwarded-for']).toBeUndefined();
    const token = must(request?.headers['authorization'], "request.headers['authorization']").slice(
      'Bearer '.length,
    );
    expect(server.emulator.state.lookupAccessToken(token)?.userId).toBe('alice');
  });

  it('a request body above the limit gets 413 and is not sent', async () => {
    const response = await call(server.url, 'PUT', path('me/player/play'), {
      key: KEY,
      body: 'x'.repeat(1001),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect(response.json.error).toBe('too_large');
    expect(response.headers.get('x-spotauth-source')).toBe('broker');
    expect(seen).toHaveLength(0);
  });

  it('a 401 that persists after the one refresh is passed through', async () => {
    answer = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"status":401,"message":"Invalid access token"}}');
    };
    const refreshed = await refreshes(server);
    const response = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-spotauth-source')).toBe('spotify');
    expect(response.json.error.message).toBe('Invalid access token');
    expect(seen).toHaveLength(2);
    expect(must(seen[0], 'seen[0]').headers['authorization']).not.toBe(
      must(seen[1], 'seen[1]').headers['authorization'],
    );
    expect(await refreshes(server)).toBe(refreshed + 1);
  });

  it('retries a 5xx for idempotent methods only', async () => {
    answer = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    };
    const post = await call(server.url, 'POST', path('me/playlists'), { key: KEY, body: '{}' });
    expect(post.status).toBe(500);
    expect(post.text).toBe('boom');
    expect(seen).toHaveLength(1);
    seen = [];
    const put = await call(server.url, 'PUT', path('me/player/pause'), { key: KEY });
    expect(put.status).toBe(500);
    expect(seen.map((request) => request.method)).toEqual(['PUT', 'PUT', 'PUT']);
  });

  it('a network failure or a timeout becomes 503 spotify_unavailable after the retries', async () => {
    answer = (req) => req.socket.destroy();
    const reset = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(reset.status).toBe(503);
    expect(reset.json).toMatchObject({ error: 'spotify_unavailable', code: 'NETWORK' });
    expect(reset.headers.get('x-spotauth-source')).toBe('broker');
    expect(seen).toHaveLength(3);
    seen = [];
    answer = () => {}; // never answers
    const slow = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(slow.status).toBe(503);
    expect(slow.json).toMatchObject({ error: 'spotify_unavailable', code: 'TIMEOUT' });
    const once = await call(server.url, 'POST', path('me/playlists'), { key: KEY, body: '{}' });
    expect(once.json.code).toBe('TIMEOUT');
    expect(seen.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('a client that goes away stops the upstream request, and nothing is retried for it', async () => {
    let upstreamClosed = false;
    answer = (req) => {
      req.socket.once('close', () => {
        upstreamClosed = true;
      });
    }; // never answers
    const client = new AbortController();
    const pending = fetch(`${server.url}${path('me')}`, {
      headers: { authorization: `Bearer ${KEY}` },
      signal: client.signal,
    });
    await expect.poll(() => seen.length).toBe(1);
    client.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => upstreamClosed).toBe(true);
    // Past the attempt's timeout (400 ms) and the retries' backoff: a GET that timed out would be sent again.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(seen).toHaveLength(1);
    answer = (_req, res) => res.end('{}');
    expect((await call(server.url, 'GET', path('me'), { key: KEY })).status).toBe(200);
  });

  it('a 5xx whose body stalls while it is drained for the retry is still cut off at the timeout', async () => {
    let stalledClosed = false;
    let calls = 0;
    answer = (req, res) => {
      calls++;
      if (calls === 1) {
        req.socket.once('close', () => {
          stalledClosed = true;
        });
        res.writeHead(503, { 'content-type': 'application/json' });
        res.write('{"error":'); // and nothing more
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    const retried = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(retried.status).toBe(200);
    expect(calls).toBe(2);
    await expect.poll(() => stalledClosed).toBe(true);
  });

  it('a response above the limit: 502 when its length or its first bytes say so', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '3000' });
      res.end('x'.repeat(3000));
    };
    const declared = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(declared.status).toBe(502);
    expect(declared.json.error).toBe('upstream_too_large');
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('x'.repeat(1500));
      setTimeout(() => res.end('y'.repeat(1500)), 20);
    };
    // No length, but over the limit before the proxy has answered anything: still a clean 502.
    const undeclared = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(undeclared.status).toBe(502);
    expect(undeclared.json.error).toBe('upstream_too_large');
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('x'.repeat(1000));
      setTimeout(() => res.end('y'.repeat(900)), 20);
    };
    const streamed = await fetch(`${server.url}${path('me')}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    // Within the limit, an answer without a length is read whole and sent in one piece, with its length.
    expect(streamed.headers.get('content-length')).toBe('1900');
    expect((await streamed.text()).length).toBe(1900);
  });
});

describe('proxy: answers longer than what is read whole (streamed)', () => {
  let upstream: Server;
  let server: TestServer;
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const path = (rest: string) => `/api/v1/users/${ALICE}/spotify/${rest}`;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(req, res));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as { port: number };
    server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: KEY },
      broker: {
        proxy: {
          apiUrl: `http://127.0.0.1:${port}/v1`,
          retry: FAST_RETRY,
          maxResponseBytes: 100_000,
          timeoutMs: 500,
        },
      },
    });
    await new Browser().login(server);
  });
  afterAll(async () => {
    await server.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** 70,000 bytes at once, then `tail` more a moment later: past what is read whole, with no length. */
  const longAnswer =
    (tail: number) =>
    (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('a'.repeat(70_000));
      setTimeout(() => res.end('b'.repeat(tail)), 20);
    };

  it("the attempt's timeout covers the body: an answer that stalls mid-body is 503 TIMEOUT, or cut off once streaming", async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"display_name":'); // and nothing more
    };
    const short = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(short.status).toBe(503);
    expect(short.json).toMatchObject({ error: 'spotify_unavailable', code: 'TIMEOUT' });
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('a'.repeat(70_000)); // past what is read whole: the status goes out, then the stall
    };
    const long = await fetch(`${server.url}${path('me')}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(long.status).toBe(200);
    await expect(long.text()).rejects.toThrow();
  });

  it('streams a long answer whole, and cuts one off mid-body when it passes the limit after the status went out', async () => {
    answer = longAnswer(20_000);
    const whole = await fetch(`${server.url}${path('me')}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('x-spotauth-source')).toBe('spotify');
    const text = await whole.text();
    expect(text).toBe('a'.repeat(70_000) + 'b'.repeat(20_000));

    answer = longAnswer(40_000);
    const cut = await fetch(`${server.url}${path('me')}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();
    await expect.poll(() => server.logs.some((line) => line.includes('proxy_response_too_large'))).toBe(true);
    // The broker still answers afterwards (the cut connection was the client's, not the process').
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    const after = await call(server.url, 'GET', path('me'), { key: KEY });
    expect(after.json).toEqual({ ok: true });
  });
});
