import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import { expectCode, storeContract } from '../../src/testing/store-contract.js';
import { must } from '../support/must.js';
import { keyFor, keyringOf, sampleRecord } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, 'fixtures', 'file-store-child.mjs');

async function readIfExists(path: string): Promise<string> {
  return readFile(path, 'latin1').catch(() => '');
}

storeContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spotauth-file-'));
  const path = join(dir, 'nested', 'tokens.json');
  return {
    shared: true,
    makeStore: async (keyring = keyringOf('k1')) => new FileStore(path, { keyring }),
    readRaw: async () =>
      (await readIfExists(path)) +
      (await readIfExists(`${path}.bak`)) +
      (await readIfExists(`${path}.entries.json`)),
    tamper: async (key) => {
      const body = JSON.parse(await readFile(path, 'utf8'));
      const env: string = body.records[key].accessTokenEnc;
      body.records[key].accessTokenEnc = env.slice(0, -2) + (env.at(-2) === 'A' ? 'B' : 'A') + env.at(-1);
      await writeFile(path, JSON.stringify(body));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FileStore on disk', () => {
  let dir: string;
  let path: string;
  let store: FileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotauth-file-'));
    path = join(dir, 'conf', 'tokens.json');
    store = new FileStore(path, { keyring: keyringOf('k1') });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the directory 0700 and the file 0600', async () => {
    await store.put(sampleRecord('user:ada'), null);
    await store.put(sampleRecord('user:ada'), 1);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}.bak`)).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous good file as .bak', async () => {
    await store.put(sampleRecord('user:ada'), null);
    const first = await readFile(path, 'utf8');
    await store.put(sampleRecord('user:bob'), null);
    expect(await readFile(`${path}.bak`, 'utf8')).toBe(first);
  });

  it.each([
    ['garbage', 'not json {{{'],
    ['empty', ''],
    ['truncated', '{"format":"spotauth-file-store","version":1,"rec'],
  ])('reports a %s file as STORE_CORRUPT naming the backup, and can restore it', async (_label, content) => {
    await store.put(sampleRecord('user:ada'), null);
    await store.put(sampleRecord('user:bob'), null);
    await writeFile(path, content);
    for (const attempt of [
      () => store.get('user:ada'),
      () => store.list(),
      () => store.put(sampleRecord('user:cy'), null),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expectCode(error, 'STORE_CORRUPT');
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain(`backup of the previous version exists at ${path}.bak`);
    }
    expect(await readFile(path, 'utf8')).toBe(content);
    expect(await store.restoreBackup()).toBe(1);
    expect((await store.list()).map((r) => r.key)).toEqual(['user:ada']);
    expect(await readFile(`${path}.corrupt`, 'utf8')).toBe(content);
  });

  it('says so when there is no usable backup', async () => {
    await store.put(sampleRecord('user:ada'), null);
    await writeFile(path, '');
    await expect(store.get('user:ada')).rejects.toThrow(/No backup exists/);
    await store.put(sampleRecord('user:ada'), null).catch(() => {});
    await writeFile(`${path}.bak`, 'junk');
    await expect(store.get('user:ada')).rejects.toThrow(/backup .* is unusable too/);
    expectCode(await store.restoreBackup().catch((e: unknown) => e), 'STORE_CORRUPT');
  });

  it('does not treat a deleted file with a surviving backup as logged out', async () => {
    await store.put(sampleRecord('user:ada'), null);
    await store.put(sampleRecord('user:bob'), null);
    await rm(path);
    expectCode(await store.get('user:ada').catch((e: unknown) => e), 'STORE_CORRUPT');
    await store.restoreBackup();
    expect(await store.get('user:ada')).not.toBeNull();
  });

  it('rejects a file from a newer format version', async () => {
    await store.put(sampleRecord('user:ada'), null);
    await writeFile(path, JSON.stringify({ format: 'spotauth-file-store', version: 2, records: {} }));
    await expect(store.get('user:ada')).rejects.toThrow(/format version 2 is not supported/);
  });

  it('never exposes a partial file to a concurrent reader and leaves no temp files', async () => {
    const big = { blob: 'x'.repeat(200_000) };
    await store.put(sampleRecord('user:ada', { meta: big }), null);
    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        const text = await readFile(path, 'utf8');
        JSON.parse(text);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let v = 1; v <= 30; v++) await store.put(sampleRecord('user:ada', { meta: big }), v);
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    const leftovers = (await readdir(dirname(path))).filter((f) => f.endsWith('.tmp') || f.includes('.lock'));
    expect(leftovers).toEqual([]);
  });

  it('breaks a stale write lock left by a crashed process', async () => {
    await store.put(sampleRecord('user:ada'), null);
    const lock = { owner: 'dead', pid: 999_999_999, host: 'elsewhere', expiresAt: Date.now() - 1 };
    await writeFile(`${path}.lock`, JSON.stringify(lock));
    const started = Date.now();
    await store.put(sampleRecord('user:ada'), 1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('waits for a live write lock and then times out with LOCK_TIMEOUT', async () => {
    await store.put(sampleRecord('user:ada'), null);
    const lock = { owner: 'other', pid: process.pid, host: 'elsewhere', expiresAt: Date.now() + 60_000 };
    await writeFile(`${path}.lock`, JSON.stringify(lock));
    const impatient = new FileStore(path, { keyring: keyringOf('k1'), lockTimeoutMs: 200 });
    expectCode(await impatient.put(sampleRecord('user:ada'), 1).catch((e: unknown) => e), 'LOCK_TIMEOUT');
    expect((await store.get('user:ada'))?.version).toBe(1);
  });
});

/**
 * Real separate processes. Node 20 cannot run TypeScript, so the test bundles the real src/stores/file.ts with
 * esbuild (already installed as tsup's engine) and the child script imports that bundle: the protocol under test
 * is the shipped code, not a re-implementation.
 */
describe('FileStore across processes', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotauth-procs-'));
    bundle = join(dir, 'file-store.mjs');
    await build({
      stdin: {
        contents: "export { FileStore } from './file.ts';\nexport { Keyring } from './encryption.ts';\n",
        resolveDir: join(here, '../../src/stores'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serialises writes and locks between two child processes and this one', async () => {
    const path = join(dir, 'shared', 'tokens.json');
    const log = join(dir, 'critical.log');
    const rounds = 15;
    const keys = `k1:${keyFor('k1').toString('base64')}`;
    const setup = new FileStore(path, { keyring: keyringOf('k1') });
    await setup.put(sampleRecord('counter', { meta: { count: '0' } }), null);

    const child = (id: string) =>
      new Promise<void>((resolve, reject) => {
        const proc = spawn(process.execPath, [childScript, bundle, path, log, id, String(rounds)], {
          env: { ...process.env, SPOTAUTH_ENCRYPTION_KEYS: keys },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        proc.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        proc.on('error', reject);
        proc.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`child ${id} exited ${code}: ${stderr}`)),
        );
      });
    const { runContender } = (await import(pathToFileURL(childScript).href)) as {
      runContender(options: object): Promise<void>;
    };
    await Promise.all([
      child('A'),
      child('B'),
      runContender({ FileStore, keyring: keyringOf('k1'), path, log, id: 'P', rounds }),
    ]);

    const records = await setup.list();
    expect(records.filter((r) => r.key.startsWith('item:'))).toHaveLength(3 * rounds);
    const counter = await setup.get('counter');
    expect(counter?.meta?.['count']).toBe(String(3 * rounds));
    expect(counter?.version).toBe(1 + 3 * rounds);

    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2 * 3 * rounds);
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, exit] = [
        must(lines[i], 'lines[i]').split(' '),
        must(lines[i + 1], 'lines[i + 1]').split(' '),
      ];
      expect(enter[0]).toBe('enter');
      expect(exit).toEqual(['exit', enter[1]]);
    }
  }, 60_000);
});
