/**
 * SessionManager on a real store (SQLite): what the multi-instance tests cannot pin down exactly — how
 * many store reads a busy session costs, and what happens to sessions under a key since retired.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spotauthFetch } from '../../src/adapters/fetch.js';
import { SessionManager } from '../../src/auth/sessions.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import type { EntryStore } from '../../src/stores/types.js';
import { keyringOf } from '../stores/helpers.js';
import { emulatorAuth, startTestEmulator } from '../support/emulator.js';
import { must } from '../support/must.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spotauth-sessions-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The store's entries, counting reads. */
function counted(entries: EntryStore): EntryStore & { reads: number } {
  const wrapper = Object.create(entries) as EntryStore & { reads: number };
  wrapper.reads = 0;
  wrapper.get = (namespace, id) => {
    wrapper.reads++;
    return entries.get(namespace, id);
  };
  return wrapper;
}

describe('SessionManager', () => {
  it('requests in flight when the cached session expires share one store read', async () => {
    const store = await SqliteStore.open(join(dir, 's.db'), { keyring: keyringOf('k1') });
    try {
      const entries = counted(store.entries);
      let now = Date.now();
      const sessions = new SessionManager({ entries, cacheMs: 500, now: () => now });
      const { cookie } = await sessions.create('user:ada');
      now += 501; // the copy cached by create() has expired
      const seen = await Promise.all(Array.from({ length: 32 }, () => sessions.get(cookie)));
      expect(seen.every((session) => session?.userKey === 'user:ada')).toBe(true);
      expect(entries.reads).toBe(1);
      // And the next expiry reads once more.
      now += 501;
      await Promise.all(Array.from({ length: 8 }, () => sessions.get(cookie)));
      expect(entries.reads).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('a session or login under a key no longer in the keyring is none (log in again), not an error', async () => {
    const path = join(dir, 'rotated.db');
    const before = await SqliteStore.open(path, { keyring: keyringOf('old') });
    const old = new SessionManager({ entries: before.entries });
    const { cookie } = await old.create('user:ada');
    const login = await old.startLogin({
      state: 's',
      codeVerifier: 'v',
      redirectUri: 'http://127.0.0.1:8890/callback',
      scope: [],
      returnTo: '/',
    });
    await before.close();

    // This instance knows only the new key (the old one retired, or not yet given to it).
    const after = await SqliteStore.open(path, { keyring: keyringOf('new') });
    try {
      const sessions = new SessionManager({ entries: after.entries, cacheMs: 0 });
      expect(await sessions.get(cookie)).toBeNull();
      expect(await sessions.takeLogin(login)).toBeNull();
    } finally {
      await after.close();
    }
    // The session is left for an instance that has the key.
    const both = await SqliteStore.open(path, { keyring: keyringOf('old', 'new') });
    try {
      const sessions = new SessionManager({ entries: both.entries, cacheMs: 0 });
      expect((await sessions.get(cookie))?.userKey).toBe('user:ada');
    } finally {
      await both.close();
    }
  });

  it('through the handler: such a cookie is "not logged in" (401), never a 500', async () => {
    const path = join(dir, 'handler.db');
    const before = await SqliteStore.open(path, { keyring: keyringOf('old') });
    const { cookie } = await new SessionManager({ entries: before.entries }).create('user:ada');
    await before.close();
    const emulator = await startTestEmulator();
    const after = await SqliteStore.open(path, { keyring: keyringOf('new') });
    const app = spotauthFetch({
      auth: emulatorAuth(emulator, { redirectUri: 'http://127.0.0.1:8890/auth/spotify/callback' }),
      store: after,
      logger: { info() {}, warn() {}, error() {} },
    });
    try {
      for (const path of ['/auth/spotify/session', '/auth/spotify/token']) {
        const response = await app.handle(
          new Request(`http://127.0.0.1:8890${path}`, { headers: { cookie: `spotauth_session=${cookie}` } }),
        );
        expect(response?.status, path).toBe(401);
        expect(((await must(response, 'response').json()) as { error: string }).error).toBe('not_logged_in');
      }
    } finally {
      app.handler.close();
      await after.close();
      await emulator.stop();
    }
  });
});
