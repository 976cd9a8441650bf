import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { CreateStoreOptions } from '../../src/stores/index.js';

export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * Whether a real service can be used. Absent → the tests skip, loudly; but under CI (CI set) an absent
 * service fails the run instead, since CI must exercise it.
 */
export async function serviceAvailable(name: 'postgres' | 'redis'): Promise<boolean> {
  try {
    if (name === 'postgres') {
      const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    } else {
      const redis = new Redis(REDIS_URL, {
        lazyConnect: true,
        connectTimeout: 3000,
        maxRetriesPerRequest: 0,
      });
      await redis.connect();
      await redis.quit();
    }
    return true;
  } catch (error) {
    const message = `${name} is not reachable (${(error as Error).message}); its tests cannot run.`;
    if (process.env['CI']) throw new Error(`${message} CI requires it.`);
    console.warn(`\n*** SKIPPING ${name.toUpperCase()} TESTS: ${message} ***\n`);
    return false;
  }
}

export async function dropPostgresSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

/** A store that several processes can share, set up in a namespace of its own for each test. */
export interface SharedStoreBackend {
  name: string;
  /** The service it needs (its tests skip, loudly, when it is absent). */
  service?: 'postgres' | 'redis';
  setup(): { url: string; options: CreateStoreOptions; cleanup(): Promise<void> };
}

/** The cross-process stores, by kind: a SQLite or JSON file in a temp folder, a PostgreSQL schema, a Redis prefix. */
export function sharedStoreBackends(
  tag: string,
  kinds: ReadonlyArray<'sqlite' | 'file' | 'postgres' | 'redis'>,
): SharedStoreBackend[] {
  const inTempDir = (name: string, scheme: string, file: string): SharedStoreBackend => ({
    name,
    setup() {
      const dir = mkdtempSync(join(tmpdir(), `spotauth-${tag}-`));
      return {
        url: `${scheme}:${join(dir, file)}`,
        options: {},
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  });
  const all: Record<(typeof kinds)[number], SharedStoreBackend> = {
    sqlite: inTempDir('SQLite', 'sqlite', 'tokens.sqlite'),
    file: inTempDir('file (the CLI’s store)', 'file', 'tokens.json'),
    postgres: {
      name: 'PostgreSQL',
      service: 'postgres',
      setup() {
        const schema = `spotauth_${tag}_${randomBytes(4).toString('hex')}`;
        return { url: DATABASE_URL, options: { schema }, cleanup: () => dropPostgresSchema(schema) };
      },
    },
    redis: {
      name: 'Redis',
      service: 'redis',
      setup() {
        const keyPrefix = `spotauth-${tag}-${randomBytes(4).toString('hex')}:`;
        return { url: REDIS_URL, options: { keyPrefix }, cleanup: () => deleteRedisPrefix(keyPrefix) };
      },
    },
  };
  return kinds.map((kind) => all[kind]);
}
