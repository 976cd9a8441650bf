/**
 * Broker service keys: their shape, what `keys create` accepts, the per-instance verifier (constant-time
 * checks, the ≤ 500 ms cache that bounds revocation, single-flight reads, throttled last-use writes) on a
 * fake clock, and create/list/revoke on every persistent store (SQLite, file, PostgreSQL, Redis).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BrokerKeys,
  checkNewKey,
  KEY_NAMESPACE,
  KEY_USAGE_NAMESPACE,
  KeyInputError,
  KeyVerifier,
  parseKey,
} from '../../src/broker/keys.js';
import { MemoryEntries } from '../../src/stores/entries.js';
import { FileStore } from '../../src/stores/file.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import type { StoredEntry, TokenStore } from '../../src/stores/types.js';
import { keyringOf, uniqueSuffix } from '../stores/helpers.js';
import { must } from '../support/must.js';
import {
  DATABASE_URL,
  deleteRedisPrefix,
  dropPostgresSchema,
  REDIS_URL,
  serviceAvailable,
} from '../support/services.js';

/** MemoryEntries that counts reads and writes per namespace. */
class CountingEntries extends MemoryEntries {
  readonly reads = new Map<string, number>();
  readonly writes = new Map<string, number>();
  override async get(namespace: string, id: string): Promise<StoredEntry | null> {
    this.reads.set(namespace, (this.reads.get(namespace) ?? 0) + 1);
    return super.get(namespace, id);
  }
  override async put(namespace: string, entry: StoredEntry): Promise<void> {
    this.writes.set(namespace, (this.writes.get(namespace) ?? 0) + 1);
    return super.put(namespace, entry);
  }
}

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number): void => {
      now += ms;
    },
  };
}

const bearer = (key: string) => `Bearer ${key}`;

describe('key shape and input', () => {
  it('is sk_<16 hex id>_<64 hex secret>: 256 random bits, never twice the same', async () => {
    const keys = new BrokerKeys(new MemoryEntries());
    const made = await Promise.all(Array.from({ length: 50 }, () => keys.create({ name: 'x' })));
    for (const { key } of made) expect(key).toMatch(/^sk_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(new Set(made.map(({ key }) => must(parseKey(key), 'parseKey(key)').secret)).size).toBe(50);
    expect(new Set(made.map(({ record }) => record.id)).size).toBe(50);
    expect(parseKey('sk_abc_def')).toBeNull();
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(65) }, 'name'],
    [{ name: 'evil\u001b[2J' }, 'name'],
    [{ name: 'ok', users: [] }, '--users'],
    [{ name: 'ok', users: ['../etc'] }, 'not a Spotify account id'],
    [{ name: 'ok', users: Array.from({ length: 501 }, (_, i) => `u${i}`) }, 'at most'],
    [{ name: 'ok', scopes: ['user-read-birthdate'] }, 'Spotify removed it'],
    [{ name: 'ok', scopes: ['frobnicate'] }, 'not a Spotify Web API scope'],
    [{ name: 'ok', scopes: [] }, '--scopes'],
    [{ name: 'ok', expiresInDays: 0 }, '--expires'],
    [{ name: 'ok', expiresInDays: 1.5 }, '--expires'],
    [{ name: 'ok', expiresInDays: 3651 }, '--expires'],
  ])('refuses %j with a message about %s', (input, words) => {
    let error: unknown;
    try {
      checkNewKey(input, Date.now());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyInputError);
    expect((error as Error).message).toContain(words);
  });

  it('normalises what it accepts', () => {
    expect(
      checkNewKey(
        { name: ' stats ', users: ['a', ' b ', 'a'], scopes: ['user-top-read'], expiresInDays: 2 },
        0,
      ),
    ).toEqual({
      name: 'stats',
      users: ['a', 'b'],
      scopes: ['user-top-read'],
      proxy: false,
      expiresAt: 2 * 86_400_000,
      revokedAt: null,
    });
  });
});

