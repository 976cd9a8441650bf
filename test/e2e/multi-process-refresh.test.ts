import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SANDBOX_APP } from '../../src/emulator/index.js';
import { createStore, Keyring } from '../../src/stores/index.js';
import { TokenManager } from '../../src/tokens/index.js';
import { control, emulatorAuth, login, startTestEmulator, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { serviceAvailable, sharedStoreBackends } from '../support/services.js';

const WORKER = fileURLToPath(new URL('./fixtures/refresh-worker.mjs', import.meta.url));
const PROCESSES = 4;
const CONCURRENCY = 250;

interface WorkerResult {
  tokens: string[];
  errors: string[];
  errorCount: number;
  refreshes: number;
}

function runWorker(env: Record<string, string>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited ${code}: ${err.slice(0, 2000)}`));
      try {
        resolve(
          JSON.parse(must(out.trim().split('\n').pop(), "out.trim().split('\\n').pop()")) as WorkerResult,
        );
      } catch {
        reject(new Error(`worker printed no result: ${out.slice(0, 500)} ${err.slice(0, 500)}`));
      }
    });
  });
}

/**
 * The proof from issue 3: 4 processes × 250 concurrent getAccessToken for one user whose access token has
 * expired, sharing one store, with the emulator rotating refresh tokens (so a second refresh with the same
 * token would be "Refresh token revoked"). Exactly one refresh; everyone gets the same, valid token.
 */
const backends = sharedStoreBackends('mp', ['postgres', 'redis', 'sqlite']);

describe.each(backends)('exactly one refresh across $name-sharing processes', (backend) => {
  let emulator: RunningEmulator;
  let available = true;
  const keysSpec = `mp:${randomBytes(32).toString('base64')}`;
  let setup: ReturnType<(typeof backends)[number]['setup']>;

  beforeAll(async () => {
    if (backend.service) available = await serviceAvailable(backend.service);
    emulator = await startTestEmulator({ autoApprove: 'carol', refreshMode: 'rotate' });
    setup = backend.setup();
  });
  afterAll(async () => {
    await emulator.stop();
    if (available) await setup.cleanup();
  });

  it(`${PROCESSES} processes × ${CONCURRENCY} callers → 1 refresh, 1 token, no invalid_grant`, async (context) => {
    if (!available) return context.skip();
    const store = await createStore(setup.url, { keyring: Keyring.parse(keysSpec), ...setup.options });
    const auth = emulatorAuth(emulator);
    const manager = new TokenManager({ auth, store });
    const { tokens } = await login(auth);
    const record = await manager.saveGrant(tokens, { id: 'carol', account_id: 'acct-carol' });
    // Expire it everywhere: in the store and at the emulator.
    const { version, updatedAt: _u, ...rest } = record;
    await store.put({ ...rest, accessTokenExpiresAt: Date.now() - 1_000 }, version);
    await control(emulator, 'expire', { user_id: 'carol' });
    await store.close();
    const before = await tokenRequests(emulator);

    const startAt = String(Date.now() + 1_500);
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        runWorker({
          KEYS: keysSpec,
          STORE_URL: setup.url,
          STORE_OPTIONS: JSON.stringify(setup.options),
          ACCOUNTS_URL: emulator.url,
          CLIENT_ID: SANDBOX_APP.clientId,
          CLIENT_SECRET: SANDBOX_APP.clientSecret,
          USER_ID: 'acct-carol',
          CONCURRENCY: String(CONCURRENCY),
          START_AT: startAt,
        }),
      ),
    );

    const after = await tokenRequests(emulator);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(after.refresh_token - before.refresh_token).toBe(1);
    expect(results.reduce((sum, r) => sum + r.refreshes, 0)).toBe(1);
    const handedOut = new Set(results.flatMap((r) => r.tokens));
    expect(handedOut.size).toBe(1);
    const token = must([...handedOut][0], '[...handedOut][0]');
    expect(token).not.toBe(tokens.accessToken);
    const info = emulator.state.lookupAccessToken(token);
    expect(info?.userId).toBe('carol');
    expect(must(info, 'info').expiresAt).toBeGreaterThan(Date.now());
  }, 60_000);
});
