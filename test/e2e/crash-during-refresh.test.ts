import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotauthError } from '../../src/core/index.js';
import { type RunningEmulator, SANDBOX_APP } from '../../src/emulator/index.js';
import { createStore, Keyring, type TokenStore } from '../../src/stores/index.js';
import { TokenManager } from '../../src/tokens/index.js';
import { control, emulatorAuth, login, startTestEmulator, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { serviceAvailable, sharedStoreBackends } from '../support/services.js';

const WORKER = fileURLToPath(new URL('./fixtures/refresh-worker.mjs', import.meta.url));
const USER = 'acct-alice';
const KEY = `user:${USER}`;
const LOCK = `refresh:${KEY}`;

interface WorkerResult {
  tokens: string[];
  errors: string[];
}

const backends = sharedStoreBackends('crash', ['sqlite', 'file', 'postgres', 'redis']);

/**
 * Issue 11, across real processes and stores: the lock holder is killed (SIGKILL) or frozen (SIGSTOP) while
 * its refresh request is held at the emulator. Every test asserts the stored refresh token afterwards and
 * the number of refresh requests the emulator saw. Nothing here measures time (see bench/crash-recovery).
 */
describe.each(backends)('a lock holder killed or stalled mid-refresh, $name', (backend) => {
  let emulator: RunningEmulator;
  let available = true;
  let setup: ReturnType<(typeof backends)[number]['setup']>;
  let store: TokenStore;
  let rt0: string;
  let before: number;
  const keys = `crash:${randomBytes(32).toString('base64')}`;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (backend.service) available = await serviceAvailable(backend.service);
    emulator = await startTestEmulator({ autoApprove: 'alice' });
  });
  afterAll(() => emulator.stop());

  beforeEach(async (context) => {
    if (!available) return context.skip();
    setup = backend.setup();
    store = await createStore(setup.url, { keyring: Keyring.parse(keys), ...setup.options });
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    await control(emulator, 'config', { refresh_mode: 'keep' });
  });
  afterEach(async () => {
    if (!available) return;
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await store.close();
    await setup.cleanup();
  });

  const refreshes = async () => (await tokenRequests(emulator)).refresh_token - before;
  const stats = async () =>
    (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as {
      token_successes: number;
      token_errors: Record<string, number>;
    };
  const held = async () =>
    ((await (await fetch(`${emulator.url}/_emulator/faults`)).json()) as { held: number }).held;
  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  /** A logged-in user whose access token has expired, in the store and at the emulator. */
  async function expiredGrant(mode: 'keep' | 'rotate'): Promise<void> {
    await control(emulator, 'config', { refresh_mode: mode });
    const { tokens } = await login(emulatorAuth(emulator));
    const record = await new TokenManager({ auth: emulatorAuth(emulator), store }).saveGrant(tokens, {
      id: 'alice',
      account_id: USER,
    });
    rt0 = must(tokens.refreshToken, 'a refresh token');
    const { version, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1_000 }, version);
    await control(emulator, 'expire', { user_id: 'alice' });
    before = (await tokenRequests(emulator)).refresh_token;
  }

  /** Starts a worker process whose one getAccessToken will be the lock holder. */
  function startHolder(env: Record<string, string> = {}): {
    child: ChildProcess;
    result: Promise<WorkerResult>;
  } {
    const child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        KEYS: keys,
        STORE_URL: setup.url,
        STORE_OPTIONS: JSON.stringify(setup.options),
        ACCOUNTS_URL: emulator.url,
        CLIENT_ID: SANDBOX_APP.clientId,
        CLIENT_SECRET: SANDBOX_APP.clientSecret,
        USER_ID: USER,
        CONCURRENCY: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    must(child.stdout, 'child.stdout').on('data', (chunk) => {
      out += chunk;
    });
    must(child.stderr, 'child.stderr').resume();
    const result = new Promise<WorkerResult>((resolve, reject) => {
      child.on('exit', (code, signal) => {
        if (code !== 0) return reject(new Error(`worker ended with ${code ?? signal}`));
        resolve(
          JSON.parse(must(out.trim().split('\n').pop(), "out.trim().split('\\n').pop()")) as WorkerResult,
        );
      });
    });
    result.catch(() => {});
    return { child, result };
  }

  async function kill(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Holds the next token request at the emulator: before Spotify sees it, or after it rotated (answer held). */
  const holdNext = (when: 'before' | 'after') =>
    control(emulator, 'faults', {
      endpoint: 'token',
      kind: when === 'before' ? 'latency' : 'response_latency',
      latency_ms: 120_000,
    });
  const releaseHeld = () => control(emulator, 'faults/release', {});

  /** The holder is killed while its request is at the emulator; the emulator then finishes that request. */
  async function killMidRequest(): Promise<void> {
    await holdNext('before');
    const { child } = startHolder();
    await until(async () => (await held()) === 1, 'the holder’s refresh is at the emulator');
    await kill(child);
    const processed = (await stats()).token_successes + ((await stats()).token_errors['invalid_grant'] ?? 0);
    await releaseHeld();
    await until(
      async () =>
        (await stats()).token_successes + ((await stats()).token_errors['invalid_grant'] ?? 0) > processed,
      'the emulator has finished the dead holder’s request',
    );
  }

  it('keep mode, kill -9 mid-request: the next caller gets a valid token once the lease runs out', async () => {
    await expiredGrant('keep');
    await killMidRequest();
    const token = await new TokenManager({ auth: emulatorAuth(emulator), store }).getAccessToken(USER);
    expect(emulator.state.lookupAccessToken(token)?.userId).toBe('alice');
    const stored = must(await store.get(KEY), 'store.get(KEY)');
    expect(stored.status).toBe('active');
    expect(stored.accessToken).toBe(token);
    expect(stored.refreshToken).toBe(rt0);
    expect(await refreshes()).toBe(2);
  });

  it('rotate mode, kill -9 mid-request: the rotated token died with it → one clean REAUTH_REQUIRED', async () => {
    await expiredGrant('rotate');
    await killMidRequest();
    const survivor = new TokenManager({ auth: emulatorAuth(emulator), store });
    const error = await survivor.getAccessToken(USER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).code).toBe('REAUTH_REQUIRED');
    const stored = must(await store.get(KEY), 'store.get(KEY)');
    expect(stored.status).toBe('reauth_required');
    expect(stored.reauthReason).toBe('revoked');
    expect(stored.refreshToken).toBe(rt0);
    await survivor.getAccessToken(USER).catch(() => {});
    expect(await refreshes()).toBe(2);
  });

  it('rotate mode, a stalled holder outliving its lease while another process refreshes: it adopts that rotation', async () => {
    await expiredGrant('rotate');
    await holdNext('before');
    const { child, result } = startHolder({ LOCK_LEASE_MS: '1000' });
    await until(async () => (await held()) === 1, 'the holder’s refresh is at the emulator');
    child.kill('SIGSTOP');
    await must(store.waitForRelease?.bind(store), 'a store that can wait for a release')(LOCK, 20_000); // its lease runs out unrenewed
    const token = await new TokenManager({ auth: emulatorAuth(emulator), store }).getAccessToken(USER);
    const rotated = must(await store.get(KEY), 'store.get(KEY)');
    expect(rotated.refreshToken).not.toBe(rt0);
    await releaseHeld();
    child.kill('SIGCONT');
    // Its request reached Spotify with the spent token (invalid_grant); it found the rotation and used it.
    expect(await result).toEqual({ tokens: [token], errors: [], errorCount: 0, refreshes: 0 });
    expect(await store.get(KEY)).toEqual(rotated);
    expect(await refreshes()).toBe(2);
  });

  it('rotate mode, an invalid_grant racing a stalled holder’s rotation waits for it: never marked', async () => {
    await expiredGrant('rotate');
    await holdNext('after');
    const { child, result } = startHolder({ LOCK_LEASE_MS: '1000' });
    await until(async () => (await held()) === 1, 'the holder’s rotation is done and its answer held');
    child.kill('SIGSTOP');
    await must(store.waitForRelease?.bind(store), 'a store that can wait for a release')(LOCK, 20_000);
    // A long lease here: the racer gives a holder that lost its lease one lease to bring its answer.
    const racer = new TokenManager({ auth: emulatorAuth(emulator), store, lockLeaseMs: 20_000 });
    let marked = false;
    racer.on('reauth_required', () => {
      marked = true;
    });
    const refusedBefore = (await stats()).token_errors['invalid_grant'] ?? 0;
    const racing = racer.getAccessToken(USER);
    await until(
      async () => ((await stats()).token_errors['invalid_grant'] ?? 0) > refusedBefore,
      'the racer’s refresh with the spent token was refused',
    );
    await releaseHeld();
    child.kill('SIGCONT');
    const holder = await result;
    expect(holder.errors).toEqual([]);
    expect(await racing).toBe(holder.tokens[0]);
    const stored = must(await store.get(KEY), 'store.get(KEY)');
    expect(stored.status).toBe('active');
    expect(stored.refreshToken).not.toBe(rt0);
    expect(marked).toBe(false);
    expect(await refreshes()).toBe(2);
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
      const record = must(await store.get('user:bob'), "store.get('user:bob')");
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
