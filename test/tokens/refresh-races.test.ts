/**
 * Issue 11: every interleaving of a refresh that outlives its lease, reproduced in one process with two
 * TokenManagers ("processes" A and B) sharing a MemoryStore whose lease clock the test moves. The emulator
 * holds A's request (latency: before Spotify sees it; response_latency: after it rotated the token) until
 * the test lets it go, so each race runs in the same order every time. Each test asserts the stored refresh
 * token afterwards and the number of refresh requests the emulator saw.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotauthError } from '../../src/core/errors.js';
import type { SpotifyAuth } from '../../src/core/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/index.js';
import type { TokenRecord, TokenStore } from '../../src/stores/types.js';
import { DEFAULT_LOCK_LEASE_MS, TokenManager, type TokenManagerOptions } from '../../src/tokens/index.js';
import { fence } from '../../src/tokens/token-manager.js';
import { control, emulatorAuth, login, startTestEmulator } from '../support/emulator.js';
import { caught } from '../support/errors.js';
import { must } from '../support/must.js';

const USER = 'acct-alice';
const KEY = `user:${USER}`;

let emulator: RunningEmulator;
let auth: SpotifyAuth;
beforeAll(async () => {
  emulator = await startTestEmulator({ autoApprove: 'alice' });
  auth = emulatorAuth(emulator);
});
afterAll(() => emulator.stop());

interface Stats {
  token_requests: { refresh_token: number };
  token_errors: Record<string, number>;
}
async function stats(): Promise<Stats> {
  return (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as Stats;
}
async function heldRequests(): Promise<number> {
  return ((await (await fetch(`${emulator.url}/_emulator/faults`)).json()) as { held: number }).held;
}
/** Polls `condition` (a hang guard, not a timing assertion). */
async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}
async function releaseHeld(): Promise<void> {
  await control(emulator, 'faults/release', {});
}
/** Holds the next token request at the emulator: before it is processed, or after (its answer only). */
async function holdNextRequest(when: 'before' | 'after'): Promise<void> {
  await control(emulator, 'faults', {
    endpoint: 'token',
    kind: when === 'before' ? 'latency' : 'response_latency',
    latency_ms: 120_000,
  });
}

