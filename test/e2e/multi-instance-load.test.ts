/**
 * The same deployment under load (issue 12): 3 `spotauth serve` processes behind nginx on PostgreSQL, and
 * again on Redis, with several logged-in sessions hammering GET /token and the profile page through nginx.
 * One instance is killed with -9 in the middle. The others keep serving (nginx's next-upstream), no
 * session or grant is lost, and tokens, made to expire during the run, are refreshed once per expiry.
 *
 * Expiry without waiting an hour: the emulator issues tokens that live TTL_S seconds. The token manager
 * refreshes a token 60 s (skew) + 0–10 s (jitter) before it expires, so a token issued now is good for at
 * least MIN_FRESH_MS and is refreshed at the latest MAX_FRESH_MS after it was issued. All grants get such a
 * token at T0 ("Refresh now"), the load runs LOAD_MS, and the instance dies at T0 + KILL_AT_MS: before any
 * token can be due, so the kill never lands in the middle of a refresh (a refresh interrupted by kill -9
 * is the subject of test/e2e/crash-during-refresh.test.ts).
 *
 * Refresh tokens rotate (`refreshMode: 'rotate'`), so a second refresh with a refresh token already used
 * would be Spotify's `invalid_grant` and a lost grant: this run must see none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  type Cluster,
  type Instance,
  STORES,
  startCluster,
  storeAvailable,
} from '../support/cluster.js';
import { control, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { nginxAvailable } from '../support/nginx.js';

const ready = nginxAvailable('MULTI-INSTANCE LOAD TESTS');

const TTL_S = 75;
const SKEW_MS = 60_000;
const JITTER_MS = 10_000;
const MIN_FRESH_MS = TTL_S * 1000 - SKEW_MS - JITTER_MS;
const MAX_FRESH_MS = TTL_S * 1000 - SKEW_MS;
const LOAD_MS = MAX_FRESH_MS + 5_000;
const KILL_AT_MS = 2_000;
const CONCURRENCY = 16;
/** Every PROFILE_EVERY-th request is the profile page (4 Web API calls); the rest GET /token. */
const PROFILE_EVERY = 4;

const USERS = [
  { id: 'alice', name: 'Alice Example' },
  { id: 'bob', name: 'Bob Example' },
  { id: 'carol', name: 'Carol Example' },
  { id: 'dave', name: 'Dave Example' },
];

interface Session {
  user: string;
  name: string;
  grant: string;
  cookie: string;
  client: Client;
}

interface Served {
  path: string;
  startedAt: number;
  status: number;
  /** nginx's upstream header: one address, or several when it moved on to the next upstream. */
  upstreams: string[];
}

