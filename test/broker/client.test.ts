/**
 * `spotauth/broker-client` against a real server: every helper, its errors, the package export as another
 * Node service would import it, the generated types kept in step with the document, and the rule that the
 * client imports nothing from spotauth's server side.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError, type BrokerUser, createBrokerClient } from '../../src/broker-client/index.js';
import { ROOT } from '../cli/helpers.js';
import { sampleRecord } from '../stores/helpers.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';
import { createKey, expectMatchesSpec } from './helpers.js';

const run = promisify(execFile);
const BOOTSTRAP = 'bootstrap-key-for-the-client-tests-0123456789';
const ALICE = 'acct_alice_7f3a9c2e41d8';

describe('spotauth/broker-client', () => {
  let server: TestServer;
  /** A fetch that validates every answer against the document, as the other broker tests do. */
  const validatingFetch: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const response = await fetch(request);
    const text = await response.clone().text();
    expectMatchesSpec(request.method, new URL(request.url).pathname, response.status, response.headers, text);
    return response;
  };
  const client = (key = BOOTSTRAP) =>
    createBrokerClient({ baseUrl: `${server.url}/`, key, fetch: validatingFetch });

  beforeAll(async () => {
    server = await startTestServer({ env: { SPOTAUTH_BROKER_KEYS: BOOTSTRAP } });
    await new Browser().login(server);
    for (const name of ['c_one', 'c_two', 'c_three'])
      await server.store.put(sampleRecord(`user:${name}`), null);
    await server.store.put(
      sampleRecord('user:c_dead', { status: 'reauth_required', reauthReason: 'expired' }),
      null,
    );
  });
  afterAll(() => server.close());

  it('lists, iterates every page, reads one user and hands out tokens', async () => {
    const broker = client();
    const page = await broker.listUsers({ limit: 2 });
    expect(page.users).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    const all: BrokerUser[] = [];
    for await (const user of broker.users({ limit: 1 })) all.push(user);
    expect(all.map((user) => user.account)).toEqual([ALICE, 'c_dead', 'c_one', 'c_three', 'c_two']);
    const dead: string[] = [];
    for await (const user of broker.users({ status: 'reauth_required' })) dead.push(user.account);
    expect(dead).toEqual(['c_dead']);
    const alice = await broker.user(ALICE);
    const account: string = alice.account;
    expect(account).toBe(ALICE);
    const token = await broker.token(ALICE);
    expect(server.emulator.state.lookupAccessToken(token.access_token)?.userId).toBe('alice');
    const app = await broker.appToken();
    expect(app.token_type).toBe('Bearer');
  });

  it('throws BrokerError with the stable code and the fields that come with it', async () => {
    const dead = await client()
      .token('c_dead')
      .catch((error: unknown) => error);
    expect(dead).toBeInstanceOf(BrokerError);
    expect(dead).toMatchObject({
      status: 409,
      error: 'reauth_required',
      reason: 'expired',
      loginUrl: `${server.url}/login`,
    });
    const { key } = await createKey(server.store, { scopes: ['playlist-modify-private'] });
    const missing = await client(key)
      .token(ALICE)
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({
      status: 403,
      error: 'grant_missing_scope',
      missingScopes: ['playlist-modify-private'],
    });
    expect(
      await client('sk_wrong')
        .listUsers()
        .catch((error: unknown) => error),
    ).toMatchObject({
      status: 401,
      error: 'unauthorized',
    });
    expect(
      await client()
        .user('nobody')
        .catch((error: unknown) => error),
    ).toMatchObject({ error: 'user_not_found' });
  });

  it('calls the Web API through the proxy and unlinks a user', async () => {
    const broker = client();
    const me = await broker.spotify(ALICE, '/me');
    expect(me.status).toBe(200);
    expect(me.headers.get('x-spotauth-source')).toBe('spotify');
    expect(await me.json()).toMatchObject({ id: 'alice' });
    const top = await broker.spotify(ALICE, 'me/top/tracks?limit=1');
    expect(((await top.json()) as { items: unknown[] }).items).toHaveLength(1);
    await broker.deleteUser('c_one');
    expect(await broker.user('c_one').catch((error: unknown) => error)).toMatchObject({ status: 404 });
  });

  it('is importable as spotauth/broker-client from the built package', async () => {
    const script = `import('spotauth/broker-client').then((m) => console.log(typeof m.createBrokerClient, typeof m.BrokerError))`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(stdout.trim()).toBe('function function');
    const built = readFileSync(join(ROOT, 'dist/broker-client/index.js'), 'utf8');
    const imports = [...built.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((match) => match[1]);
    expect(imports).toEqual(['openapi-fetch']);
  });

  it('imports nothing from the server side (only openapi-fetch and its own files)', () => {
    const dir = join(ROOT, 'src/broker-client');
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:import|export)[^'"]*from ['"]([^'"]+)['"]/g))
        expect(
          specifier === 'openapi-fetch' || /^\.\/[a-z-]+\.js$/.test(must(specifier, 'specifier')),
          `${file}: ${specifier}`,
        ).toBe(true);
    }
  });

  it('has types generated from the current OpenAPI document', async () => {
    const { stdout } = await run(process.execPath, ['scripts/generate-broker-client.mjs', '--check'], {
      cwd: ROOT,
    });
    expect(stdout).toContain('up to date');
  });
});