describe('refreshes racing past their lease', () => {
  let leaseClock: number;
  let store: MemoryStore;
  let refreshesBefore: number;
  let invalidGrantsBefore: number;
  let marks: string[];
  let rt0: string;

  beforeEach(async () => {
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    leaseClock = 0;
    store = new MemoryStore({ now: () => Date.now() + leaseClock });
    marks = [];
    const { tokens } = await login(auth);
    const saved = await manager().saveGrant(tokens, { id: 'alice', account_id: USER });
    rt0 = must(tokens.refreshToken, 'a refresh token');
    const { version, updatedAt: _u, ...rest } = saved;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1_000 }, version);
    const before = await stats();
    refreshesBefore = before.token_requests.refresh_token;
    invalidGrantsBefore = before.token_errors['invalid_grant'] ?? 0;
  });

  function manager(options: Partial<TokenManagerOptions> = {}, on: TokenStore = store): TokenManager {
    const made = new TokenManager({
      auth,
      store: on,
      retry: { baseDelayMs: 10, maxDelayMs: 20 },
      cacheTtlMs: 0,
      ...options,
    });
    made.on('reauth_required', ({ reason }) => marks.push(reason));
    return made;
  }
  const refreshes = async () => (await stats()).token_requests.refresh_token - refreshesBefore;
  const invalidGrants = async () =>
    ((await stats()).token_errors['invalid_grant'] ?? 0) - invalidGrantsBefore;
  const stored = async () => must(await store.get(KEY), 'store.get(KEY)');
  /** A's lease ran out while its request is held: the lease clock jumps past it. */
  const expireLeases = (leaseMs = DEFAULT_LOCK_LEASE_MS) => {
    leaseClock += leaseMs + 1;
  };

  it('rotate: a slow refresh outliving its lease while another process refreshes adopts that rotation', async () => {
    const a = manager();
    const b = manager();
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    expireLeases();
    // B takes the lease and refreshes first: Spotify rotates rt0 → rt1 for B.
    const tokenB = await b.getAccessToken(USER);
    const afterB = await stored();
    expect(afterB.refreshToken).not.toBe(rt0);
    await releaseHeld();
    // A's request reaches Spotify with the spent rt0: invalid_grant; the store holds rt1, so A uses that.
    expect(await slow).toBe(tokenB);
    const final = await stored();
    expect(final).toEqual(afterB);
    expect(final.status).toBe('active');
    expect(marks).toEqual([]);
    expect(await refreshes()).toBe(2);
    expect(await invalidGrants()).toBe(1);
    // The stored refresh token works.
    await manager().refreshNow(USER);
    expect(await refreshes()).toBe(3);
  });

  it('keep: a slow refresh outliving its lease writes over the same refresh token; both tokens work', async () => {
    await control(emulator, 'config', { refresh_mode: 'keep' });
    const a = manager();
    const b = manager();
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    expireLeases();
    const tokenB = await b.getAccessToken(USER);
    await releaseHeld();
    const tokenA = await slow;
    expect(tokenA).not.toBe(tokenB);
    const final = await stored();
    expect(final.refreshToken).toBe(rt0);
    expect(final.accessToken).toBe(tokenA);
    expect(final.status).toBe('active');
    for (const token of [tokenA, tokenB])
      expect(emulator.state.lookupAccessToken(token)?.userId).toBe('alice');
    expect(await refreshes()).toBe(2);
    expect(await invalidGrants()).toBe(0);
  });

  it('rotate: an invalid_grant racing a successful rotation waits for it; the grant is never marked', async () => {
    // A long lease, so B's grace for A's answer (one lease) is long; the lease clock still jumps past it.
    const leaseMs = 20_000;
    const a = manager({ lockLeaseMs: leaseMs });
    const b = manager({ lockLeaseMs: leaseMs });
    await holdNextRequest('after');
    const slow = a.getAccessToken(USER);
    // Spotify has rotated rt0 → rt1 for A; only its answer is held.
    await until(async () => (await heldRequests()) === 1, "A's answer is held");
    expireLeases(leaseMs);
    const racing = b.getAccessToken(USER);
    await until(async () => (await invalidGrants()) === 1, "B's refresh was refused");
    await releaseHeld();
    const tokenA = await slow;
    expect(await racing).toBe(tokenA);
    const final = await stored();
    expect(final.status).toBe('active');
    expect(final.refreshToken).not.toBe(rt0);
    expect(final.accessToken).toBe(tokenA);
    expect(marks).toEqual([]);
    expect(await refreshes()).toBe(2);
    await manager().refreshNow(USER);
    expect(await refreshes()).toBe(3);
  });

  it('rotate: a rotation arriving after another process marked the grant puts it back (never discarded)', async () => {
    const a = manager();
    // B gives a lease-less holder only a short grace, and A stays silent beyond it.
    const b = manager({ lockLeaseMs: 200 });
    await holdNextRequest('after');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's answer is held");
    expireLeases();
    const refusal = await caught(b.getAccessToken(USER));
    expect(refusal.code).toBe('REAUTH_REQUIRED');
    const markedRecord = await stored();
    expect(markedRecord.status).toBe('reauth_required');
    expect(markedRecord.refreshToken).toBe(rt0);
    await releaseHeld();
    // A's result: the store still holds the token A used, marked — A's rotation is the one that works.
    const tokenA = await slow;
    const final = await stored();
    expect(final.status).toBe('active');
    expect(final.reauthReason).toBeUndefined();
    expect(final.refreshToken).not.toBe(rt0);
    expect(final.accessToken).toBe(tokenA);
    expect(marks).toEqual(['revoked']);
    expect(await refreshes()).toBe(2);
    expect(await invalidGrants()).toBe(1);
    // B sees the restored grant, with no further request.
    expect(await b.getAccessToken(USER)).toBe(tokenA);
    expect(await refreshes()).toBe(2);
  });

  it('a live holder is never pre-empted, however long its request takes', async () => {
    // Real lease clock this time: A renews every lease/3 while its request is held for over two leases.
    const leaseMs = 2_000;
    const a = manager({ lockLeaseMs: leaseMs });
    const b = manager({ lockLeaseMs: leaseMs });
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    let bDone = false;
    const waiting = b.getAccessToken(USER).finally(() => {
      bDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 2 * leaseMs));
    expect(bDone).toBe(false);
    expect(await refreshes()).toBe(1);
    await releaseHeld();
    const tokenA = await slow;
    expect(await waiting).toBe(tokenA);
    expect(await refreshes()).toBe(1);
    expect((await stored()).refreshToken).not.toBe(rt0);
  });

  it('lockTtlMs, the old name of lockLeaseMs, still sets the lease', async () => {
    const a = manager({ lockTtlMs: 10_000 });
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    expireLeases(); // past the default lease, not past 10 s
    expect(await store.tryLock(`refresh:${KEY}`, 1_000)).toBeNull();
    await releaseHeld();
    await slow;
    expect(await refreshes()).toBe(1);
  });

  it('logout during a refresh: the result is not written back (stays logged out)', async () => {
    const a = manager();
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    await manager().deleteGrant(USER);
    await releaseHeld();
    expect((await caught(slow)).code).toBe('NOT_LOGGED_IN');
    expect(await store.get(KEY)).toBeNull();
    expect(await refreshes()).toBe(1);
  });

  it('a new login during a refresh wins over the rotation that was in flight', async () => {
    const a = manager();
    await holdNextRequest('before');
    const slow = a.getAccessToken(USER);
    await until(async () => (await heldRequests()) === 1, "A's request is held");
    const { tokens: relogin } = await login(auth);
    await manager().saveGrant(relogin, { id: 'alice', account_id: USER });
    await releaseHeld();
    expect(await slow).toBe(relogin.accessToken);
    const final = await stored();
    expect(final.refreshToken).toBe(relogin.refreshToken);
    expect(final.status).toBe('active');
    expect(await refreshes()).toBe(1);
  });

  it('a rotation the store could not take is kept in the process and stored before the next refresh', async () => {
    const flaky = failingPuts(store, 6);
    const a = manager({}, flaky.store);
    const error = await caught(a.getAccessToken(USER));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect((await stored()).refreshToken).toBe(rt0);
    expect(await refreshes()).toBe(1);
    flaky.heal();
    const token = await a.getAccessToken(USER);
    const final = await stored();
    expect(final.refreshToken).not.toBe(rt0);
    expect(final.accessToken).toBe(token);
    expect(await refreshes()).toBe(1);
    await manager().refreshNow(USER);
    expect(await refreshes()).toBe(2);
  });

  it('a revoked grant with nobody else refreshing is marked at once, after one request', async () => {
    await control(emulator, 'revoke', { user_id: 'alice' });
    const a = manager();
    expect((await caught(a.getAccessToken(USER))).code).toBe('REAUTH_REQUIRED');
    expect((await stored()).status).toBe('reauth_required');
    expect((await stored()).refreshToken).toBe(rt0);
    expect(marks).toEqual(['revoked']);
    expect(await refreshes()).toBe(1);
  });
});

