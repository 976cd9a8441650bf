import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS, SqliteStore } from '../../src/stores/sqlite.js';
import { expectCode, storeContract } from '../../src/testing/store-contract.js';
import { must } from '../support/must.js';
import { keyringOf, sampleRecord } from './helpers.js';

/** The database as it sits on disk: main file plus WAL (committed pages may live only in the WAL). */
async function pages(path: string): Promise<string> {
  const parts = await Promise.all(['', '-wal'].map((s) => readFile(path + s, 'latin1').catch(() => '')));
  return parts.join('');
}

storeContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spotauth-sqlite-'));
  const path = join(dir, 'tokens.db');
  return {
    shared: true,
    makeStore: (keyring = keyringOf('k1')) => SqliteStore.open(path, { keyring }),
    readRaw: () => pages(path),
    tamper: async (key) => {
      const db = new Database(path);
      const { access_token: env } = db
        .prepare('SELECT access_token FROM spotauth_tokens WHERE key = ?')
        .get(key) as {
        access_token: string;
      };
      const flipped = env.slice(0, -2) + (env.at(-2) === 'A' ? 'B' : 'A') + env.at(-1);
      db.prepare('UPDATE spotauth_tokens SET access_token = ? WHERE key = ?').run(flipped, key);
      db.close();
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore on disk', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotauth-sqlite-'));
    path = join(dir, 'sub', 'tokens.db');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the database 0600 in WAL mode and records its migrations once', async () => {
    const stores = await Promise.all(
      [1, 2, 3, 4].map(() => SqliteStore.open(path, { keyring: keyringOf('k1') })),
    );
    await must(stores[0], 'stores[0]').put(sampleRecord('user:ada'), null);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}-wal`)).mode & 0o777).toBe(0o600);
    for (const store of stores) await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM spotauth_schema_migrations').all()).toEqual(
      SQLITE_MIGRATIONS.map(({ version }) => ({ version })),
    );
    db.close();
    const reopened = await SqliteStore.open(path, { keyring: keyringOf('k1') });
    expect(await reopened.get('user:ada')).not.toBeNull();
    await reopened.close();
  });

  it('reports a file that is not a database as STORE_CORRUPT', async () => {
    const file = join(dir, 'junk.db');
    await writeFile(file, 'this is not a sqlite database, not even close'.repeat(100));
    const error = await SqliteStore.open(file, { keyring: keyringOf('k1') }).catch((e: unknown) => e);
    expectCode(error, 'STORE_CORRUPT');
    expect((error as Error).message).toContain(file);
  });

  it('reports an unopenable path as STORE_UNAVAILABLE', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    const error = await SqliteStore.open(join(dir, 'plain', 'tokens.db'), { keyring: keyringOf('k1') }).catch(
      (e: unknown) => e,
    );
    expectCode(error, 'STORE_UNAVAILABLE');
  });
});
