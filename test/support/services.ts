import { Redis } from 'ioredis';
import pg from 'pg';

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
