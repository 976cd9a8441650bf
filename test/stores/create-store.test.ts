import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createStore,
  FileStore,
  MemoryStore,
  parseStoreUrl,
  SqliteStore,
  storeLocation,
} from '../../src/stores/index.js';
import { expectCode } from '../../src/testing/store-contract.js';
import {
  DATABASE_URL,
  deleteRedisPrefix,
  dropPostgresSchema,
  REDIS_URL,
  serviceAvailable,
} from '../support/services.js';
import { keyringOf, sampleRecord, uniqueSuffix } from './helpers.js';

/** `url` with one more query parameter. */
function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

describe('parseStoreUrl', () => {
  it.each([
    ['memory:', 'memory', ''],
    ['postgres://u@h/db', 'postgres', 'postgres://u@h/db'],
    ['postgresql://u@h/db', 'postgres', 'postgresql://u@h/db'],
    ['redis://h:6379', 'redis', 'redis://h:6379'],
    ['rediss://h:6380', 'redis', 'rediss://h:6380'],
    ['sqlite:./t.db', 'sqlite', './t.db'],
    ['sqlite:///var/lib/t.db', 'sqlite', '/var/lib/t.db'],
    ['/var/lib/tokens.sqlite3', 'sqlite', '/var/lib/tokens.sqlite3'],
    ['tokens.sqlite', 'sqlite', 'tokens.sqlite'],
    ['data/t.db', 'sqlite', 'data/t.db'],
    ['file:./creds', 'file', './creds'],
    ['./creds.json', 'file', './creds.json'],
    ['~/x.json', 'file', join(homedir(), 'x.json')],
  ])('%s → %s', (url, backend, target) => {
    expect(parseStoreUrl(url)).toEqual({ backend, target });
  });

  it('rejects unknown stores without echoing a password', () => {
    let error: unknown;
    try {
      parseStoreUrl('mysql://root:hunter2@h/db');
    } catch (e) {
      error = e;
    }
    expectCode(error, 'INVALID_CONFIG');
    expect((error as Error).message).not.toContain('hunter2');
    expect(() => parseStoreUrl('sqlite:')).toThrow(/names no file path/);
  });
});

describe('createStore', () => {
  it('opens memory without a keyring and requires one for persistent stores', async () => {
    expect(await createStore('memory:')).toBeInstanceOf(MemoryStore);
    for (const url of ['file:/tmp/x.json', 'sqlite:/tmp/x.db', 'postgres://h/db', 'redis://h']) {
      const error = await createStore(url).catch((e: unknown) => e);
      expectCode(error, 'INVALID_CONFIG');
      expect((error as Error).message).toMatch(/needs an encryption key: set SPOTAUTH_ENCRYPTION_KEYS/);
    }
  });

  it('opens file and sqlite stores', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spotauth-create-'));
    try {
      const file = await createStore(join(dir, 'a.json'), { keyring: keyringOf('k1') });
      expect(file).toBeInstanceOf(FileStore);
      const sqlite = await createStore(`sqlite:${join(dir, 'b.db')}`, { keyring: keyringOf('k1') });
      expect(sqlite).toBeInstanceOf(SqliteStore);
      expect(sqlite.describe()).toBe(`sqlite ${join(dir, 'b.db')}`);
      await sqlite.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the store URL names the schema (PostgreSQL) or key prefix (Redis)', () => {
  it.each([
    ['postgres', 'postgres://u@h/db?schema=app_one', { url: 'postgres://u@h/db', schema: 'app_one' }],
    [
      'postgres',
      'postgres://u@h/db?sslmode=require&schema=s1',
      { url: 'postgres://u@h/db?sslmode=require', schema: 's1' },
    ],
    ['postgres', 'postgres://u@h/db?sslmode=require', { url: 'postgres://u@h/db?sslmode=require' }],
    ['redis', 'redis://h:6379/2?prefix=app%3A', { url: 'redis://h:6379/2', keyPrefix: 'app:' }],
    ['redis', 'redis://h?family=6&prefix=a.b-c_d:', { url: 'redis://h?family=6', keyPrefix: 'a.b-c_d:' }],
    ['redis', 'redis://h:6379', { url: 'redis://h:6379' }],
  ] as const)('%s %s', (backend, url, expected) => {
    expect(storeLocation(backend, url)).toEqual(expected);
  });

  it.each([
    ['redis', 'redis://h?prefix='],
    ['redis', 'redis://h?prefix=a%20b'],
    ['redis', `redis://h?prefix=${'x'.repeat(65)}`],
    ['redis', 'redis://h?prefix=a&prefix=b'],
    ['postgres', 'postgres://h/db?schema=a&schema=b'],
  ] as const)('refuses %s %s', (backend, url) => {
    let error: unknown;
    try {
      storeLocation(backend, url);
    } catch (e) {
      error = e;
    }
    expectCode(error, 'INVALID_CONFIG');
  });

  it('PostgreSQL: ?schema= puts the tables in that schema', async (context) => {
    if (!(await serviceAvailable('postgres'))) return context.skip();
    const schema = `spotauth_url_${uniqueSuffix()}`;
    try {
      const store = await createStore(withParam(DATABASE_URL, 'schema', schema), {
        keyring: keyringOf('k1'),
      });
      expect(store.describe()).toContain(`(schema ${schema})`);
      await store.put(sampleRecord('user:url-schema'), null);
      await store.close();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}".spotauth_tokens`);
      await client.end();
      expect(rows[0].n).toBe(1);
    } finally {
      await dropPostgresSchema(schema);
    }
  });

  it('Redis: ?prefix= is the key prefix, and never reaches ioredis as an option', async (context) => {
    if (!(await serviceAvailable('redis'))) return context.skip();
    const prefix = `spotauth-url-${uniqueSuffix()}:`;
    try {
      const store = await createStore(withParam(REDIS_URL, 'prefix', prefix), { keyring: keyringOf('k1') });
      expect(store.describe()).toContain(`(key prefix ${prefix})`);
      expect(store.describe()).not.toContain('?');
      await store.put(sampleRecord('user:url-prefix'), null);
      await store.close();
      const { Redis } = await import('ioredis');
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`${prefix}*`);
      await admin.quit();
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith(prefix))).toBe(true);
    } finally {
      await deleteRedisPrefix(prefix);
    }
  });
});