describe('KeyVerifier', () => {
  it('accepts a valid key with its permissions, and says why it refuses the others', async () => {
    const entries = new MemoryEntries();
    const keys = new BrokerKeys(entries);
    const verifier = new KeyVerifier({ keys, bootstrap: ['bootstrap-key-0123456789abcdef0123456789'] });
    const { key, record } = await keys.create({
      name: 'svc',
      users: ['a'],
      scopes: ['user-top-read'],
      proxy: true,
    });
    expect(await verifier.verify(bearer(key))).toEqual({
      principal: {
        keyId: record.id,
        name: 'svc',
        permissions: { users: ['a'], scopes: ['user-top-read'], proxy: true },
      },
    });
    expect(await verifier.verify(`bearer ${key}`)).toHaveProperty('principal');
    const bootstrap = await verifier.verify(bearer('bootstrap-key-0123456789abcdef0123456789'));
    expect(bootstrap).toMatchObject({
      principal: { keyId: 'bootstrap', permissions: { users: 'all', proxy: true } },
    });
    const cases: [string | undefined, string][] = [
      [undefined, 'missing'],
      ['Basic dXNlcjpwYXNz', 'malformed'],
      [bearer('x'.repeat(600)), 'malformed'],
      [bearer('bootstrap-key-0123456789abcdef012345678'), 'malformed'],
      [bearer(`sk_${record.id}_${'0'.repeat(64)}`), 'wrong_secret'],
      [bearer(`sk_ffffffffffffffff_${'0'.repeat(64)}`), 'unknown'],
    ];
    for (const [header, reason] of cases)
      expect(await verifier.verify(header), String(header)).toMatchObject({ rejected: reason });
    expect(await verifier.verify(bearer(`sk_${record.id}_${'0'.repeat(64)}`))).toMatchObject({
      keyId: record.id,
    });
  });

  it('trusts its memory of a key for at most 500 ms (capped), so a revocation shows within that', async () => {
    const entries = new CountingEntries();
    const time = clock();
    const keys = new BrokerKeys(entries, time.now);
    const verifier = new KeyVerifier({ keys, bootstrap: [], cacheMs: 60_000, now: time.now });
    const { key, record } = await keys.create({ name: 'svc' });
    const reads = () => entries.reads.get(KEY_NAMESPACE) ?? 0;
    const before = reads();
    expect(await verifier.verify(bearer(key))).toHaveProperty('principal');
    expect(reads()).toBe(before + 1);
    await keys.revoke(record.id);
    time.advance(499);
    expect(await verifier.verify(bearer(key))).toHaveProperty('principal'); // still remembered
    expect(reads()).toBe(before + 2); // (revoke read it once)
    time.advance(1);
    expect(await verifier.verify(bearer(key))).toMatchObject({ rejected: 'revoked' });
    expect(reads()).toBe(before + 3);
  });

  it('refuses a key at its expiry, whatever it remembers', async () => {
    const time = clock();
    const keys = new BrokerKeys(new MemoryEntries(), time.now);
    const verifier = new KeyVerifier({ keys, bootstrap: [], now: time.now });
    const { key } = await keys.create({ name: 'svc', expiresAt: time.now() + 100 });
    expect(await verifier.verify(bearer(key))).toHaveProperty('principal');
    time.advance(100);
    expect(await verifier.verify(bearer(key))).toMatchObject({ rejected: 'expired' });
  });

  it('reads a key once for concurrent requests', async () => {
    const entries = new CountingEntries();
    const keys = new BrokerKeys(entries);
    const { key } = await keys.create({ name: 'svc' });
    const verifier = new KeyVerifier({ keys, bootstrap: [] });
    const before = entries.reads.get(KEY_NAMESPACE) ?? 0;
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(bearer(key))));
    expect(verdicts.every((verdict) => 'principal' in verdict)).toBe(true);
    expect(entries.reads.get(KEY_NAMESPACE)).toBe(before + 1);
  });

  it('writes the last use back at most once a minute per key, apart from the key (a revocation survives it)', async () => {
    const entries = new CountingEntries();
    const time = clock();
    const keys = new BrokerKeys(entries, time.now);
    const verifier = new KeyVerifier({ keys, bootstrap: [], now: time.now });
    const { key, record } = await keys.create({ name: 'svc' });
    const touches = () => entries.writes.get(KEY_USAGE_NAMESPACE) ?? 0;
    for (let i = 0; i < 5; i++) {
      await verifier.verify(bearer(key));
      time.advance(1_000);
    }
    expect(touches()).toBe(1);
    time.advance(60_000);
    await verifier.verify(bearer(key));
    expect(touches()).toBe(2);
    await keys.revoke(record.id);
    await keys.touch(record.id, time.now());
    const [listed] = await keys.list();
    expect(listed).toMatchObject({ status: 'revoked', lastUsedAt: time.now() });
  });
});

