import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SpotifyAuth } from '../../src/core/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/index.js';
import type { TokenStore } from '../../src/stores/types.js';
import { TokenManager, type TokenManagerEvents } from '../../src/tokens/index.js';
import { control, emulatorAuth, login, startTestEmulator, tokenRequests } from '../support/emulator.js';
import { caught } from '../support/errors.js';
import { must } from '../support/must.js';

describe('TokenManager against the emulator', () => {
  let emulator: RunningEmulator;
  let auth: SpotifyAuth;
  let store: TokenStore;
  let manager: TokenManager;
  let events: { name: keyof TokenManagerEvents; key: string; reason?: string }[];

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    auth = emulatorAuth(emulator);
  });
  afterAll(() => emulator.stop());

  beforeEach(async () => {
    await control(emulator, 'config', { refresh_mode: 'keep' });
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    store = new MemoryStore();
    manager = new TokenManager({ auth, store, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    events = [];
    manager.on('refreshed', ({ key }) => events.push({ name: 'refreshed', key }));
    manager.on('reauth_required', ({ key, reason }) => events.push({ name: 'reauth_required', key, reason }));
    manager.on('refresh_failed', ({ key }) => events.push({ name: 'refresh_failed', key }));
  });

  async function loggedIn(userId = 'alice') {
    const { tokens } = await login(auth, ['user-read-email', 'user-top-read']);
    const record = await manager.saveGrant(tokens, { id: userId, account_id: `acct-${userId}` });
    return { tokens, record };
  }

  async function expireStoredToken(key: string) {
    const record = must(await store.get(key), 'store.get(key)');
    const { version: _v, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1000 }, record.version);
    await control(emulator, 'expire', {});
  }

  it('keys grants by account_id, stores scopes, authorized_at and the 6-month deadline', async () => {
    const { record } = await loggedIn();
    expect(record.key).toBe('user:acct-alice');
    expect(record.scope.sort()).toEqual(['user-read-email', 'user-top-read']);
    expect(record.status).toBe('active');
    expect(must(record.refreshTokenDeadline, 'record.refreshTokenDeadline') - record.authorizedAt).toBe(
      182 * 24 * 3600 * 1000,
    );
    expect(await manager.listExpiringGrants(183 * 24 * 3600 * 1000)).toHaveLength(1);
    expect(await manager.listExpiringGrants(24 * 3600 * 1000)).toHaveLength(0);
  });

  it('serves the cached token while valid, with no token request', async () => {
    const { tokens } = await loggedIn();
    const before = await tokenRequests(emulator);
    expect(await manager.getAccessToken('acct-alice')).toBe(tokens.accessToken);
    expect(await tokenRequests(emulator)).toEqual(before);
  });

  it('refreshes ahead of expiry (inside the skew window), keeping the refresh token in keep mode', async () => {
    const { tokens } = await loggedIn();
    const record = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    const { version: _v, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() + 30_000 }, record.version);
    const token = await manager.getAccessToken('acct-alice');
    expect(token).not.toBe(tokens.accessToken);
    const stored = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    expect(stored.refreshToken).toBe(tokens.refreshToken);
    expect(stored.accessToken).toBe(token);
    expect(events.map((e) => e.name)).toEqual(['refreshed']);
  });

  it('250 concurrent callers with an expired token → exactly one refresh, one token for all', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    await loggedIn();
    await expireStoredToken('user:acct-alice');
    const before = await tokenRequests(emulator);
    const tokens = await Promise.all(Array.from({ length: 250 }, () => manager.getAccessToken('acct-alice')));
    const after = await tokenRequests(emulator);
    expect(after.refresh_token - before.refresh_token).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(emulator.state.lookupAccessToken(must(tokens[0], 'tokens[0]'))?.userId).toBe('alice');
  });

  it('rotate mode: the new refresh token is persisted before the access token is handed out', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const { tokens } = await loggedIn();
    let storedAtHandout: string | undefined;
    manager.on('refreshed', ({ record }) => {
      storedAtHandout = record.refreshToken;
    });
    await manager.refreshNow('acct-alice');
    const stored = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    expect(stored.refreshToken).not.toBe(tokens.refreshToken);
    expect(storedAtHandout).toBe(stored.refreshToken);
    // The rotated token works; the old one is dead at Spotify.
    await manager.refreshNow('acct-alice');
    expect((await caught(auth.refresh(must(tokens.refreshToken, 'a refresh token')))).code).toBe(
      'INVALID_GRANT',
    );
  });

  it('after a 401: refreshRejected refreshes once, and a second call rejected with the same token reuses the new one', async () => {
    const { tokens } = await loggedIn();
    const before = await tokenRequests(emulator);
    // Two Web API calls met 401 with the same token; their answers came one after the other.
    const first = await manager.refreshRejected('acct-alice', tokens.accessToken);
    const second = await manager.refreshRejected('acct-alice', tokens.accessToken);
    expect(first.accessToken).not.toBe(tokens.accessToken);
    expect(second.accessToken).toBe(first.accessToken);
    expect((await tokenRequests(emulator)).refresh_token - before.refresh_token).toBe(1);
    // The new token rejected in turn (Spotify ended it early): that one is refreshed.
    const third = await manager.refreshRejected('acct-alice', first.accessToken);
    expect(third.accessToken).not.toBe(first.accessToken);
    expect((await tokenRequests(emulator)).refresh_token - before.refresh_token).toBe(2);
  });

  it('a revoked grant → reauth_required (revoked), never retried', async () => {
    await loggedIn();
    await control(emulator, 'revoke', { user_id: 'alice' });
    await expireStoredToken('user:acct-alice');
    const before = await tokenRequests(emulator);
    const error = await caught(manager.getAccessToken('acct-alice'));
    expect(error.code).toBe('REAUTH_REQUIRED');
    const stored = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    expect(stored.status).toBe('reauth_required');
    expect(stored.reauthReason).toBe('revoked');
    expect(stored.reauthAt).toBeGreaterThan(0);
    expect(events).toContainEqual({ name: 'reauth_required', key: 'user:acct-alice', reason: 'revoked' });
    expect((await caught(manager.getAccessToken('acct-alice'))).code).toBe('REAUTH_REQUIRED');
    const after = await tokenRequests(emulator);
    expect(after.refresh_token - before.refresh_token).toBe(1);
  });

  it('past the 6-month deadline → reauth_required (expired)', async () => {
    const clockManager = new TokenManager({ auth, store, now: () => Date.now() + 183 * 24 * 3600 * 1000 });
    await loggedIn();
    await control(emulator, 'clock', { advance_seconds: 183 * 24 * 3600 });
    expect((await caught(clockManager.getAccessToken('acct-alice'))).code).toBe('REAUTH_REQUIRED');
    expect(must(await store.get('user:acct-alice'), "store.get('user:acct-alice')").reauthReason).toBe(
      'expired',
    );
  });

  it('invalid_grant after another process rotated: re-reads and uses the newer token', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    const { tokens } = await loggedIn();
    await expireStoredToken('user:acct-alice');
    // Another process refreshes and stores the rotated token after we read the record but before our call.
    const other = new TokenManager({ auth, store });
    const stale = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    await other.refreshNow('acct-alice');
    const racing = new TokenManager({ auth, store: staleOnce(store, stale) });
    const before = await tokenRequests(emulator);
    const token = await racing.getAccessToken('acct-alice');
    expect(token).toBe(must(await store.get('user:acct-alice'), "store.get('user:acct-alice')").accessToken);
    expect(must(await store.get('user:acct-alice'), "store.get('user:acct-alice')").status).toBe('active');
    expect(token).not.toBe(tokens.accessToken);
    // It did try the stale refresh token once (and met invalid_grant), and did not mark the grant.
    expect((await tokenRequests(emulator)).refresh_token - before.refresh_token).toBe(1);
  });

  it('transient failures: retried with backoff, then success; nothing discarded', async () => {
    await loggedIn();
    await expireStoredToken('user:acct-alice');
    await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 2 });
    const before = await tokenRequests(emulator);
    const token = await manager.getAccessToken('acct-alice');
    expect(token).toBeTruthy();
    expect((await tokenRequests(emulator)).refresh_token - before.refresh_token).toBe(3);
  });

  it('transient failures with a still-valid token: the current token keeps being served', async () => {
    const { tokens } = await loggedIn();
    const record = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    const { version: _v, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() + 20_000 }, record.version);
    await control(emulator, 'faults', { endpoint: 'token', kind: 'error_transient', count: 10 });
    expect(await manager.getAccessToken('acct-alice')).toBe(tokens.accessToken);
    expect(must(await store.get('user:acct-alice'), "store.get('user:acct-alice')").status).toBe('active');
    expect(events.map((e) => e.name)).toContain('refresh_failed');
  });

  it('transient failures with an expired token: a transient error, the grant untouched', async () => {
    const { record } = await loggedIn();
    await expireStoredToken('user:acct-alice');
    await control(emulator, 'faults', { endpoint: 'token', kind: 'rate_limit', count: 10, retry_after: 60 });
    const error = await caught(manager.getAccessToken('acct-alice'));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.transient).toBe(true);
    const stored = must(await store.get('user:acct-alice'), "store.get('user:acct-alice')");
    expect(stored.status).toBe('active');
    expect(stored.refreshToken).toBe(record.refreshToken);
  });

  it('unknown users get NOT_LOGGED_IN; users never share tokens', async () => {
    expect((await caught(manager.getAccessToken('nobody'))).code).toBe('NOT_LOGGED_IN');
    await loggedIn('alice');
    await control(emulator, 'config', { auto_approve: 'bob' });
    try {
      await loggedIn('bob');
    } finally {
      await control(emulator, 'config', { auto_approve: 'alice' });
    }
    const alice = await manager.getAccessToken('acct-alice');
    const bob = await manager.getAccessToken('acct-bob');
    expect(alice).not.toBe(bob);
    expect(emulator.state.lookupAccessToken(bob)?.userId).toBe('bob');
  });

  it('app token: cached and single-flight', async () => {
    const before = await tokenRequests(emulator);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => manager.getAppToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(await manager.getAppToken()).toBe(tokens[0]);
    expect((await tokenRequests(emulator)).client_credentials - before.client_credentials).toBe(1);
  });

  it('serves a valid token from memory for cacheTtlMs, then notices another process’s logout', async () => {
    let now = Date.now();
    const cached = new TokenManager({ auth, store, now: () => now, cacheTtlMs: 5_000 });
    const { tokens } = await loggedIn();
    expect(await cached.getAccessToken('acct-alice')).toBe(tokens.accessToken);
    await new TokenManager({ auth, store }).deleteGrant('acct-alice');
    expect(await cached.getAccessToken('acct-alice')).toBe(tokens.accessToken);
    now += 5_001;
    expect((await caught(cached.getAccessToken('acct-alice'))).code).toBe('NOT_LOGGED_IN');
  });

  it('deleteGrant forgets the user', async () => {
    await loggedIn();
    await manager.deleteGrant('acct-alice');
    expect(await store.get('user:acct-alice')).toBeNull();
    expect((await caught(manager.getAccessToken('acct-alice'))).code).toBe('NOT_LOGGED_IN');
  });
});

/**
 * A store whose first two reads of `stale.key` (the check and the re-check under the lock) return a stale
 * copy, as if another process rotated the refresh token right after: the refresh then meets invalid_grant.
 */
function staleOnce(store: TokenStore, stale: Awaited<ReturnType<TokenStore['get']>>): TokenStore {
  let staleReads = 2;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'get') {
        return async (key: string) => {
          if (staleReads > 0 && stale && key === stale.key) {
            staleReads--;
            return stale;
          }
          return target.get(key);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
