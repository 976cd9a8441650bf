import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { basic, CLIENT_ID, CLIENT_SECRET, control, start } from './helpers.js';

/** The CORS headers on the wire (WEB-API-2026.md §4); test/e2e/emulator-cors.test.ts checks them in Chromium. */

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.stop());

const SPOTIFY_API_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS, PUT, DELETE, PATCH',
  'access-control-allow-credentials': 'true',
  'access-control-max-age': '604800',
  'access-control-allow-headers':
    'Accept, App-Platform, Authorization, Content-Type, Origin, Retry-After, Spotify-App-Version, X-Cloud-Trace-Context, client-token, content-access-token',
};

function headersOf(response: Response): Record<string, string> {
  return Object.fromEntries(response.headers.entries());
}

describe('api.spotify.com CORS on /v1', () => {
  it('preflight: 200, empty body, Spotify’s allow lists, envoy headers; on any /v1 path', async () => {
    for (const path of ['/v1/me', '/v1/me/player/play', '/v1/does/not/exist']) {
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:5173',
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(response.status, path).toBe(200);
      expect(await response.text()).toBe('');
      expect(headersOf(response)).toMatchObject({
        ...SPOTIFY_API_CORS,
        'content-length': '0',
        server: 'envoy',
        via: 'HTTP/2 edgeproxy, 1.1 google',
      });
      expect(response.headers.get('access-control-expose-headers')).toBeNull();
    }
  });

  it('every /v1 response carries them, errors included; no Expose-Headers by default', async () => {
    for (const path of ['/v1/me', '/v1/nothing']) {
      const response = await fetch(`${emulator.url}${path}`, {
        headers: { origin: 'http://127.0.0.1:5173' },
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(headersOf(response)).toMatchObject(SPOTIFY_API_CORS);
      expect(response.headers.get('access-control-expose-headers')).toBeNull();
    }
    const token = emulator.state.issueAccessToken(CLIENT_ID, 'alice', [], null);
    const ok = await fetch(`${emulator.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(headersOf(ok)).toMatchObject(SPOTIFY_API_CORS);
  });

  it('cors_expose_headers switches Expose-Headers on (the unconfirmed alternative)', async () => {
    expect((await control(emulator, 'config', { cors_expose_headers: ['Retry-After'] })).status).toBe(200);
    try {
      const response = await fetch(`${emulator.url}/v1/me`);
      expect(response.headers.get('access-control-expose-headers')).toBe('Retry-After');
    } finally {
      await control(emulator, 'config', { cors_expose_headers: [] });
    }
    expect((await control(emulator, 'config', { cors_expose_headers: ['bad header'] })).status).toBe(400);
    expect((await control(emulator, 'config', { cors_expose_headers: 'Retry-After' })).status).toBe(400);
  });
});

describe('accounts.spotify.com CORS on /api/token', () => {
  const form = 'grant_type=client_credentials';

  it('the simple form POST gets Access-Control-Allow-Origin: * (success and error alike)', async () => {
    const ok = await fetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: {
        origin: 'http://127.0.0.1:5173',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(CLIENT_ID, CLIENT_SECRET),
      },
      body: form,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const bad = await fetch(`${emulator.url}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('preflights (authorization, cache-control, or anything) get 204 with no Allow-Origin', async () => {
    for (const requested of ['authorization', 'cache-control', 'content-type']) {
      const response = await fetch(`${emulator.url}/api/token`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:5173',
          'access-control-request-method': 'POST',
          'access-control-request-headers': requested,
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-headers')).toBeNull();
    }
  });

  it('token_cors_origin "echo": the Origin echoed with credentials and Vary', async () => {
    await control(emulator, 'config', { token_cors_origin: 'echo' });
    try {
      const response = await fetch(`${emulator.url}/api/token`, {
        method: 'POST',
        headers: { origin: 'http://127.0.0.1:5173', 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      expect(response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('vary')).toBe('Origin');
    } finally {
      await control(emulator, 'config', { token_cors_origin: '*' });
    }
    expect((await control(emulator, 'config', { token_cors_origin: 'any' })).status).toBe(400);
  });

  it('/authorize and the control API are not CORS-enabled', async () => {
    for (const path of ['/authorize', '/_emulator/health', '/']) {
      const response = await fetch(`${emulator.url}${path}`);
      expect(response.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });
});
