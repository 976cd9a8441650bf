/**
 * Webhooks: Standard Webhooks signatures, events written with the change that causes them, delivery at
 * least once with backoff against a real local receiver, the deadline scan, and several senders on one
 * store each event going out from exactly one of them (PostgreSQL and Redis).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadWebhookConfig } from '../../src/broker/webhooks/config.js';
import { scanDeadlines } from '../../src/broker/webhooks/deadline-scan.js';
import { WebhookDispatcher } from '../../src/broker/webhooks/dispatcher.js';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookKey,
} from '../../src/broker/webhooks/signing.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { TokenStore } from '../../src/stores/types.js';
import { TokenManager } from '../../src/tokens/token-manager.js';
import { keyringOf, uniqueSuffix } from '../stores/helpers.js';
import { control, emulatorAuth, login, startTestEmulator } from '../support/emulator.js';
import { must, thrownBy } from '../support/must.js';
import { DATABASE_URL, REDIS_URL, serviceAvailable } from '../support/services.js';
import { startReceiver } from '../support/webhook-receiver.js';
import { expectWebhookMatchesSpec } from './helpers.js';

const SECRET = generateWebhookSecret();
const KEY = webhookKey(SECRET);

async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Standard Webhooks signatures', () => {
  it("matches the convention's published test vector", () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const headers = signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies a genuine delivery and refuses a changed body, a wrong secret or a stale timestamp', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = { ...signWebhook(KEY, 'evt_1', now, '{"a":1}') };
    expect(verifyWebhook(SECRET, headers, '{"a":1}')).toBe(true);
    expect(verifyWebhook(SECRET, headers, '{"a":2}')).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), headers, '{"a":1}')).toBe(false);
    expect(verifyWebhook(SECRET, headers, '{"a":1}', { nowSeconds: now + 301 })).toBe(false);
    expect(
      verifyWebhook(
        SECRET,
        { ...headers, 'webhook-signature': `v1,bogus ${headers['webhook-signature']}` },
        '{"a":1}',
      ),
    ).toBe(true);
  });

  it('configuration: https, or http on loopback only; a secret is required; bad numbers are refused', () => {
    expect(loadWebhookConfig({})).toBeNull();
    const config = loadWebhookConfig({
      SPOTAUTH_WEBHOOK_URLS: 'https://hooks.example/a, http://127.0.0.1:9/b',
      SPOTAUTH_WEBHOOK_SECRET: SECRET,
    });
    expect(config).toMatchObject({
      urls: ['https://hooks.example/a', 'http://127.0.0.1:9/b'],
      expiringDays: [14, 2],
    });
    expect(() =>
      loadWebhookConfig({ SPOTAUTH_WEBHOOK_URLS: 'http://hooks.example/a', SPOTAUTH_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/plain http/);
    expect(() =>
      loadWebhookConfig({ SPOTAUTH_WEBHOOK_URLS: 'ftp://x/y', SPOTAUTH_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/http\(s\)/);
    expect(() => loadWebhookConfig({ SPOTAUTH_WEBHOOK_URLS: 'https://hooks.example/a' })).toThrow(
      /SECRET is required/,
    );
    expect(() =>
      loadWebhookConfig({
        SPOTAUTH_WEBHOOK_URLS: 'https://h.example/a',
        SPOTAUTH_WEBHOOK_SECRET: 'whsec_short',
      }),
    ).toThrow(/at least 24 bytes/);
    const thrown = (
      thrownBy(() => {
        loadWebhookConfig({
          SPOTAUTH_WEBHOOK_URLS: 'https://h.example/a',
          SPOTAUTH_WEBHOOK_SECRET: `${SECRET}!`,
        });
      }) as Error
    ).message;
    expect(thrown).not.toContain(SECRET);
  });
});

describe('grant events and their delivery', () => {
  let emulator: RunningEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dispatchers: WebhookDispatcher[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ autoApprove: 'alice' });
    receiver = await startReceiver(SECRET);
  });
  afterAll(async () => {
    await receiver.close();
    await emulator.stop();
  });
  afterEach(async () => {
    for (const dispatcher of dispatchers) await dispatcher.stop();
    dispatchers = [];
    receiver.deliveries.length = 0;
    receiver.state.status = 200;
    receiver.state.hang = false;
  });

  function dispatcher(
    store: TokenStore,
    options: Partial<ConstructorParameters<typeof WebhookDispatcher>[0]> = {},
  ) {
    const started = new WebhookDispatcher({
      outbox: store.outbox,
      urls: [receiver.url],
      key: KEY,
      pollMs: 20,
      baseDelayMs: 50,
      maxDelayMs: 200,
      ...options,
    });
    dispatchers.push(started);
    started.start();
    return started;
  }

  it('login, re-login refusal and unlink each produce one signed event, written with the change', async () => {
    const store = new MemoryStore();
    const tokens = new TokenManager({ auth: emulatorAuth(emulator), store, webhookEvents: true });
    const { tokens: tokenSet } = await login(emulatorAuth(emulator));
    const grant = await tokens.saveGrant(tokenSet, { id: 'alice', account_id: 'acct_alice_7f3a9c2e41d8' });
    expect((await store.outbox.list()).map((event) => event.type)).toEqual(['grant.linked']);
    await control(emulator, 'revoke', { user_id: 'alice' });
    await expect(tokens.refreshNow(grant.key)).rejects.toMatchObject({ code: 'REAUTH_REQUIRED' });
    await tokens.deleteGrant(grant.key);
    dispatcher(store);
    await receiver.waitFor(() => receiver.acceptedIds().length === 3);
    expect(receiver.deliveries.map((d) => d.type)).toEqual([
      'grant.linked',
      'grant.reauth_required',
      'grant.deleted',
    ]);
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    const bodies = receiver.deliveries.map((d) => JSON.parse(d.body) as { data: Record<string, unknown> });
    expect(must(bodies[1], 'bodies[1]').data).toMatchObject({
      user: 'acct_alice_7f3a9c2e41d8',
      reason: 'revoked',
    });
    expect(must(bodies[2], 'bodies[2]').data).toEqual({ user: 'acct_alice_7f3a9c2e41d8' });
    for (const delivery of receiver.deliveries) {
      expect(delivery.body).not.toMatch(/access|refresh_token"|secret/i);
      expectWebhookMatchesSpec(delivery.body);
    }
    await until(async () => (await store.outbox.list({ pendingOnly: true })).length === 0);
  });

  it('records nothing when webhooks are off', async () => {
    const store = new MemoryStore();
    const tokens = new TokenManager({ auth: emulatorAuth(emulator), store });
    const { tokens: tokenSet } = await login(emulatorAuth(emulator));
    await tokens.saveGrant(tokenSet, { id: 'alice' });
    expect(await store.outbox.list()).toEqual([]);
  });

  it('a receiver that is down then recovers gets every event, each exactly once per id', async () => {
    const store = new MemoryStore();
    await store.outbox.append(
      Array.from({ length: 5 }, (_, i) => ({
        id: `evt_down_${i}`,
        type: 'grant.linked',
        payload: `{"type":"grant.linked","n":${i}}`,
      })),
    );
    receiver.state.status = 503;
    dispatcher(store);
    await receiver.waitFor(() => receiver.deliveries.length >= 10);
    receiver.state.status = 204;
    await until(async () => (await store.outbox.list({ pendingOnly: true })).length === 0);
    const accepted = receiver.acceptedIds().sort();
    expect(accepted).toEqual(Array.from({ length: 5 }, (_, i) => `evt_down_${i}`).sort());
    const [event] = await store.outbox.list({ limit: 1 });
    expect(must(event, 'event').deliveries[0]).toMatchObject({
      status: 'delivered',
      attempts: expect.any(Number),
    });
    expect(must(event?.deliveries[0], 'event.deliveries[0]').attempts).toBeGreaterThan(1);
  });

  it('gives up after maxAttempts (failed, kept in the log) until a manual retry', async () => {
    const store = new MemoryStore();
    await store.outbox.append([
      { id: 'evt_gone', type: 'grant.deleted', payload: '{"type":"grant.deleted"}' },
    ]);
    receiver.state.status = 500;
    dispatcher(store, { maxAttempts: 2 });
    await until(async () => (await store.outbox.get('evt_gone'))?.nextAttemptAt === null);
    expect(
      must(await store.outbox.get('evt_gone'), "store.outbox.get('evt_gone')").deliveries[0],
    ).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastError: 'HTTP 500',
    });
    receiver.state.status = 200;
    expect(await store.outbox.retry('evt_gone')).toBe(true);
    await until(() => receiver.acceptedIds().includes('evt_gone'));
  });

  it('the deadline scan announces each threshold once, written with the grant', async () => {
    const store = new MemoryStore();
    const day = 86_400_000;
    let now = Date.now();
    const tokens = new TokenManager({ auth: emulatorAuth(emulator), store, webhookEvents: true });
    const { tokens: tokenSet } = await login(emulatorAuth(emulator));
    const grant = await tokens.saveGrant(tokenSet, { id: 'alice' });
    const deadline = must(grant.refreshTokenDeadline, 'grant.refreshTokenDeadline');
    now = deadline - 20 * day;
    expect(await scanDeadlines({ store, days: [14, 2], now: () => now })).toBe(0);
    now = deadline - 13 * day;
    expect(await scanDeadlines({ store, days: [14, 2], now: () => now })).toBe(1);
    expect(await scanDeadlines({ store, days: [14, 2], now: () => now })).toBe(0);
    now = deadline - 1.5 * day;
    expect(await scanDeadlines({ store, days: [14, 2], now: () => now })).toBe(1);
    expect(await scanDeadlines({ store, days: [14, 2], now: () => now })).toBe(0);
    const events = (await store.outbox.list())
      .filter((e) => e.type === 'grant.expiring')
      .map((e) => {
        expectWebhookMatchesSpec(e.payload);
        return JSON.parse(e.payload) as { type: string; data: Record<string, unknown> };
      });
    const announced = events.map((e) => [e.type, e.data['threshold_days'], e.data['days_left']]);
    expect(announced.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      ['grant.expiring', 2, 1],
      ['grant.expiring', 14, 13],
    ]);
  });
});

const backends: Array<{ name: string; open: () => Promise<TokenStore>; cleanup: () => Promise<void> }> = [];
if (await serviceAvailable('postgres')) {
  const schema = `spotauth_wh_${uniqueSuffix()}`;
  const { PostgresStore } = await import('../../src/stores/postgres.js');
  const { dropPostgresSchema } = await import('../support/services.js');
  backends.push({
    name: 'PostgreSQL',
    open: () => PostgresStore.open(DATABASE_URL, { keyring: keyringOf('k1'), schema, poolSize: 3 }),
    cleanup: () => dropPostgresSchema(schema),
  });
}
if (await serviceAvailable('redis')) {
  const keyPrefix = `spotauth-wh-${uniqueSuffix()}:`;
  const { RedisStore } = await import('../../src/stores/redis.js');
  const { deleteRedisPrefix } = await import('../support/services.js');
  backends.push({
    name: 'Redis',
    open: () => RedisStore.open(REDIS_URL, { keyring: keyringOf('k1'), keyPrefix }),
    cleanup: () => deleteRedisPrefix(keyPrefix),
  });
}

describe.each(backends)('three senders on one $name store', ({ open, cleanup }) => {
  it('each event is delivered by exactly one of them', async () => {
    const receiver = await startReceiver(SECRET);
    const stores = await Promise.all([open(), open(), open()]);
    const senders = stores.map(
      (store) => new WebhookDispatcher({ outbox: store.outbox, urls: [receiver.url], key: KEY, pollMs: 10 }),
    );
    try {
      for (const sender of senders) sender.start();
      const ids = Array.from({ length: 60 }, (_, i) => `evt_multi_${i}`);
      for (let i = 0; i < ids.length; i += 10)
        await must(stores[i % 3], 'stores[i % 3]').outbox.append(
          ids.slice(i, i + 10).map((id) => ({ id, type: 'grant.linked', payload: '{}' })),
        );
      await receiver.waitFor(() => receiver.deliveries.length >= ids.length);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.deliveries.map((d) => d.id).sort()).toEqual([...ids].sort());
      expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    } finally {
      for (const sender of senders) await sender.stop();
      for (const store of stores) await store.close();
      await receiver.close();
      await cleanup();
    }
  });
});
