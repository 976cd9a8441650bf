import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { rawRequest, start } from './helpers.js';

/**
 * DNS rebinding (issue 10, item 7): a page on evil.test re-pointed at 127.0.0.1 sends `Host: evil.test:PORT`
 * and a matching Origin. Only loopback names reach the control API, and, on a loopback-bound emulator,
 * every other route too.
 */

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.stop());

const evil = () => `evil.test:${emulator.port}`;

describe('Host check on a loopback-bound emulator', () => {
  it('rebinding: Host evil.test:PORT with a matching Origin cannot read apps, set auto-approve or register apps', async () => {
    const headers = { host: evil(), origin: `http://${evil()}` };
    const apps = await rawRequest(emulator, '/_emulator/apps', { headers });
    expect(apps.status).toBe(403);
    expect(apps.text).not.toContain('spotauth-sandbox-secret');
    expect(JSON.parse(apps.text)).toEqual({
      error: {
        status: 403,
        message:
          'The emulator only answers requests addressed to 127.0.0.1, [::1] or localhost on its own port',
      },
    });
    const json = { ...headers, 'content-type': 'application/json' };
    const approve = await rawRequest(emulator, '/_emulator/config', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ auto_approve: 'alice' }),
    });
    expect(approve.status).toBe(403);
    expect(emulator.state.config.autoApprove).toBeNull();
    const register = await rawRequest(emulator, '/_emulator/apps', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ client_id: 'evil', redirect_uris: ['https://evil.test/cb'] }),
    });
    expect(register.status).toBe(403);
    expect(emulator.state.apps.has('evil')).toBe(false);
  });

  it('the same without Origin (a same-origin GET sends none) and on the other routes', async () => {
    for (const path of ['/_emulator/apps', '/v1/me', '/authorize', '/', '/images/alice.svg']) {
      expect((await rawRequest(emulator, path, { headers: { host: evil() } })).status, path).toBe(403);
    }
    const token = await rawRequest(emulator, '/api/token', {
      method: 'POST',
      headers: { host: evil(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(403);
  });

  it('loopback names on the right port pass; other ports, other names, IPs and no Host do not', async () => {
    const port = emulator.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await rawRequest(emulator, '/_emulator/health', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [
      `127.0.0.1:${port + 1}`,
      '127.0.0.1',
      `localhost.evil.test:${port}`,
      `127.0.0.1.evil.test:${port}`,
      `10.0.0.1:${port}`,
      `[::2]:${port}`,
      `evil.test`,
    ]) {
      expect((await rawRequest(emulator, '/_emulator/health', { headers: { host } })).status, host).toBe(403);
    }
    // HTTP/1.1 without Host: node:http refuses it before any route (400).
    expect((await rawRequest(emulator, '/_emulator/health', { noHost: true })).status).toBe(400);
  });

  it('[::1]:PORT passes on an emulator bound to ::1', async () => {
    let v6: RunningEmulator;
    try {
      v6 = await start({ host: '::1' });
    } catch {
      console.warn('*** no IPv6 loopback here: [::1] Host check not exercised ***');
      return;
    }
    try {
      expect(
        (await rawRequest(v6, '/_emulator/health', { headers: { host: `[::1]:${v6.port}` } })).status,
      ).toBe(200);
      expect((await rawRequest(v6, '/v1/me', { headers: { host: `evil.test:${v6.port}` } })).status).toBe(
        403,
      );
    } finally {
      await v6.stop();
    }
  });
});

describe('Host check on an emulator bound to a non-loopback address', () => {
  it('--host 0.0.0.0: accounts and Web API answer any name; the control API still only loopback names', async () => {
    const open = await start({ host: '0.0.0.0' });
    try {
      const host = `emulator.internal:${open.port}`;
      expect((await rawRequest(open, '/v1/me', { headers: { host } })).status).toBe(401);
      expect((await rawRequest(open, '/', { headers: { host } })).status).toBe(200);
      expect((await rawRequest(open, '/_emulator/apps', { headers: { host } })).status).toBe(403);
      expect(
        (await rawRequest(open, '/_emulator/health', { headers: { host: `127.0.0.1:${open.port}` } })).status,
      ).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
