import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS, PostgresStore } from '../../src/stores/postgres.js';
import { expectCode, storeContract } from '../../src/testing/store-contract.js';
import { must } from '../support/must.js';
import { keyringOf, sampleRecord, serviceGate, sleep, uniqueSuffix } from './helpers.js';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 3000 });
admin.on('error', () => {});
const gate = await serviceGate('PostgreSQL', new URL(url).host, async () => {
  await admin.query('SELECT 1');
});
afterAll(() => admin.end());

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

storeContract(
  'postgres',
  async () => {
    const schema = `spotauth_test_${uniqueSuffix()}`;
    return {
      shared: true,
      makeStore: (keyring = keyringOf('k1')) => PostgresStore.open(url, { keyring, schema, poolSize: 5 }),
      readRaw: async () => {
        const tables = [
          'spotauth_tokens',
          'spotauth_locks',
          'spotauth_schema_migrations',
          'spotauth_entries',
          'spotauth_quarantine',
        ];
        const rows = await Promise.all(tables.map((t) => admin.query(`SELECT * FROM "${schema}".${t}`)));
        return JSON.stringify(rows.map((r) => r.rows));
      },
      tamper: async (key) => {
        await admin.query(
          `UPDATE "${schema}".spotauth_tokens
             SET access_token = overlay(access_token placing (CASE WHEN substr(access_token, length(access_token) - 1, 1) = 'A' THEN 'B' ELSE 'A' END) from length(access_token) - 1 for 1)
           WHERE key = $1`,
          [key],
        );
      },
      cleanup: () => dropSchema(schema),
    };
  },
  { skip: !gate.run, failure: gate.failure },
);

describe.skipIf(!gate.run)('PostgresStore specifics', () => {
  it('applies migrations once when four processes start together', async () => {
    const schema = `spotauth_test_${uniqueSuffix()}`;
    try {
      const stores = await Promise.all(
        [1, 2, 3, 4].map(() => PostgresStore.open(url, { keyring: keyringOf('k1'), schema, poolSize: 2 })),
      );
      const { rows } = await admin.query(`SELECT version FROM "${schema}".spotauth_schema_migrations`);
      expect(rows).toEqual(POSTGRES_MIGRATIONS.map(({ version }) => ({ version })));
      await must(stores[0], 'stores[0]').put(sampleRecord('user:ada'), null);
      expect(await must(stores[3], 'stores[3]').get('user:ada')).not.toBeNull();
      for (const store of stores) await store.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it('supports a table prefix and keeps the password out of describe() and errors', async () => {
    const schema = `spotauth_test_${uniqueSuffix()}`;
    const withPassword = new URL(url);
    withPassword.password = 'hunter2-secret';
    try {
      const store = await PostgresStore.open(url, { keyring: keyringOf('k1'), schema, tablePrefix: 'app_' });
      await store.put(sampleRecord('user:ada'), null);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".app_tokens`);
      expect(rows[0].n).toBe(1);
      await store.close();
    } finally {
      await dropSchema(schema);
    }
    const unreachable = new URL(withPassword);
    unreachable.port = '1';
    const error = await PostgresStore.open(unreachable.toString(), {
      keyring: keyringOf('k1'),
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expectCode(error, 'STORE_UNAVAILABLE');
    expect((error as Error).message).toContain(`${unreachable.hostname}:1`);
    expect((error as Error).message).not.toContain('hunter2-secret');
  });

  it('tells waiters of a release by LISTEN/NOTIFY on a channel of their own schema', async () => {
    const schema = `spotauth_test_${uniqueSuffix()}`;
    const otherSchema = `spotauth_test_${uniqueSuffix()}`;
    const holder = await PostgresStore.open(url, { keyring: keyringOf('k1'), schema, poolSize: 2 });
    const waiter = await PostgresStore.open(url, { keyring: keyringOf('k1'), schema, poolSize: 2 });
    const stranger = await PostgresStore.open(url, { keyring: keyringOf('k1'), schema: otherSchema });
    const observer = new pg.Client({ connectionString: url });
    try {
      const lease = await holder.tryLock('refresh:user:ada', 30_000);
      const woke = waiter.waitForRelease('refresh:user:ada', 25_000).then(() => true);
      // The same lock name held in another schema must not be woken by this release.
      const strangerLease = await stranger.tryLock('refresh:user:ada', 30_000);
      let strangerWoke = false;
      void stranger.waitForRelease('refresh:user:ada', 2_000).then(() => {
        strangerWoke = true;
      });
      const listens = async () =>
        (
          await admin.query<{ query: string }>(
            "SELECT query FROM pg_stat_activity WHERE query LIKE 'LISTEN \"spotauth_released_%'",
          )
        ).rows.map((r) => r.query);
      for (let i = 0; i < 100 && (await listens()).length < 2; i++) await sleep(50);
      const channels = [...new Set(await listens())];
      expect(channels).toHaveLength(2); // one per schema
      await observer.connect();
      const heard: string[] = [];
      observer.on('notification', (m) => heard.push(`${m.channel}:${m.payload}`));
      for (const listen of channels) await observer.query(listen);
      await must(lease, 'lease').release();
      expect(await Promise.race([woke, sleep(15_000).then(() => false)])).toBe(true);
      await sleep(100);
      expect(heard).toHaveLength(1);
      expect(heard[0]).toMatch(/^spotauth_released_[0-9a-f]{16}:refresh:user:ada$/);
      expect(strangerWoke).toBe(false);
      await must(strangerLease, 'strangerLease').release();
    } finally {
      await observer.end().catch(() => {});
      await holder.close();
      await waiter.close();
      await stranger.close();
      await dropSchema(schema);
      await dropSchema(otherSchema);
    }
  });

  it('rejects unsafe schema names', async () => {
    const error = await PostgresStore.open(url, {
      keyring: keyringOf('k1'),
      schema: 'x"; DROP TABLE y; --',
    }).catch((e: unknown) => e);
    expectCode(error, 'INVALID_CONFIG');
  });
});
