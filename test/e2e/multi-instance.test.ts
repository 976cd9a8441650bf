/**
 * Sessions any instance can serve (issue 12): 3 `spotauth serve` processes on one PostgreSQL, and again
 * on one Redis, behind a real nginx doing plain round-robin (the README's config), TLS off,
 * X-Forwarded-* set, SPOTAUTH_TRUST_PROXY=true. Which instance answered is read from a header the tests'
 * nginx adds (`x-spotauth-upstream`), or the request goes straight to one instance, with the headers
 * nginx would add.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import {
  Client,
  type Cluster,
  logLines,
  STORES,
  startCluster,
  storeAvailable,
  UPSTREAM_HEADER,
} from '../support/cluster.js';
import { control, tokenRequests } from '../support/emulator.js';
import { must } from '../support/must.js';
import { nginxAvailable } from '../support/nginx.js';

const ready = nginxAvailable('MULTI-INSTANCE TESTS') && chromiumAvailable('MULTI-INSTANCE TESTS');
/** Each instance trusts a session it read for 500 ms; the bound is 1 s. */
const EVERYWHERE_WITHIN_MS = 1_000;

let browser: Browser;
beforeAll(async () => {
  if (ready) browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!ready).each(STORES)('3 instances behind nginx, sessions on $name', ({ kind }) => {
  let cluster: Cluster;
  let available = false;
  /** Tokens, codes and cookie values the tests saw: none may appear in any instance's output. */
  const secrets: string[] = [];
  const keep = (...values: (string | undefined)[]) => {
    for (const value of values) if (value) secrets.push(value);
  };

  beforeAll(async () => {
    available = await storeAvailable(kind);
    if (!available) return;
    cluster = await startCluster({
      store: kind,
      emulator: {
        refreshMode: 'rotate',
        users: [
          { id: 'dave', accountId: 'acct_dave', displayName: 'Dave Example', images: [] },
          { id: 'erin', accountId: 'acct_erin', displayName: 'Erin Example', images: [] },
        ],
      },
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const autoApprove = (user: string | null) =>
    control(cluster.emulator, 'config', { auto_approve: user }).then(() => undefined);

  /** GET /token on every instance, straight to it, with this cookie header: the statuses. */
  const tokenEverywhere = (cookie: string) =>
    Promise.all(
      cluster.instances.map(async (instance) => {
        const response = await cluster.direct(instance, '/token', { headers: { cookie } });
        await response.body?.cancel();
        return response.status;
      }),
    );

  it('Chromium through nginx: login started on one instance finishes on another; profile on every instance; Refresh now; log out; a forged callback gets a 4xx page', async (context) => {
    if (!available) return context.skip();
    await autoApprove(null);
    const page = await (await browser.newContext()).newPage();
    const served: { path: string; status: number; upstream: string | undefined }[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin !== cluster.url) return;
      served.push({
        path: url.pathname,
        status: response.status(),
        upstream: response.headers()[UPSTREAM_HEADER],
      });
    });
    const codesBefore = (await tokenRequests(cluster.emulator)).authorization_code;

    await page.goto(cluster.url);
    await page.getByRole('link', { name: 'Log in with Spotify' }).click();
    await page.waitForURL(`${cluster.emulator.url}/authorize**`);
    await page.getByRole('radio', { name: /alice/i }).check();
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(`${cluster.url}/`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Alice/);
    expect(page.url()).not.toContain('code=');
    keep(...(await page.context().cookies(cluster.url)).map((cookie) => cookie.value));

    const login = served.find((r) => r.path === '/login');
    const callback = served.find((r) => r.path === '/callback');
    expect(login?.status).toBe(303);
    expect(callback?.status).toBe(303);
    const instanceAddresses = cluster.instances.map((i) => i.address);
    expect(instanceAddresses).toContain(must(login, 'login').upstream);
    expect(instanceAddresses).toContain(must(callback, 'callback').upstream);
    // nginx's round-robin sent the two halves of the login to different instances.
    expect(must(callback, 'callback').upstream).not.toBe(must(login, 'login').upstream);
    expect((await tokenRequests(cluster.emulator)).authorization_code).toBe(codesBefore + 1);
    // And the callback's instance is the one that logged the login.
    const finisher = must(
      cluster.instances.find((i) => i.address === must(callback, 'callback').upstream),
      'cluster.instances.find((i) => i.address === must(callback, "callback").upstream)',
    );
    expect(logLines(finisher).some((line) => line['msg'] === 'login')).toBe(true);

    // The logged-in profile page, from every instance in turn.
    for (let reload = 0; reload < 9; reload++) {
      const pages = new Set(served.filter((r) => r.path === '/' && r.status === 200).map((r) => r.upstream));
      if (pages.size === 3) break;
      await page.reload();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Alice/);
    }
    expect(
      new Set(served.filter((r) => r.path === '/' && r.status === 200).map((r) => r.upstream)).size,
    ).toBe(3);

    const refreshesBefore = (await tokenRequests(cluster.emulator)).refresh_token;
    const countdown = page.locator('[data-expires-at]');
    const expiryBefore = Number(await countdown.getAttribute('data-expires-at'));
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect.poll(() => page.locator('#refresh-status').textContent()).toMatch(/Refreshed at/);
    expect(Number(await countdown.getAttribute('data-expires-at'))).toBeGreaterThan(expiryBefore);
    expect((await tokenRequests(cluster.emulator)).refresh_token).toBe(refreshesBefore + 1);
    // The page's token through nginx, whichever instance answers: a live token of Alice's. (An instance
    // that had read the grant just before may hand out the previous, still valid token for up to the
    // token cache time, 5 s.)
    for (let i = 0; i < 3; i++) {
      const token = await page.evaluate<string>(
        'fetch("/token").then((r) => r.json()).then((t) => t.access_token)',
      );
      keep(token);
      const info = cluster.emulator.state.lookupAccessToken(token);
      expect(info?.userId).toBe('alice');
      expect(must(info, 'info').expiresAt).toBeGreaterThan(Date.now());
    }

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${cluster.url}/`);
    await expect.poll(() => page.getByRole('link', { name: 'Log in with Spotify' }).count()).toBe(1);
    await sleep(EVERYWHERE_WITHIN_MS);
    const after = await page.evaluate<number[]>(
      'Promise.all([1, 2, 3].map(() => fetch("/token").then((r) => r.status)))',
    );
    expect(after).toEqual([401, 401, 401]);

    await page.context().close();

    // A fresh browser (the emulator would remember Alice's consent and come straight back).
    const attacked = await (await browser.newContext()).newPage();
    const forgedCodes = (await tokenRequests(cluster.emulator)).authorization_code;
    await attacked.goto(`${cluster.url}/login`);
    await attacked.waitForURL(`${cluster.emulator.url}/authorize**`);
    const forged = await attacked.goto(`${cluster.url}/callback?code=stolen-code&state=tampered`);
    expect(forged?.status()).toBe(400);
    await expect
      .poll(() => attacked.getByRole('heading', { level: 1 }).textContent())
      .toBe('Login attempt rejected');
    expect((await tokenRequests(cluster.emulator)).authorization_code).toBe(forgedCodes);
    await attacked.context().close();
  }, 90_000);

  it('a login transaction is single use across instances: started on A, finished on B, replayed on C and A → 400, no token request', async (context) => {
    if (!available) return context.skip();
    await autoApprove('bob');
    const [a, b, c] = cluster.instances as [
      (typeof cluster.instances)[0],
      (typeof cluster.instances)[0],
      (typeof cluster.instances)[0],
    ];
    const loginsBefore = cluster.instances.map((i) => logLines(i).filter((l) => l['msg'] === 'login').length);
    const client = new Client(cluster);
    const { callbackPath, loginCookie, callback } = await client.login(a, b);
    keep(loginCookie, new URLSearchParams(callbackPath.split('?')[1]).get('code') ?? undefined);
    keep(client.cookies.get('spotauth_session'));
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/');
    const token = await client.request('/token', { instance: c });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    keep(access_token);
    expect(cluster.emulator.state.lookupAccessToken(access_token)?.userId).toBe('bob');
    // B logged the login; A (which started it) and C did not.
    const loginsAfter = cluster.instances.map((i) => logLines(i).filter((l) => l['msg'] === 'login').length);
    expect(loginsAfter.map((n, i) => n - must(loginsBefore[i], 'loginsBefore[i]'))).toEqual([0, 1, 0]);

    const before = await tokenRequests(cluster.emulator);
    for (const instance of [c, a, b]) {
      const replay = await cluster.direct(instance, callbackPath, {
        headers: { cookie: `spotauth_login=${loginCookie}`, accept: 'application/json' },
      });
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error: string }).error).toBe('login_expired');
    }
    expect(await tokenRequests(cluster.emulator)).toEqual(before);
  });

  it('one callback sent to all three instances at the same moment: one login, one code exchange', async (context) => {
    if (!available) return context.skip();
    await autoApprove('dave');
    const client = new Client(cluster);
    const login = await client.request('/login', {
      instance: must(cluster.instances[0], 'cluster.instances[0]'),
    });
    const authorize = await fetch(must(login.headers.get('location'), 'a location header'), {
      redirect: 'manual',
    });
    const callbackPath = must(authorize.headers.get('location'), 'a location header').slice(
      cluster.url.length,
    );
    const before = await tokenRequests(cluster.emulator);
    const answers = await Promise.all(
      cluster.instances.map((instance) =>
        cluster.direct(instance, callbackPath, { headers: { cookie: client.cookieHeader() } }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    await Promise.all(answers.map((r) => r.body?.cancel()));
    expect(statuses).toEqual([303, 400, 400]);
    const after = await tokenRequests(cluster.emulator);
    expect(after.authorization_code - before.authorization_code).toBe(1);
  });

  it(`a logout on one instance ends the session on every instance within ${EVERYWHERE_WITHIN_MS} ms`, async (context) => {
    if (!available) return context.skip();
    await autoApprove('carol');
    const client = new Client(cluster);
    expect((await client.login()).callback.status).toBe(303);
    const cookie = client.cookieHeader();
    keep(client.cookies.get('spotauth_session'));
    // Every instance has read the session (and trusts it for the next 500 ms).
    expect(await tokenEverywhere(cookie)).toEqual([200, 200, 200]);
    const csrf = await client.csrfToken(cluster.instances[0]);
    const logout = await client.request('/logout', {
      method: 'POST',
      instance: must(cluster.instances[0], 'cluster.instances[0]'),
      headers: { 'x-csrf-token': csrf, origin: cluster.url },
    });
    expect(logout.status).toBe(303);
    await sleep(EVERYWHERE_WITHIN_MS);
    expect(await tokenEverywhere(cookie)).toEqual([401, 401, 401]);
  });

  it(`a grant marked reauth_required (revoked at Spotify) ends all its sessions on every instance within ${EVERYWHERE_WITHIN_MS} ms`, async (context) => {
    if (!available) return context.skip();
    await autoApprove('erin');
    const first = new Client(cluster);
    const second = new Client(cluster);
    expect((await first.login()).callback.status).toBe(303);
    expect((await second.login()).callback.status).toBe(303);
    const cookies = [first.cookieHeader(), second.cookieHeader()];
    for (const cookie of cookies) expect(await tokenEverywhere(cookie)).toEqual([200, 200, 200]);
    const grantKey = ((await (await first.request('/session')).json()) as { user: string }).user;

    await control(cluster.emulator, 'revoke', { user_id: 'erin' });
    await control(cluster.emulator, 'expire', { user_id: 'erin' });
    const before = await tokenRequests(cluster.emulator);
    // The profile page meets a 401 from Spotify, refreshes once, gets invalid_grant: "log in again".
    const profile = await first.request('/', {
      instance: must(cluster.instances[1], 'cluster.instances[1]'),
    });
    expect(profile.status).toBe(401);
    expect(await profile.text()).toContain('Please log in again');
    expect((await tokenRequests(cluster.emulator)).refresh_token).toBe(before.refresh_token + 1);

    await sleep(EVERYWHERE_WITHIN_MS);
    for (const cookie of cookies) expect(await tokenEverywhere(cookie)).toEqual([401, 401, 401]);
    const store = await cluster.openStore();
    try {
      expect((await store.get(grantKey))?.status).toBe('reauth_required');
    } finally {
      await store.close();
    }
    // Nothing kept asking Spotify.
    expect((await tokenRequests(cluster.emulator)).refresh_token).toBe(before.refresh_token + 1);
  });

  it('no instance logged an error, a token, a code or a cookie; nginx logged no error', async (context) => {
    if (!available) return context.skip();
    expect(secrets.length).toBeGreaterThan(4);
    for (const instance of cluster.instances) {
      const output = instance.output();
      for (const secret of secrets) expect(output.includes(secret), `instance ${instance.index}`).toBe(false);
      const errors = logLines(instance).filter((line) => Number(line['level']) >= 50);
      expect(errors, `instance ${instance.index}`).toEqual([]);
    }
    expect(cluster.nginx.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]/);
  });
});
