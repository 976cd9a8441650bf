/**
 * The broker's /api/v1 routes over real HTTP, with real logins against the emulator and seeded grants:
 * every route, its permission denials, pagination and filters, 409 with a login URL, unlinking, the app
 * token, and the key failures. Every response is validated against the OpenAPI document (helpers.call).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerKeys } from '../../src/broker/keys.js';
import { sampleRecord } from '../stores/helpers.js';
import { control } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';
import { type Answer, call, covered, createKey, DOC } from './helpers.js';

const BOOTSTRAP = 'bootstrap-key-for-the-routes-tests-0123456789';
const ALICE = 'acct_alice_7f3a9c2e41d8';
const BOB = 'acct_bob_0c55e1b7a92f';
const CAROL = 'acct_carol_93d0f6a2c4b1';
const DAY = 86_400_000;

/** Seeded grants (not at the emulator): for listing, filters and pagination. */
const SEEDED = Array.from({ length: 7 }, (_, i) => `seed_${String(i).padStart(2, '0')}`);

function logEvents(server: TestServer, event: string): Array<Record<string, unknown>> {
  return server.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['event'] === event);
}

async function loginAs(server: TestServer, user: string): Promise<Browser> {
  await control(server.emulator, 'config', { auto_approve: user });
  const browser = new Browser();
  const { final } = await browser.login(server);
  expect(final.status).toBe(200);
  return browser;
}

