import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStore, FileStore, MemoryStore, parseStoreUrl, SqliteStore } from '../../src/stores/index.js';
import { expectCode } from './contract.js';
import { keyringOf } from './helpers.js';

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