/** create, list, revoke and find on one store, seen through a second connection to it. */
function keyStoreContract(
  name: string,
  open: () => Promise<{ a: TokenStore; b: TokenStore; raw?: () => string }>,
) {
  it(`${name}: create, list and revoke, seen by another connection; the secret is never stored`, async () => {
    const { a, b, raw } = await open();
    try {
      const created = await new BrokerKeys(a.entries).create({
        name: 'playlist bot',
        users: ['acct_1'],
        scopes: ['playlist-modify-private'],
        proxy: true,
        expiresInDays: 30,
      });
      const other = new BrokerKeys(b.entries);
      const [listed] = await other.list();
      expect(listed).toMatchObject({
        id: created.record.id,
        name: 'playlist bot',
        users: ['acct_1'],
        scopes: ['playlist-modify-private'],
        proxy: true,
        status: 'active',
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(must(listed, 'listed').expiresAt).toBe(created.record.createdAt + 30 * 86_400_000);
      const verifier = new KeyVerifier({ keys: other, bootstrap: [], cacheMs: 0 });
      expect(await verifier.verify(bearer(created.key))).toHaveProperty('principal');
      expect(await new BrokerKeys(a.entries).revoke(created.record.id)).toMatchObject({
        revokedAt: expect.any(Number),
      });
      expect(await verifier.verify(bearer(created.key))).toMatchObject({ rejected: 'revoked' });
      expect((await other.list())[0]).toMatchObject({ status: 'revoked' });
      expect(await other.revoke('0123456789abcdef')).toBeNull();
      if (raw) {
        const bytes = raw();
        expect(bytes).not.toContain(must(parseKey(created.key), 'parseKey(created.key)').secret);
        expect(bytes).not.toContain('playlist bot'); // entries are encrypted at rest
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
}

const postgres = await serviceAvailable('postgres');
const redis = await serviceAvailable('redis');

describe('keys on every persistent store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spotauth-broker-keys-'));
  const schema = `spotauth_broker_${uniqueSuffix()}`;
  const keyPrefix = `spotauth-broker-${uniqueSuffix()}:`;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (postgres) await dropPostgresSchema(schema);
    if (redis) await deleteRedisPrefix(keyPrefix);
  });

  keyStoreContract('sqlite', async () => {
    const path = join(dir, 'keys.sqlite');
    const a = await SqliteStore.open(path, { keyring: keyringOf('k1') });
    const b = await SqliteStore.open(path, { keyring: keyringOf('k1') });
    return { a, b, raw: () => readFileSync(path, 'latin1') + readFileSync(`${path}-wal`, 'latin1') };
  });
  keyStoreContract('file', async () => {
    const path = join(dir, 'keys.json');
    return {
      a: new FileStore(path, { keyring: keyringOf('k1') }),
      b: new FileStore(path, { keyring: keyringOf('k1') }),
      raw: () => readFileSync(`${path}.entries.json`, 'utf8'),
    };
  });
  describe.skipIf(!postgres)('postgres', () => {
    keyStoreContract('postgres', async () => ({
      a: await PostgresStore.open(DATABASE_URL, { keyring: keyringOf('k1'), schema, poolSize: 2 }),
      b: await PostgresStore.open(DATABASE_URL, { keyring: keyringOf('k1'), schema, poolSize: 2 }),
    }));
  });
  describe.skipIf(!redis)('redis', () => {
    keyStoreContract('redis', async () => ({
      a: await RedisStore.open(REDIS_URL, { keyring: keyringOf('k1'), keyPrefix }),
      b: await RedisStore.open(REDIS_URL, { keyring: keyringOf('k1'), keyPrefix }),
    }));
  });
});
