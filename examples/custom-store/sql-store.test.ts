/**
 * The example store against the same contract suite the built-in stores pass, imported from the built
 * package as a third party would (`spotauth/testing`), plus its registration through a store URL.
 */
import Database from 'better-sqlite3';
import { createStore } from 'spotauth/stores';
import { storeContract, testKeyring } from 'spotauth/testing';
import { expect, it } from 'vitest';
import { registerSqlStore, SqlStore } from './sql-store.js';

storeContract('example SQL store', async () => {
  const db = new Database(':memory:');
  return {
    // Every store opened here shares `db`, as processes share a database server.
    shared: true,
    makeStore: async (keyring = testKeyring('k1')) => new SqlStore(db, keyring),
    readRaw: async () =>
      ['records', 'entries', 'outbox', 'quarantine']
        .map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()))
        .join('\n'),
    tamper: async (key) => {
      const row = db.prepare('SELECT sealed FROM records WHERE key = ?').get(key) as { sealed: string };
      const sealed = JSON.parse(row.sealed) as { accessTokenEnc: string };
      const at = sealed.accessTokenEnc.length - 2;
      const flipped = sealed.accessTokenEnc[at] === 'A' ? 'B' : 'A';
      sealed.accessTokenEnc =
        sealed.accessTokenEnc.slice(0, at) + flipped + sealed.accessTokenEnc.slice(at + 1);
      db.prepare('UPDATE records SET sealed = ? WHERE key = ?').run(JSON.stringify(sealed), key);
    },
    cleanup: async () => {
      db.close();
    },
  };
});

it('opens through createStore once registered, and needs a keyring like every persistent store', async () => {
  const databases = new Map<string, Database.Database>();
  registerSqlStore(async (name) => {
    const db = databases.get(name) ?? new Database(':memory:');
    databases.set(name, db);
    return db;
  });
  await expect(createStore('sql-example:shared')).rejects.toThrow(/needs an encryption key/);
  const keyring = testKeyring('k1');
  const writer = await createStore('sql-example:shared', { keyring });
  const reader = await createStore('sql-example:shared', { keyring });
  await writer.put(
    {
      key: 'user:ada',
      accessToken: 'at',
      accessTokenExpiresAt: Date.now() + 3_600_000,
      status: 'active',
      scope: [],
      authorizedAt: Date.now(),
    },
    null,
  );
  expect(await reader.get('user:ada')).toMatchObject({ key: 'user:ada', accessToken: 'at', version: 1 });
  expect(reader.kind).toBe('sql-example');
});