describe('broker routes', () => {
  let server: TestServer;
  let api: (method: string, path: string, key?: string, body?: string) => Promise<Answer>;
  const deleted: unknown[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: BOOTSTRAP, SPOTAUTH_LOGIN_RATE_LIMIT: '1000' },
      broker: {
        failedKeyLimit: 1000,
        hooks: { grantDeleted: (event) => void deleted.push(event) },
      },
    });
    api = (method, path, key = BOOTSTRAP, body) =>
      call(server.url, method, path, { key, ...(body !== undefined ? { body } : {}) });
    await loginAs(server, 'alice');
    await loginAs(server, 'bob');
    const now = Date.now();
    for (const [i, name] of SEEDED.entries()) {
      await server.store.put(
        sampleRecord(`user:${name}`, {
          refreshTokenDeadline: now + (i + 1) * 3 * DAY,
          ...(i === 6 ? { status: 'reauth_required', reauthReason: 'expired', reauthAt: now - 1000 } : {}),
        }),
        null,
      );
    }
  });
  afterAll(() => server.close());

  describe('the OpenAPI document', () => {
    it('is served without a key, as OpenAPI 3.1, with every $ref resolving', async () => {
      const answer = await api('GET', '/api/v1/openapi.json', undefined);
      expect(answer.status).toBe(200);
      expect(answer.json.openapi).toBe('3.1.0');
      expect(answer.json.servers).toEqual([{ url: server.url }]);
      const refs: string[] = [];
      JSON.stringify(answer.json, (key, value) => {
        if (key === '$ref') refs.push(value);
        return value;
      });
      expect(refs.length).toBeGreaterThan(20);
      for (const ref of refs) {
        const target = ref
          .slice(2)
          .split('/')
          .reduce(
            (node: Record<string, unknown> | undefined, part: string) => node?.[part] as never,
            answer.json,
          );
        expect(target, ref).toBeDefined();
      }
      const ids = Object.values(answer.json.paths).flatMap((item) =>
        Object.values(item as Record<string, { operationId?: string }>)
          .map((operation) => operation.operationId)
          .filter(Boolean),
      );
      expect(new Set(ids).size).toBe(ids.length);
      // Every schema is valid JSON Schema 2020-12.
      const strict = new Ajv2020({ strict: false, validateFormats: false });
      for (const [name, schema] of Object.entries(answer.json.components.schemas)) {
        expect(strict.validateSchema(schema as object), name).toBe(true);
      }
      expect(Object.keys(answer.json.webhooks as object).sort()).toEqual([
        'grant.deleted',
        'grant.expiring',
        'grant.linked',
        'grant.reauth_required',
      ]);
    });
  });

  describe('keys', () => {
    it('refuses a missing, malformed, unknown, wrong, revoked or expired key alike: 401 unauthorized', async () => {
      const store = server.store;
      const good = await createKey(store);
      const revoked = await createKey(store);
      await new BrokerKeys(store.entries).revoke(revoked.id);
      const expired = await createKey(store, { expiresAt: Date.now() - 1 });
      const presented: (string | undefined)[] = [
        undefined,
        '',
        'nope',
        `sk_${good.id}_${'0'.repeat(64)}`,
        `sk_0123456789abcdef_${good.secret}`,
        revoked.key,
        expired.key,
        `${good.key}0`,
      ];
      const bodies = new Set<string>();
      for (const key of presented) {
        const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
        const answer = await call(server.url, 'GET', '/api/v1/users', { headers });
        expect(answer.status, String(key)).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
        bodies.add(answer.text);
      }
      expect(bodies.size).toBe(1);
      expect(JSON.parse(must([...bodies][0], '[...bodies][0]'))).toMatchObject({ error: 'unauthorized' });
      const reasons = logEvents(server, 'broker_key_rejected').map((event) => event['reason']);
      expect(reasons).toEqual(
        expect.arrayContaining(['missing', 'malformed', 'wrong_secret', 'unknown', 'revoked', 'expired']),
      );
      const ids = logEvents(server, 'broker_key_rejected').map((event) => event['key_id']);
      expect(ids).toEqual(expect.arrayContaining([good.id, revoked.id, expired.id]));
      const logs = server.logs.join('');
      for (const secret of [good.secret, revoked.secret, expired.secret]) expect(logs).not.toContain(secret);
      expect((await api('GET', '/api/v1/users', good.key)).status).toBe(200);
    });

    it("records a key's last use, written back at most once a minute", async () => {
      const { key, id } = await createKey(server.store);
      const keys = new BrokerKeys(server.store.entries);
      expect((await keys.list()).find((k) => k.id === id)?.lastUsedAt).toBeNull();
      const before = Date.now();
      await api('GET', '/api/v1/users', key);
      await api('GET', '/api/v1/users', key);
      await expect
        .poll(async () => (await keys.list()).find((k) => k.id === id)?.lastUsedAt)
        .toBeGreaterThanOrEqual(before);
    });

    it('keeps only a digest of the secret in the store', async () => {
      const { id, secret } = await createKey(server.store);
      const entry = await server.store.entries.get('broker_key', id);
      expect(must(entry, 'entry').value).not.toContain(secret);
      expect(JSON.parse(must(entry, 'entry').value)).toMatchObject({
        secret_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    });
  });

  describe('GET /users', () => {
    it('lists every grant a full-access key may see, with status, scopes and deadlines', async () => {
      const answer = await api('GET', '/api/v1/users?limit=200');
      expect(answer.status).toBe(200);
      const accounts = answer.json.users.map((user: { account: string }) => user.account);
      expect(accounts).toEqual([ALICE, BOB, ...SEEDED].sort());
      const alice = answer.json.users.find((user: { account: string }) => user.account === ALICE);
      expect(alice).toMatchObject({ display_name: 'Alice Example', status: 'active', reauth_reason: null });
      expect(alice.scope).toContain('user-top-read');
      expect(Date.parse(alice.refresh_token_expires_at)).toBeGreaterThan(Date.now() + 180 * DAY);
      expect(answer.json.next_cursor).toBeNull();
      expect(answer.json.unreadable).toEqual({ count: 0, keys: [] });
    });

    it('pages with an opaque cursor: every grant exactly once, in order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const answer = await api('GET', `/api/v1/users?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(answer.status).toBe(200);
        expect(answer.json.users.length).toBeLessThanOrEqual(3);
        seen.push(...answer.json.users.map((user: { account: string }) => user.account));
        cursor = answer.json.next_cursor;
        if (cursor) expect(cursor).not.toContain('seed');
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([ALICE, BOB, ...SEEDED].sort());
    });

    it('filters by status, expiring_within=DAYS and scope, and pages through a filtered list', async () => {
      const accounts = async (query: string) =>
        (await api('GET', `/api/v1/users?${query}`)).json.users.map(
          (user: { account: string }) => user.account,
        );
      expect(await accounts('status=reauth_required')).toEqual(['seed_06']);
      expect(await accounts('status=active&limit=200')).toEqual([ALICE, BOB, ...SEEDED.slice(0, 6)].sort());
      // Deadlines are 3, 6, 9, … days away; the dead grant (21 days) is not "expiring".
      expect(await accounts('expiring_within=10')).toEqual(['seed_00', 'seed_01', 'seed_02']);
      expect(await accounts('expiring_within=30')).toEqual(SEEDED.slice(0, 6));
      expect(await accounts('scope=user-top-read')).toEqual([ALICE, BOB]);
      expect(await accounts('scope=user-top-read,playlist-read-private')).toEqual([]);
      expect(await accounts('scope=playlist-read-private&expiring_within=7')).toEqual(['seed_00', 'seed_01']);
      const first = await api('GET', '/api/v1/users?expiring_within=30&limit=4');
      expect(first.json.users).toHaveLength(4);
      const second = await api(
        'GET',
        `/api/v1/users?expiring_within=30&limit=4&cursor=${first.json.next_cursor}`,
      );
      expect(second.json.users.map((user: { account: string }) => user.account)).toEqual([
        'seed_04',
        'seed_05',
      ]);
      expect(second.json.next_cursor).toBeNull();
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['status=dead', 'status'],
      ['expiring_within=-1', 'expiring_within'],
      ['expiring_within=1e3', 'expiring_within'],
      ['scope=', 'scope'],
      ['scope=%3Cscript%3E', 'scope'],
      ['cursor=not-one-of-ours', 'cursor'],
      [`cursor=${Buffer.from('a:<x>').toString('base64url')}`, 'cursor'],
      ['limit=1&limit=2', 'twice'],
      ['page=2', 'Unknown parameter'],
    ])('refuses %s with 400 bad_request naming the problem', async (query, word) => {
      const answer = await api('GET', `/api/v1/users?${query}`);
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('bad_request');
      expect(answer.json.message).toContain(word);
    });

    it('shows a restricted key only its users', async () => {
      const { key } = await createKey(server.store, { users: [ALICE, 'seed_03', 'nobody_here'] });
      const answer = await api('GET', '/api/v1/users', key);
      expect(answer.json.users.map((user: { account: string }) => user.account)).toEqual([ALICE, 'seed_03']);
    });
  });

  describe('per-user routes', () => {
    it('GET /users/{id}: one grant; 404 for an unknown account; 400 for a malformed id', async () => {
      const alice = await api('GET', `/api/v1/users/${ALICE}`);
      expect(alice.status).toBe(200);
      expect(alice.json).toMatchObject({ account: ALICE, status: 'active' });
      const dead = await api('GET', '/api/v1/users/seed_06');
      expect(dead.json).toMatchObject({ status: 'reauth_required', reauth_reason: 'expired' });
      expect((await api('GET', '/api/v1/users/nobody')).json.error).toBe('user_not_found');
      // An id that is itself a store key names no other grant.
      expect((await api('GET', `/api/v1/users/user:${ALICE}/token`)).json.error).toBe('user_not_found');
      const bad = await api('GET', `/api/v1/users/${encodeURIComponent('<x>')}`);
      expect(bad.status).toBe(400);
      expect(bad.json.error).toBe('bad_request');
    });

    it('GET /users/{id}/token: a valid token with its real scopes; never a refresh token', async () => {
      const answer = await api('GET', `/api/v1/users/${ALICE}/token`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(server.emulator.state.lookupAccessToken(answer.json.access_token)?.userId).toBe('alice');
      expect(answer.json.scope).toContain('user-top-read');
      expect(answer.text).not.toContain('refresh');
    });

    it('a key limited to some users gets 403 user_forbidden for any other, existing or not', async () => {
      const { key } = await createKey(server.store, { users: [ALICE], proxy: true });
      for (const [method, path] of [
        ['GET', `/api/v1/users/${BOB}`],
        ['GET', `/api/v1/users/${BOB}/token`],
        ['DELETE', `/api/v1/users/${BOB}`],
        ['GET', `/api/v1/users/${BOB}/spotify/me`],
        ['GET', '/api/v1/users/nobody/token'],
      ] as const) {
        const answer = await api(method, path, key);
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.json.error).toBe('user_forbidden');
      }
      expect((await api('GET', `/api/v1/users/${ALICE}/token`, key)).status).toBe(200);
      expect((await api('GET', `/api/v1/users/${BOB}`)).status).toBe(200); // still there
      const denials = logEvents(server, 'broker_permission_denied');
      expect(denials.at(-1)).toMatchObject({
        error: 'user_forbidden',
        key_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
    });

    it('a key requiring scopes gets tokens only for grants holding all of them (403 grant_missing_scope)', async () => {
      const ok = await createKey(server.store, { scopes: ['user-top-read', 'user-read-email'] });
      expect((await api('GET', `/api/v1/users/${ALICE}/token`, ok.key)).status).toBe(200);
      const { key } = await createKey(server.store, { scopes: ['user-top-read', 'playlist-modify-private'] });
      const answer = await api('GET', `/api/v1/users/${ALICE}/token`, key);
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({
        error: 'grant_missing_scope',
        missing_scopes: ['playlist-modify-private'],
      });
      expect(answer.json.login_url).toBe(
        `${server.url}/login?scope=${encodeURIComponent('user-top-read playlist-modify-private')}`,
      );
      expect(answer.text).not.toContain('access_token');
    });

    it('409 reauth_required with reason and login_url for a grant that needs re-consent', async () => {
      const expired = await api('GET', '/api/v1/users/seed_06/token');
      expect(expired.status).toBe(409);
      expect(expired.json).toMatchObject({
        error: 'reauth_required',
        reason: 'expired',
        login_url: `${server.url}/login`,
      });
      // Bob removes the app on Spotify: the next refresh fails and the grant is marked dead.
      await control(server.emulator, 'revoke', { user_id: 'bob' });
      await server.tokens.refreshNow(BOB).catch(() => {});
      const revoked = await api('GET', `/api/v1/users/${BOB}/token`);
      expect(revoked.status).toBe(409);
      expect(revoked.json).toMatchObject({ reason: 'revoked', login_url: `${server.url}/login` });
      const scoped = await createKey(server.store, { scopes: ['user-top-read'] });
      const withScopes = await api('GET', `/api/v1/users/${BOB}/token`, scoped.key);
      expect(withScopes.json.login_url).toBe(`${server.url}/login?scope=user-top-read`);
      // The login URL is the server's real login page.
      const page = await fetch(revoked.json.login_url, { redirect: 'manual' });
      expect(page.status).toBe(303);
    });

    it('DELETE /users/{id}: grant and tokens gone, sessions ended everywhere, hook called; then 404', async () => {
      const carol = await loginAs(server, 'carol');
      expect((await carol.get(`${server.url}/token`)).status).toBe(200);
      const { key, id } = await createKey(server.store, { users: [CAROL] });
      const events: string[] = [];
      const onDeleted = ({ key: userKey }: { key: string }) => events.push(userKey);
      server.tokens.on('deleted', onDeleted);
      const answer = await api('DELETE', `/api/v1/users/${CAROL}`, key);
      server.tokens.off('deleted', onDeleted);
      expect(answer.status).toBe(204);
      expect(events).toEqual([`user:${CAROL}`]);
      expect(deleted).toEqual([{ account: CAROL, userKey: `user:${CAROL}`, keyId: id }]);
      expect(await server.store.get(`user:${CAROL}`)).toBeNull();
      expect(
        await server.store.entries
          .list('session')
          .then((all) => all.filter((s) => s.tag === `user:${CAROL}`)),
      ).toEqual([]);
      expect((await carol.get(`${server.url}/token`)).status).toBe(401);
      expect((await api('GET', `/api/v1/users/${CAROL}`)).status).toBe(404);
      expect((await api('DELETE', `/api/v1/users/${CAROL}`)).json.error).toBe('user_not_found');
    });

    it('a key without --proxy gets 403 proxy_forbidden on the proxy', async () => {
      const { key } = await createKey(server.store);
      const answer = await api('GET', `/api/v1/users/${ALICE}/spotify/me`, key);
      expect(answer.status).toBe(403);
      expect(answer.json.error).toBe('proxy_forbidden');
      expect(answer.headers.get('x-spotauth-source')).toBe('broker');
    });
  });

  describe('app token', () => {
    it('GET /app/token and its old name /app-token hand out the client-credentials token', async () => {
      // Any valid key, however restricted: the app token carries no user's data.
      const { key } = await createKey(server.store, { users: [ALICE], scopes: ['user-top-read'] });
      for (const path of ['/api/v1/app/token', '/api/v1/app-token']) {
        const answer = await api('GET', path, key);
        expect(answer.status).toBe(200);
        expect(server.emulator.state.lookupAccessToken(answer.json.access_token)?.userId).toBeNull();
        expect(answer.json.expires_in).toBeGreaterThan(0);
      }
      expect((await api('GET', '/api/v1/app-token')).headers.get('link')).toContain('/api/v1/app/token');
    });
  });

  it('answers a wrong method with 405 and Allow, and an unknown path with 404, as JSON', async () => {
    const wrong = await fetch(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOTSTRAP}` },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    expect(await wrong.json()).toMatchObject({ error: 'method_not_allowed' });
    const missing = await fetch(`${server.url}/api/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('covered every route of the document', () => {
    const routes = new Set([...covered].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
    for (const [template, item] of Object.entries(DOC.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item).filter((name) => name !== 'parameters')) {
        if (template.endsWith('{path}') && method !== 'get') continue; // proxy.test.ts
        expect(routes, `${method} ${template}`).toContain(`${method.toUpperCase()} ${template}`);
      }
    }
  });
});

describe('failed key attempts', () => {
  it('are rate limited per client: 429 with Retry-After, even for the right key, until the window passes', async () => {
    const server = await startTestServer({
      env: { SPOTAUTH_BROKER_KEYS: BOOTSTRAP },
      broker: { failedKeyLimit: 3 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await call(server.url, 'GET', '/api/v1/users', { key: `wrong-${i}` })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const good = await call(server.url, 'GET', '/api/v1/users', { key: BOOTSTRAP });
      expect(good.status).toBe(429);
      expect(Number(good.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(good.json.error).toBe('rate_limited');
    } finally {
      await server.close();
    }
  });
});
