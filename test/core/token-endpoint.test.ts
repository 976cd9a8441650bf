/**
 * How core classifies token-endpoint responses (SECURITY §2.2, FACTS §3.1), against a real `node:http`
 * server on 127.0.0.1 that each test scripts: no mock library, real sockets, real fetch.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  isTerminalGrantError,
  SpotauthError,
  SpotifyAuth,
  type SpotifyAuthConfig,
} from '../../src/core/index.js';
import { caught } from '../support/errors.js';
import { must } from '../support/must.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Hit {
  method: string;
  path: string;
  body: string;
}

const SECRET = 'test-secret-do-not-leak-0123456789';
let server: Server;
let base: string;
let handler: Handler;
let hits: Hit[] = [];

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function okTokens(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access_token: 'at-from-test-server-0123456789',
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'user-read-email user-read-private',
    ...extra,
  };
}

function auth(overrides: Partial<SpotifyAuthConfig> = {}): SpotifyAuth {
  return new SpotifyAuth({
    clientId: 'client-id',
    clientSecret: SECRET,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl: base,
    allowInsecureHttp: true,
    ...overrides,
  });
}

function tokenHits(): Hit[] {
  return hits.filter((hit) => hit.path === '/api/token');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits = [];
  handler = (_req, res) => json(res, 200, okTokens());
});

describe('token endpoint: failures', () => {
  it('503 with an HTML body → SPOTIFY_UNAVAILABLE, transient', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><body>Service Unavailable</body></html>');
    };
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(error.status).toBe(503);
    expect(error.spotifyError).toBeUndefined();
    expect(isTerminalGrantError(error)).toBe(false);
    expect(tokenHits()).toHaveLength(1);
  });

  it('400 {"error":"errorTransient"} → SPOTIFY_UNAVAILABLE, transient', async () => {
    handler = (_req, res) => json(res, 400, { error: 'errorTransient' });
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(error.status).toBe(400);
    expect(error.spotifyError).toBe('errorTransient');
  });

  it('200 with a non-JSON body → SPOTIFY_UNAVAILABLE, transient', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    };
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(error.transient).toBe(true);
  });

  it('429 with Retry-After: 7 → RATE_LIMITED, retryAfter 7, transient', async () => {
    handler = (_req, res) => json(res, 429, { error: 'rate_limited' }, { 'retry-after': '7' });
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfter).toBe(7);
    expect(error.transient).toBe(true);
    expect(error.status).toBe(429);
    expect(error.message).toContain('7 s');
    // No retry loop inside core: exactly one request.
    expect(tokenHits()).toHaveLength(1);
  });

  it('429 without Retry-After → RATE_LIMITED with no retryAfter', async () => {
    handler = (_req, res) => json(res, 429, {});
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfter).toBeUndefined();
  });

  it('400 invalid_grant with a description → INVALID_GRANT, terminal, carrying Spotify’s error', async () => {
    handler = (_req, res) =>
      json(res, 400, { error: 'invalid_grant', error_description: 'Refresh token revoked' });
    const error = await caught(auth().refresh('rt-old-0123456789'));
    expect(error.code).toBe('INVALID_GRANT');
    expect(error.transient).toBe(false);
    expect(error.status).toBe(400);
    expect(error.spotifyError).toBe('invalid_grant');
    expect(error.spotifyErrorDescription).toBe('Refresh token revoked');
    expect(error.message).toContain('Refresh token revoked');
    expect(isTerminalGrantError(error)).toBe(true);
  });

  it('400 invalid_grant without a description (FACTS §2 revocation) → INVALID_GRANT', async () => {
    handler = (_req, res) => json(res, 400, { error: 'invalid_grant' });
    const error = await caught(auth().refresh('rt-old-0123456789'));
    expect(error.code).toBe('INVALID_GRANT');
    expect(error.transient).toBe(false);
    expect(error.spotifyError).toBe('invalid_grant');
    expect(error.spotifyErrorDescription).toBeUndefined();
  });

  it('a long error_description is truncated to 200 characters', async () => {
    handler = (_req, res) => json(res, 400, { error: 'invalid_grant', error_description: 'x'.repeat(5000) });
    const error = await caught(auth().refresh('rt-old-0123456789'));
    expect(must(error.spotifyErrorDescription, 'error.spotifyErrorDescription').length).toBeLessThanOrEqual(
      201,
    );
    expect(error.message.length).toBeLessThan(400);
  });

  it('400 invalid_client → INVALID_CLIENT, terminal, message without the secret', async () => {
    handler = (_req, res) =>
      json(res, 400, { error: 'invalid_client', error_description: 'Invalid client secret' });
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('INVALID_CLIENT');
    expect(error.transient).toBe(false);
    expect(error.spotifyError).toBe('invalid_client');
    expect(isTerminalGrantError(error)).toBe(true);
    expect(`${error.message}${JSON.stringify(error)}${String(error.cause)}`).not.toContain(SECRET);
  });

  it('400 unsupported_grant_type → TOKEN_REQUEST_REJECTED, not transient', async () => {
    handler = (_req, res) => json(res, 400, { error: 'unsupported_grant_type' });
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('TOKEN_REQUEST_REJECTED');
    expect(error.transient).toBe(false);
  });

  it('302 → INVALID_TOKEN_RESPONSE, and the redirect is not followed', async () => {
    handler = (req, res) => {
      if (req.url === '/api/token') {
        res.writeHead(302, { location: `${base}/stolen` });
        res.end();
      } else {
        json(res, 200, okTokens());
      }
    };
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(error.status).toBe(302);
    expect(hits.map((hit) => hit.path)).toEqual(['/api/token']);
  });

  it.each([
    ['token_type "mac"', okTokens({ token_type: 'mac' })],
    ['expires_in "abc"', okTokens({ expires_in: 'abc' })],
    ['no access_token', { token_type: 'Bearer', expires_in: 3600 }],
    ['access_token not a string', okTokens({ access_token: 42 })],
    ['no token_type', { access_token: 'at-0123456789', expires_in: 3600 }],
    ['scope not a string', okTokens({ scope: ['user-read-email'] })],
    ['a JSON array', [okTokens()]],
  ])('%s → INVALID_TOKEN_RESPONSE', async (_name, body) => {
    handler = (_req, res) => json(res, 200, body);
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(error.transient).toBe(false);
    expect(error.cause).toBeUndefined();
  });

  it('a 5 MB body (with Content-Length) → INVALID_TOKEN_RESPONSE', async () => {
    const big = JSON.stringify(okTokens({ padding: 'x'.repeat(5 * 1024 * 1024) }));
    handler = (_req, res) => json(res, 200, big);
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(error.message).toMatch(/larger than 64 KiB/);
  });

  it('a declared 5 MB Content-Length is refused without reading (no wait for the body)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) });
      res.write('{"access_token":"at-0123456789",'); // …and the rest never comes
    };
    // Reading the body would stall until the timeout; the declared size alone must be enough.
    const error = await caught(auth({ timeoutMs: 5000 }).clientCredentials());
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(error.message).toMatch(/larger than 64 KiB/);
  });

  it('a 5 MB chunked body (no Content-Length) → INVALID_TOKEN_RESPONSE', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"at-0123456789","token_type":"Bearer","padding":"');
      const chunk = 'x'.repeat(64 * 1024);
      const writeMore = (left: number): void => {
        if (left === 0 || res.destroyed) {
          res.end('"}');
          return;
        }
        if (res.write(chunk)) writeMore(left - 1);
        else res.once('drain', () => writeMore(left - 1));
      };
      writeMore(80);
      res.on('error', () => {});
    };
    const error = await caught(auth().clientCredentials());
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(error.message).toMatch(/larger than 64 KiB/);
  });

  it('no answer within timeoutMs: 300 → TIMEOUT, transient', async () => {
    handler = () => {}; // never answers
    const started = Date.now();
    const error = await caught(auth({ timeoutMs: 300 }).clientCredentials());
    expect(error.code).toBe('TIMEOUT');
    expect(error.transient).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('headers then a stalled body past timeoutMs → TIMEOUT (the timeout covers the body)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"at-0123456789",');
    };
    const error = await caught(auth({ timeoutMs: 300 }).clientCredentials());
    expect(error.code).toBe('TIMEOUT');
    expect(error.transient).toBe(true);
  });

  it('connection refused → NETWORK, transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await caught(auth({ accountsUrl: `http://127.0.0.1:${port}` }).clientCredentials());
    expect(error.code).toBe('NETWORK');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(String(error.cause)).toBe('ECONNREFUSED');
  });
});

describe('token endpoint: successful responses', () => {
  it('parses a Spotify response: Bearer, expiry computed at receipt, granted scope', async () => {
    const now = 1_800_000_000_000;
    const tokens = await auth({ now: () => now }).clientCredentials();
    expect(tokens).toEqual({
      accessToken: 'at-from-test-server-0123456789',
      tokenType: 'Bearer',
      expiresIn: 3600,
      expiresAt: now + 3_600_000,
      receivedAt: now,
      scope: ['user-read-email', 'user-read-private'],
      refreshTokenIssued: false,
    });
    const [hit] = tokenHits();
    expect(must(hit, 'hit').method).toBe('POST');
    expect(new URLSearchParams(must(hit, 'hit').body).get('grant_type')).toBe('client_credentials');
  });

  it('accepts token_type "bearer" in lowercase (FACTS §1.3)', async () => {
    handler = (_req, res) => json(res, 200, okTokens({ token_type: 'bearer' }));
    const tokens = await auth().clientCredentials();
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.accessToken).toBe('at-from-test-server-0123456789');
  });

  it('assumes 3600 s when expires_in is missing', async () => {
    handler = (_req, res) => json(res, 200, okTokens({ expires_in: undefined }));
    const now = 1_700_000_000_000;
    const tokens = await auth({ now: () => now }).clientCredentials();
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.expiresAt).toBe(now + 3_600_000);
  });

  it('uses the server’s expires_in when present', async () => {
    handler = (_req, res) => json(res, 200, okTokens({ expires_in: 120 }));
    const now = 1_700_000_000_000;
    const tokens = await auth({ now: () => now }).clientCredentials();
    expect(tokens.expiresIn).toBe(120);
    expect(tokens.expiresAt).toBe(now + 120_000);
  });

  it('falls back to the previous scope when the response has none', async () => {
    handler = (_req, res) => json(res, 200, okTokens({ scope: undefined, refresh_token: undefined }));
    const tokens = await auth().refresh('rt-old-0123456789', { previousScope: ['user-top-read'] });
    expect(tokens.scope).toEqual(['user-top-read']);
  });

  it('a refresh response without refresh_token keeps the old one', async () => {
    handler = (_req, res) => json(res, 200, okTokens());
    const tokens = await auth().refresh('rt-old-0123456789');
    expect(tokens.refreshToken).toBe('rt-old-0123456789');
    expect(tokens.refreshTokenIssued).toBe(false);
    const body = new URLSearchParams(must(tokenHits()[0], 'tokenHits()[0]').body);
    expect(body.get('grant_type')).toBe('refresh_token');
    expect(body.get('refresh_token')).toBe('rt-old-0123456789');
  });

  it('a refresh response with refresh_token replaces the old one', async () => {
    handler = (_req, res) => json(res, 200, okTokens({ refresh_token: 'rt-new-9876543210' }));
    const tokens = await auth().refresh('rt-old-0123456789');
    expect(tokens.refreshToken).toBe('rt-new-9876543210');
    expect(tokens.refreshTokenIssued).toBe(true);
  });
});

describe('token endpoint: error hygiene', () => {
  const CANARY = 'tok_CANARY_6f1d2c9b8a7e';
  const REFRESH_CANARY = 'rt_CANARY_0a9b8c7d6e5f';

  it.each([
    ['token_type "mac"', { access_token: CANARY, token_type: 'mac', refresh_token: REFRESH_CANARY }],
    ['expires_in "abc"', { access_token: CANARY, token_type: 'Bearer', expires_in: 'abc' }],
    [
      'scope not a string',
      { access_token: CANARY, token_type: 'Bearer', scope: 7, refresh_token: REFRESH_CANARY },
    ],
    [
      'refresh_token not a string',
      { access_token: CANARY, token_type: 'Bearer', refresh_token: [REFRESH_CANARY] },
    ],
  ])('a malformed-but-200 response (%s) never leaks its tokens', async (_name, body) => {
    handler = (_req, res) => json(res, 200, body);
    const error = await caught(auth().refresh('rt-used-for-request-0123'));
    expect(error.code).toBe('INVALID_TOKEN_RESPONSE');
    const surfaces = [
      error.message,
      JSON.stringify(error),
      String(error.cause),
      String(error),
      error.stack ?? '',
    ];
    for (const surface of surfaces) {
      expect(surface).not.toContain(CANARY);
      expect(surface).not.toContain(REFRESH_CANARY);
      expect(surface).not.toContain('rt-used-for-request-0123');
      expect(surface).not.toContain(SECRET);
    }
  });

  it('the request itself carries the secret only in the Basic header', async () => {
    await auth().clientCredentials();
    const [hit] = tokenHits();
    expect(must(hit, 'hit').body).not.toContain(SECRET);
    expect(must(hit, 'hit').body).not.toContain(encodeURIComponent(SECRET));
  });
});

describe('configuration', () => {
  it('an http accountsUrl without allowInsecureHttp → INSECURE_URL at construction', () => {
    let error: unknown;
    try {
      new SpotifyAuth({ clientId: 'client-id', clientSecret: SECRET, accountsUrl: base });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).code).toBe('INSECURE_URL');
    expect((error as SpotauthError).message).toContain('allowInsecureHttp');
    expect(hits).toHaveLength(0);
  });

  it('allowInsecureHttp unlocks loopback only', () => {
    expect(() => auth({ accountsUrl: 'http://accounts.example.com' })).toThrow(
      expect.objectContaining({ code: 'INSECURE_URL' }),
    );
    expect(() => auth({ accountsUrl: 'http://[::1]:4000' })).not.toThrow();
  });

  it('an insecure apiUrl is refused too', () => {
    expect(() => new SpotifyAuth({ clientId: 'client-id', apiUrl: 'http://127.0.0.1:4000/v1' })).toThrow(
      expect.objectContaining({ code: 'INSECURE_URL' }),
    );
  });

  it('refuses a non-positive timeout', () => {
    expect(() => auth({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
