/**
 * `spotauth keys create|list|revoke` as real processes, on the store a real server uses: the key printed
 * once works against the server, `list` never shows a secret, a revoked key is refused; usage mistakes exit
 * 2 with one sentence; and `--help` keeps the broker's service keys apart from the encryption keys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/stores/encryption.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import { must } from '../support/must.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { cliEnv, runCli, tempHome } from './helpers.js';

const KEY_LINE = /^sk_([0-9a-f]{16})_[0-9a-f]{64}\n$/;

describe('spotauth keys create|list|revoke', () => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let storeUrl: string;
  let server: TestServer;

  beforeAll(async () => {
    home = tempHome();
    const encryptionKeys = `k1:${randomBytes(32).toString('base64')}`;
    env = cliEnv(home.home, { SPOTAUTH_ENCRYPTION_KEYS: encryptionKeys });
    const path = join(home.home, 'server.sqlite');
    storeUrl = `sqlite:${path}`;
    const store = await SqliteStore.open(path, {
      keyring: must(
        Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: encryptionKeys }),
        'Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: encryptionKeys })',
      ),
    });
    server = await startTestServer({ store });
  });
  afterAll(async () => {
    await server.close();
    await server.store.close();
    home.cleanup();
  });

  const users = (key: string) =>
    fetch(`${server.url}/api/v1/users`, { headers: { authorization: `Bearer ${key}` } }).then(
      (r) => r.status,
    );

  it('create prints the key once, alone on stdout; it works against the server on that store', async () => {
    const result = await runCli(
      [
        'keys',
        'create',
        '--name',
        'stats job',
        '--users',
        'acct_a,acct_b',
        '--scopes',
        'user-top-read',
        '--proxy',
        '--expires',
        '30',
        '--store',
        storeUrl,
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    expect(result.stderr).toContain('shown only this once');
    expect(result.stderr).toContain('users acct_a, acct_b; scopes user-top-read; may use the Web API proxy');
    expect(result.stderr).not.toContain(result.stdout.trim());
    expect(await users(result.stdout.trim())).toBe(200);
  });

  it('list shows ids, names, permissions and status, never a secret; revoke makes the server refuse the key', async () => {
    const created = await runCli(['keys', 'create', '--name', 'to revoke', '--store', storeUrl], env);
    const key = created.stdout.trim();
    const id = must(KEY_LINE.exec(created.stdout)?.[1], 'KEY_LINE.exec(created.stdout)[1]');
    expect(await users(key)).toBe(200);

    const listed = await runCli(['keys', 'list', '--json', '--store', storeUrl], env);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.find((row) => row['id'] === id)).toMatchObject({
      name: 'to revoke',
      status: 'active',
      users: 'all',
      scopes: null,
      proxy: false,
      revoked_at: null,
    });
    expect(listed.stdout).not.toContain(key.slice(-64));
    const text = await runCli(['keys', 'list', '--store', storeUrl], env);
    expect(text.stdout).toContain(id);
    expect(text.stdout).toContain('stats job');
    expect(text.stdout).not.toContain(key.slice(-64));

    const revoked = await runCli(['keys', 'revoke', id, '--store', storeUrl], env);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.stdout).toContain(`Revoked key ${id}`);
    await expect.poll(() => users(key), { timeout: 5_000 }).toBe(401);
    const again = await runCli(['keys', 'revoke', id, '--store', storeUrl], env);
    expect(again.stdout).toContain('already revoked');
    const after = JSON.parse((await runCli(['keys', 'list', '--json', '--store', storeUrl], env)).stdout);
    expect(after.find((row: { id: string }) => row.id === id)).toMatchObject({ status: 'revoked' });
  });

  it('uses SPOTAUTH_STORE like the server, and a file store too', async () => {
    const viaEnv = await runCli(['keys', 'list'], { ...env, SPOTAUTH_STORE: storeUrl });
    expect(viaEnv.stdout).toContain('stats job');
    const file = `file:${join(home.home, 'tokens.json')}`;
    const created = await runCli(['keys', 'create', '--name', 'file one', '--store', file], env);
    expect(created.code).toBe(0);
    expect((await runCli(['keys', 'list', '--store', file], env)).stdout).toContain('file one');
  });

  it('in a sandbox folder, opens the sandbox store with its generated key, as the server would', async () => {
    const dir = join(home.home, 'app');
    mkdirSync(dir);
    const sandboxEnv = cliEnv(home.home);
    const created = await runCli(['keys', 'create', '--name', 'sandbox'], sandboxEnv, dir);
    expect(created.code).toBe(0);
    expect(existsSync(join(dir, '.data/spotauth.sqlite'))).toBe(true);
    expect(existsSync(join(dir, '.data/sandbox.key'))).toBe(true);
    expect((await runCli(['keys', 'list'], sandboxEnv, dir)).stdout).toContain('sandbox');
  });

  it.each([
    ['no name', ['keys', 'create']],
    ['bad expiry', ['keys', 'create', '--name', 'x', '--expires', 'soon']],
    ['zero expiry', ['keys', 'create', '--name', 'x', '--expires', '0']],
    ['unknown scope', ['keys', 'create', '--name', 'x', '--scopes', 'user-read-birthdate']],
    ['bad user id', ['keys', 'create', '--name', 'x', '--users', 'a/b']],
    ['memory store', ['keys', 'list', '--store', 'memory:']],
    ['unknown store', ['keys', 'list', '--store', 'ftp://x']],
    ['malformed id', ['keys', 'revoke', '../x']],
  ])('%s: exit 2, one sentence, no stack', async (_name, args) => {
    const result = await runCli([...args, ...(args.includes('--store') ? [] : ['--store', storeUrl])], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^(spotauth: |error: )/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown key id exits 1; a store without its encryption key exits 2', async () => {
    const unknown = await runCli(['keys', 'revoke', '0123456789abcdef', '--store', storeUrl], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no broker key 0123456789abcdef');
    const noKey = await runCli(
      ['keys', 'list', '--store', storeUrl],
      cliEnv(home.home, { SPOTIFY_CLIENT_ID: 'x' }),
    );
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('SPOTAUTH_ENCRYPTION_KEYS');
  });

  it('--help tells the broker’s service keys from the encryption keys', async () => {
    const help = await runCli(['keys', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('encryption keys (generate, reencrypt)');
    expect(help.stdout).toContain('broker service keys (create, list, revoke)');
    expect(help.stdout).toMatch(/create\s.*\[broker\]/);
    expect(help.stdout).toMatch(/generate\s.*\[encryption\]/);
    const create = await runCli(['keys', 'create', '--help'], env);
    expect(create.stdout).toContain('--users');
    expect(create.stdout).toContain('--scopes');
    expect(create.stdout).toContain('--proxy');
    expect(create.stdout).toContain('--expires');
  });
});
