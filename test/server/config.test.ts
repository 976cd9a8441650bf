import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpotauthError } from '../../src/core/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/main.js';
import { freePort } from '../support/server.js';

function configError(env: Record<string, string>): SpotauthError {
  try {
    loadServerConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SpotauthError);
    return error as SpotauthError;
  }
  throw new Error('expected a configuration error');
}

describe('server configuration is validated at start, with messages a person understands', () => {
  const real = {
    SPOTIFY_CLIENT_ID: 'abc123',
    SPOTIFY_CLIENT_SECRET: 'shh',
    SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:8888/callback',
  };

  it('no client id → sandbox mode with a derived redirect URI', () => {
    const config = loadServerConfig({});
    expect(config.sandbox).toBe(true);
    expect(config.redirectUri).toBe('http://127.0.0.1:8888/callback');
    expect(config.storeUrl).toBe('.data/spotauth.sqlite');
  });

  it('a localhost redirect URI is refused with Spotify’s rule and the fix', () => {
    const error = configError({ ...real, SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback' });
    expect(error.message).toContain('SPOTIFY_REDIRECT_URI');
    expect(error.message).toContain('http://127.0.0.1:8888/callback');
  });

  it('a localhost public URL is refused too', () => {
    expect(configError({ SPOTAUTH_PUBLIC_URL: 'http://localhost:8888' }).message).toContain('127.0.0.1');
  });

  it('a missing secret or redirect URI outside the sandbox is named', () => {
    expect(configError({ SPOTIFY_CLIENT_ID: 'abc' }).message).toContain('SPOTIFY_REDIRECT_URI is required');
    expect(configError({ ...real, SPOTIFY_CLIENT_SECRET: '' }).message).toContain(
      'SPOTIFY_CLIENT_SECRET is required',
    );
  });

  it('a port is a number: PORT is parsed where it is read, the option is taken as a number', () => {
    expect(loadServerConfig({ PORT: '9001' }).port).toBe(9001);
    expect(loadServerConfig({ PORT: '' }).port).toBe(8888);
    expect(loadServerConfig({ PORT: '9001' }, { port: 0 }).port).toBe(0);
    expect(loadServerConfig({}, { port: 9002 }).publicUrl.origin).toBe('http://127.0.0.1:9002');
    for (const port of [-1, 65536, 80.5, Number.NaN]) {
      expect(() => loadServerConfig({}, { port })).toThrow(
        `port must be a whole number from 0 to 65535 (got ${port}).`,
      );
    }
    expect(configError({ PORT: '80 80' }).message).toBe('PORT must be a port number (got "80 80").');
  });

  it('a redirect URI on another origin, bad port, bad scope, short broker key, bad log level', () => {
    expect(
      configError({ ...real, SPOTIFY_REDIRECT_URI: 'https://other.example/callback' }).message,
    ).toContain('SPOTAUTH_PUBLIC_URL');
    expect(configError({ PORT: 'eighty' }).message).toContain('PORT');
    expect(configError({ SPOTAUTH_SCOPE: 'user-read-birthdate' }).message).toContain('user-read-birthdate');
    expect(configError({ SPOTAUTH_BROKER_KEYS: 'short' }).message).toContain('at least 32');
    expect(configError({ LOG_LEVEL: 'loud' }).message).toContain('LOG_LEVEL');
  });

  it('a persistent store without an encryption key refuses to start outside the sandbox', async () => {
    const port = await freePort();
    const error = await startServer({
      ...real,
      SPOTIFY_REDIRECT_URI: `http://127.0.0.1:${port}/callback`,
      PORT: String(port),
      SPOTAUTH_STORE: join(tmpdir(), 'x.sqlite'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).message).toContain('SPOTAUTH_ENCRYPTION_KEYS is required');
  });

  it('sandbox start generates a 0600 key and serves; a second start reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotauth-sandbox-'));
    try {
      const env = {
        PORT: String(await freePort()),
        SPOTAUTH_DATA_DIR: dir,
        SPOTAUTH_EMULATOR_PORT: '0',
        LOG_LEVEL: 'silent',
      };
      const first = await startServer(env);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      await first.close();
      expect(statSync(join(dir, 'sandbox.key')).mode & 0o777).toBe(0o600);
      const keyBefore = statSync(join(dir, 'sandbox.key')).mtimeMs;
      const second = await startServer(env);
      await second.close();
      expect(statSync(join(dir, 'sandbox.key')).mtimeMs).toBe(keyBefore);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
