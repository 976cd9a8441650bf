import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpotauthError } from '../../src/core/index.js';
import { type RunningEmulator, SANDBOX_APP } from '../../src/emulator/index.js';
import { createStore, Keyring, type TokenStore } from '../../src/stores/index.js';
import { TokenManager } from '../../src/tokens/index.js';
import { control, emulatorAuth, login, startTestEmulator, tokenRequests } from '../support/emulator.js';

const WORKER = fileURLToPath(new URL('./fixtures/refresh-worker.mjs', import.meta.url));
const LATENCY_MS = 1_500;
const LOCK_TTL_MS = 2_000;

/**
 * Issue 3: kill -9 a process in the middle of a refresh. The refresh request is held at the emulator by
 * injected latency; the process holding the store lock is killed while it waits.
 */
describe('a process killed (SIGKILL) in the middle of a refresh', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let store: TokenStore;
  const keys = `crash:${randomBytes(32).toString('base64')}`;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotauth-crash-'));
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    store = await createStore(`sqlite:${join(dir, 'tokens.sqlite')}`, { keyring: Keyring.parse(keys) });
  });
  afterEach(async () => {
    await store.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function killMidRefresh(): Promise<void> {
    const auth = emulatorAuth(emulator);
    const manager = new TokenManager({ auth, store });
    const { tokens } = await login(auth);
    const record = await manager.saveGrant(tokens, { id: 'alice', account_id: 'acct-alice' });
    const { version, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1_000 }, version);
    await control(emulator, 'faults', {
      endpoint: 'token',
      kind: 'latency',
      latency_ms: LATENCY_MS,
      count: 1,
    });
    const before = (await tokenRequests(emulator)).refresh_token;
    const child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        KEYS: keys,
        STORE_URL: `sqlite:${join(dir, 'tokens.sqlite')}`,
        ACCOUNTS_URL: emulator.url,
        CLIENT_ID: SANDBOX_APP.clientId,
        CLIENT_SECRET: SANDBOX_APP.clientSecret,
        USER_ID: 'acct-alice',
        CONCURRENCY: '1',
        LOCK_TTL_MS: String(LOCK_TTL_MS),
      },
      stdio: 'ignore',
    });
    // Wait until its refresh request is at the emulator (held by the latency), then kill it.
    const deadline = Date.now() + 10_000;
    while ((await tokenRequests(emulator)).refresh_token === before) {
      if (Date.now() > deadline) throw new Error('the worker never sent its refresh');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Let the held request complete at the emulator (its answer goes to a dead socket).
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS + 200));
  }

  it('keep mode: the stored grant still works afterwards (once the dead holder’s lock expires)', async () => {
    await control(emulator, 'config', { refresh_mode: 'keep' });
    await killMidRefresh();
    const survivor = new TokenManager({ auth: emulatorAuth(emulator), store });
    const token = await survivor.getAccessToken('acct-alice');
    expect(emulator.state.lookupAccessToken(token)?.userId).toBe('alice');
    const stored = (await store.get('user:acct-alice'))!;
    expect(stored.status).toBe('active');
    expect(stored.accessToken).toBe(token);
  });

  it('rotate mode: the rotated token died with the process → one clean REAUTH_REQUIRED, no retry loop', async () => {
    await control(emulator, 'config', { refresh_mode: 'rotate' });
    await killMidRefresh();
    const survivor = new TokenManager({ auth: emulatorAuth(emulator), store });
    const before = (await tokenRequests(emulator)).refresh_token;
    const error = await survivor.getAccessToken('acct-alice').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).code).toBe('REAUTH_REQUIRED');
    const stored = (await store.get('user:acct-alice'))!;
    expect(stored.status).toBe('reauth_required');
    expect(stored.reauthReason).toBe('revoked');
    await survivor.getAccessToken('acct-alice').catch(() => {});
    expect((await tokenRequests(emulator)).refresh_token - before).toBe(1);
  });
});

describe('5 minutes of injected 5xx on a simulated clock', () => {
  it('marks nothing and keeps serving the valid access token', async () => {
    const emulator = await startTestEmulator({ autoApprove: 'bob' });
    try {
      const auth = emulatorAuth(emulator);
      let now = Date.now();
      const failures: number[] = [];
      const { MemoryStore } = await import('../../src/stores/index.js');
      const store = new MemoryStore();
      // Refresh 6 minutes ahead, so the whole 5-minute outage falls inside the refresh window.
      const manager = new TokenManager({
        auth,
        store,
        now: () => now,
        refreshSkewMs: 6 * 60_000,
        refreshJitterMs: 0,
        retry: { baseDelayMs: 1, maxDelayMs: 2 },
      });
      manager.on('refresh_failed', () => failures.push(now));
      const { tokens } = await login(auth);
      await manager.saveGrant(tokens, { id: 'bob' });
      await control(emulator, 'faults', { endpoint: 'token', kind: 'server_error', count: 1_000 });
      const served = new Set<string>();
      now = tokens.expiresAt - 5.5 * 60_000;
      for (let step = 0; step < 30; step++) {
        served.add(await manager.getAccessToken('bob'));
        now += 10_000;
      }
      expect(served).toEqual(new Set([tokens.accessToken]));
      const record = (await store.get('user:bob'))!;
      expect(record.status).toBe('active');
      expect(record.refreshToken).toBe(tokens.refreshToken);
      expect(failures).toHaveLength(30);
      // When Spotify recovers, the next call refreshes normally.
      await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
      now = tokens.expiresAt - 30_000;
      const fresh = await manager.getAccessToken('bob');
      expect(fresh).not.toBe(tokens.accessToken);
    } finally {
      await emulator.stop();
    }
  });
});