describe.skipIf(!ready).each(STORES)('under load, 3 instances behind nginx on $name', ({ kind }) => {
  let cluster: Cluster;
  let available = false;

  beforeAll(async () => {
    available = await storeAvailable(kind);
    if (!available) return;
    cluster = await startCluster({
      store: kind,
      logLevel: 'warn',
      emulator: {
        refreshMode: 'rotate',
        users: [{ id: 'dave', accountId: 'acct_dave', displayName: 'Dave Example', images: [] }],
      },
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('kill -9 of one instance: the others keep serving; no session or grant lost; one refresh per expiry', async (context) => {
    if (!available) return context.skip();
    const { emulator } = cluster;

    // Four grants; Alice has two sessions (two browsers).
    const sessions: Session[] = [];
    for (const user of [...USERS, must(USERS[0], 'USERS[0]')]) {
      await control(emulator, 'config', { auto_approve: user.id });
      const client = new Client(cluster);
      expect((await client.login()).callback.status).toBe(303);
      const me = (await (await client.request('/session')).json()) as { user: string; csrf_token: string };
      sessions.push({
        user: user.id,
        name: user.name,
        grant: me.user,
        cookie: client.cookieHeader(),
        client,
      });
    }
    const grants = [...new Set(sessions.map((s) => s.grant))];
    expect(grants).toHaveLength(USERS.length);

    // From now on tokens live TTL_S: give every grant one ("Refresh now", through nginx).
    await control(emulator, 'config', { access_token_ttl: TTL_S });
    const issuedFrom = Date.now();
    for (const session of sessions.slice(0, USERS.length)) {
      const csrf = await session.client.csrfToken();
      const refreshed = await session.client.request('/refresh', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf, origin: cluster.url },
      });
      expect(refreshed.status).toBe(200);
    }
    const store = await cluster.openStore();
    const versionsAtStart = new Map<string, number>();
    for (const grant of grants)
      versionsAtStart.set(grant, must(await store.get(grant), 'store.get(grant)').version);
    const before = await tokenRequests(emulator);
    const errorsBefore = await tokenErrors(cluster);
    const t0 = Date.now();

    const victim = must(cluster.instances[1], 'cluster.instances[1]');
    const survivors = cluster.instances.filter((i) => i !== victim);
    let killedAt = Number.POSITIVE_INFINITY;
    const kill = (async () => {
      await new Promise((resolve) => setTimeout(resolve, KILL_AT_MS));
      const exited = new Promise((resolve) => victim.process.once('exit', resolve));
      victim.process.kill('SIGKILL');
      await exited;
      killedAt = Date.now();
    })();

    const served: Served[] = [];
    const failures: string[] = [];
    const wrongTokens: string[] = [];
    const stopAt = t0 + LOAD_MS;
    const loop = async (worker: number) => {
      for (let n = worker; Date.now() < stopAt; n++) {
        const session = must(sessions[n % sessions.length], 'sessions[n % sessions.length]');
        const path = n % PROFILE_EVERY === 0 ? '/' : '/token';
        const startedAt = Date.now();
        let response: Response;
        let body: string;
        try {
          response = await fetch(`${cluster.url}${path}`, { headers: { cookie: session.cookie } });
          body = await response.text();
        } catch (error) {
          failures.push(`${path}: ${(error as Error).message}`);
          continue;
        }
        const upstreams = (response.headers.get('x-spotauth-upstream') ?? '').split(',').map((a) => a.trim());
        served.push({ path, startedAt, status: response.status, upstreams });
        if (response.status !== 200) {
          failures.push(`${path}: ${response.status} ${body.slice(0, 120)}`);
        } else if (path === '/token') {
          const token = (JSON.parse(body) as { access_token: string }).access_token;
          const info = emulator.state.lookupAccessToken(token);
          if (info?.userId !== session.user || info.expiresAt <= Date.now())
            wrongTokens.push(
              `${session.user} got ${info ? `${info.userId}'s, expires ${info.expiresAt}` : 'an unknown token'}`,
            );
        } else if (!body.includes(session.name)) {
          failures.push(`/: no profile of ${session.name}`);
        }
      }
    };
    await Promise.all([kill, ...Array.from({ length: CONCURRENCY }, (_, worker) => loop(worker))]);
    const end = Date.now();
    const elapsed = end - t0;
    expect(killedAt).toBeLessThan(end);

    // Every request answered 200, with the session user's own, live token or profile.
    expect(failures).toEqual([]);
    expect(wrongTokens).toEqual([]);
    const tokenServes = served.filter((s) => s.path === '/token').length;
    expect(tokenServes).toBeGreaterThan(served.length / 2);

    // All three served before the kill; after it, only the two survivors — nginx moved the requests
    // that met the dead instance on to the next one.
    const last = (s: Served) => s.upstreams.at(-1);
    const beforeKill = served.filter((s) => s.startedAt < t0 + KILL_AT_MS);
    const afterKill = served.filter((s) => s.startedAt > killedAt);
    for (const instance of cluster.instances)
      expect(beforeKill.filter((s) => last(s) === instance.address).length).toBeGreaterThan(0);
    expect(afterKill.filter((s) => last(s) === victim.address)).toEqual([]);
    for (const instance of survivors)
      expect(afterKill.filter((s) => last(s) === instance.address).length).toBeGreaterThan(0);
    // nginx's only complaints are about the dead instance (refused, or reset mid-request).
    const nginxErrors = cluster.nginx
      .errorLog()
      .split('\n')
      .filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
    expect(nginxErrors.filter((line) => !line.includes(`http://${victim.address}/`))).toEqual([]);
    const movedOn = afterKill.filter((s) => s.upstreams.length > 1);
    expect(movedOn.length).toBeGreaterThan(0);
    expect(movedOn.every((s) => s.upstreams[0] === victim.address)).toBe(true);

    // Refreshes: every one the emulator saw is a new version of a grant in the store (none lost, none
    // wasted), no refresh token was used twice (rotation would have answered invalid_grant), and each
    // grant was refreshed at least once (its token expired during the run) and at most once per
    // MIN_FRESH_MS (once per expiry, however many instances and callers wanted it).
    const after = await tokenRequests(emulator);
    const refreshes = after.refresh_token - before.refresh_token;
    const perGrant = new Map<string, number>();
    for (const grant of grants) {
      const record = await store.get(grant);
      expect(record?.status).toBe('active');
      perGrant.set(
        grant,
        must(record, 'record').version - must(versionsAtStart.get(grant), 'versionsAtStart.get(grant)'),
      );
    }
    expect([...perGrant.values()].reduce((a, b) => a + b, 0)).toBe(refreshes);
    expect(await tokenErrors(cluster)).toEqual(errorsBefore);
    for (const [grant, count] of perGrant) {
      expect(count, grant).toBeGreaterThanOrEqual(1);
      expect(count, grant).toBeLessThanOrEqual(Math.floor((end - issuedFrom) / MIN_FRESH_MS));
    }

    // No session lost: each one still works on every surviving instance, and the store holds them all.
    for (const session of sessions)
      for (const instance of survivors)
        expect(await status(cluster, instance, session.cookie), session.user).toBe(200);
    expect(await store.entries.list('session')).toHaveLength(sessions.length);
    await store.close();

    console.info(
      `[${kind}] ${served.length} requests in ${elapsed} ms (${Math.round((served.length * 1000) / elapsed)}/s), ` +
        `${movedOn.length} moved on by nginx after the kill, ${refreshes} refreshes for ${grants.length} grants ` +
        `(${[...perGrant.values()].join(', ')})`,
    );
  }, 120_000);
});

async function status(cluster: Cluster, instance: Instance, cookie: string): Promise<number> {
  const response = await cluster.direct(instance, '/token', { headers: { cookie } });
  await response.body?.cancel();
  return response.status;
}

async function tokenErrors(cluster: Cluster): Promise<Record<string, number>> {
  const stats = (await (await fetch(`${cluster.emulator.url}/_emulator/stats`)).json()) as {
    token_errors: Record<string, number>;
  };
  return stats.token_errors;
}