describe('fence: which record a refresh result may replace', () => {
  const record = (refreshToken: string, status: TokenRecord['status']): TokenRecord => ({
    key: KEY,
    accessToken: 'at',
    accessTokenExpiresAt: 0,
    refreshToken,
    scope: [],
    status,
    authorizedAt: 0,
    version: 3,
    updatedAt: 0,
  });
  it.each([
    ['rt', 'active', true, 'write'],
    ['rt', 'active', false, 'write'],
    ['rt', 'reauth_required', true, 'write'],
    ['rt', 'reauth_required', false, 'reauth'],
    ['other', 'active', true, 'adopt'],
    ['other', 'active', false, 'adopt'],
    ['other', 'reauth_required', true, 'write'],
    ['other', 'reauth_required', false, 'reauth'],
  ] as const)('stored %s/%s, rotated=%s → %s', (storedRt, status, rotated, verdict) => {
    expect(fence(record(storedRt, status), 'rt', rotated)).toBe(verdict);
  });
  it('no record → gone', () => {
    expect(fence(null, 'rt', true)).toBe('gone');
  });
});

/** The store refuses the first `count` writes as unreachable (a real outage cannot be staged in memory). */
function failingPuts(inner: MemoryStore, count: number): { store: TokenStore; heal(): void } {
  let failures = count;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'put') {
        return async (...args: Parameters<TokenStore['put']>) => {
          if (failures > 0) {
            failures--;
            throw new SpotauthError('STORE_UNAVAILABLE', 'The test store is down.', { transient: true });
          }
          return target.put(...args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store,
    heal: () => {
      failures = 0;
    },
  };
}
