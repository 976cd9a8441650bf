import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { expectCode, storeContract } from '../../src/testing/store-contract.js';
import { must } from '../support/must.js';
import { keyringOf, sampleRecord, serviceGate, sleep, uniqueSuffix } from './helpers.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
admin.on('error', () => {});
const gate = await serviceGate('Redis', new URL(url).host, async () => {
  await admin.connect();
  await admin.ping();
});
afterAll(() => admin.quit().catch(() => admin.disconnect()));

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

storeContract(
  'redis',
  async () => {
    const keyPrefix = `spotauth-test-${uniqueSuffix()}:`;
    return {
      shared: true,
      makeStore: (keyring = keyringOf('k1')) => RedisStore.open(url, { keyring, keyPrefix }),
      readRaw: async () => {
        const keys = await keysUnder(keyPrefix);
        const values = await Promise.all(
          keys.map(async (k) =>
            (await admin.type(k)) === 'set' ? (await admin.smembers(k)).join(',') : admin.get(k),
          ),
        );
        return keys.map((k, i) => `${k}=${values[i]}`).join('\n');
      },
      tamper: async (key) => {
        const raw = await admin.get(`${keyPrefix}rec:${key}`);
        const body = JSON.parse(must(raw, 'raw'));
        const env: string = body.accessTokenEnc;
        body.accessTokenEnc = env.slice(0, -2) + (env.at(-2) === 'A' ? 'B' : 'A') + env.at(-1);
        await admin.set(`${keyPrefix}rec:${key}`, JSON.stringify(body));
      },
      cleanup: async () => {
        const keys = await keysUnder(keyPrefix);
        if (keys.length > 0) await admin.del(...keys);
      },
    };
  },
  { skip: !gate.run, failure: gate.failure },
);

describe.skipIf(!gate.run)('RedisStore specifics', () => {
  it('stores one JSON string per record under the prefix, with the secrets as envelopes', async () => {
    const keyPrefix = `spotauth-test-${uniqueSuffix()}:`;
    const store = await RedisStore.open(url, { keyring: keyringOf('k1'), keyPrefix });
    try {
      await store.put(sampleRecord('user:ada'), null);
      const body = JSON.parse(
        must(await admin.get(`${keyPrefix}rec:user:ada`), 'the raw record of user:ada'),
      );
      expect(body).toMatchObject({ key: 'user:ada', version: 1 });
      expect(body.accessTokenEnc).toMatch(/^v1\.k1\./);
      expect(body).not.toHaveProperty('accessToken');
      expect(store.describe()).toContain(keyPrefix);
    } finally {
      await store.close();
      const keys = await keysUnder(keyPrefix);
      if (keys.length) await admin.del(...keys);
    }
  });

  it('a listed range fetches only the values in range (MGET of those keys, seen with MONITOR)', async () => {
    const keyPrefix = `spotauth-test-${uniqueSuffix()}:`;
    const store = await RedisStore.open(url, { keyring: keyringOf('k1'), keyPrefix });
    const monitor = await admin.duplicate().monitor();
    const fetched: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'mget' && args[1]?.startsWith(keyPrefix)) fetched.push(args.slice(1));
    });
    try {
      for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) await store.put(sampleRecord(`user:${name}`), null);
      const listed = await store.list('user:', { after: 'user:b', limit: 2 });
      expect(listed.map((record) => record.key)).toEqual(['user:c', 'user:d']);
      const everything = await store.list('user:');
      expect(everything).toHaveLength(6);
      // MONITOR reports commands asynchronously: wait until both MGETs have been seen.
      for (let i = 0; i < 50 && fetched.length < 2; i++) await sleep(20);
      expect(fetched).toEqual([
        [`${keyPrefix}rec:user:c`, `${keyPrefix}rec:user:d`],
        ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `${keyPrefix}rec:user:${name}`),
      ]);
    } finally {
      monitor.disconnect();
      await store.close();
      const keys = await keysUnder(keyPrefix);
      if (keys.length) await admin.del(...keys);
    }
  });

  it('tells waiters of a release by pub/sub: one subscriber per store on <prefix>released', async () => {
    const keyPrefix = `spotauth-test-${uniqueSuffix()}:`;
    const holder = await RedisStore.open(url, { keyring: keyringOf('k1'), keyPrefix });
    const waiter = await RedisStore.open(url, { keyring: keyringOf('k1'), keyPrefix });
    const messages: string[] = [];
    const listener = admin.duplicate();
    try {
      listener.on('message', (_channel: string, name: string) => messages.push(name));
      await listener.subscribe(`${keyPrefix}released`);
      const lease = await holder.tryLock('refresh:user:ada', 30_000);
      const woke = waiter.waitForRelease('refresh:user:ada', 25_000).then(() => true);
      await sleep(100);
      const [, subscribers] = (await admin.pubsub('NUMSUB', `${keyPrefix}released`)) as [string, number];
      expect(subscribers).toBe(2); // the waiter's store and this test's listener
      await must(lease, 'lease').release();
      expect(await Promise.race([woke, sleep(15_000).then(() => false)])).toBe(true);
      for (let i = 0; i < 100 && messages.length === 0; i++) await sleep(20);
      expect(messages).toEqual(['refresh:user:ada']);
      // A release by someone who no longer holds the lock publishes nothing.
      await must(lease, 'lease').release();
      await sleep(100);
      expect(messages).toEqual(['refresh:user:ada']);
    } finally {
      listener.disconnect();
      await holder.close();
      await waiter.close();
      const keys = await keysUnder(keyPrefix);
      if (keys.length) await admin.del(...keys);
    }
  });

  it("a tag's set does not keep the ids of entries that are gone (memory stays bounded)", async () => {
    const keyPrefix = `spotauth-test-${uniqueSuffix()}:`;
    const store = await RedisStore.open(url, { keyring: keyringOf('k1'), keyPrefix });
    try {
      // A user who logs in on a new device every day and logs out (or lets the session lapse) each time.
      for (let day = 0; day < 100; day++) {
        await store.entries.put('session', { id: `s${day}`, value: 'v', tag: 'user:ada' });
        await store.entries.delete('session', `s${day}`);
      }
      await store.entries.put('session', { id: 'live', value: 'v', tag: 'user:ada' });
      const members = await admin.smembers(`${keyPrefix}tag:session:user:ada`);
      expect(members.length).toBeLessThanOrEqual(17);
      expect(members).toContain('live');
      expect(await store.entries.deleteByTag('session', 'user:ada')).toBe(1);
    } finally {
      await store.close();
      const keys = await keysUnder(keyPrefix);
      if (keys.length) await admin.del(...keys);
    }
  });

  it('reports an unreachable server as STORE_UNAVAILABLE without the password', async () => {
    const target = new URL(url);
    target.password = 'hunter2-secret';
    target.port = '1';
    const error = await RedisStore.open(target.toString(), {
      keyring: keyringOf('k1'),
      connectTimeoutMs: 1000,
    }).catch((e: unknown) => e);
    expectCode(error, 'STORE_UNAVAILABLE');
    expect((error as Error).message).toContain(`${target.hostname}:1`);
    expect((error as Error).message).not.toContain('hunter2-secret');
  });
});
