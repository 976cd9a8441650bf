import { describe, expect, it } from 'vitest';
import { emulatorOptionsFrom } from '../../src/cli/commands/emulator.js';
import { InvalidInput } from '../../src/emulator/errors.js';
import { type EmulatorOptions, type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { parseQuotaBudget, QuotaLedger, type QuotaRefusal, quotaBucket } from '../../src/emulator/quotas.js';
import {
  authorizeCode,
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  exchange,
  postToken,
  REDIRECT_URI,
  start,
} from './helpers.js';

const APP = 'app-one';
const HOUR = 3600_000;

/** A ledger on a clock the test moves by hand (the emulator's own clock is tested over HTTP below). */
function ledger() {
  const clock = { now: 1_800_000_000_000 };
  const quotas = new QuotaLedger(() => clock.now);
  const at = (ms: number) => {
    clock.now = 1_800_000_000_000 + ms;
  };
  const charge = (pattern = '/v1/me', clientId = APP) => quotas.charge(clientId, pattern);
  return { quotas, at, charge };
}

function times(n: number, f: () => QuotaRefusal | null): (QuotaRefusal | null)[] {
  return Array.from({ length: n }, () => f());
}

describe('QuotaLedger: the 30-second window', () => {
  it('is off by default: nothing is refused', () => {
    const { charge } = ledger();
    expect(times(5000, charge).every((r) => r === null)).toBe(true);
  });

  it('admits rate_limit requests per rolling 30 s, and Retry-After is the wait for the oldest to age out', () => {
    const { quotas, at, charge } = ledger();
    quotas.setDefault({ rateLimit: 3 });
    at(0);
    expect(charge()).toBeNull();
    at(10_000);
    expect(charge()).toBeNull();
    at(20_000);
    expect(charge()).toBeNull();
    at(25_000);
    expect(charge()).toEqual({ kind: 'rate_limit', retryAfter: 5, body: 'json' });
    at(29_999);
    expect(charge()).toEqual({ kind: 'rate_limit', retryAfter: 1, body: 'json' });
    // The request at 0 leaves the window at 30 s exactly.
    at(30_000);
    expect(charge()).toBeNull();
    at(30_500);
    expect(charge()).toEqual({ kind: 'rate_limit', retryAfter: 10, body: 'json' });
  });

  it('does not count refused requests, so a client that waits Retry-After gets through', () => {
    const { quotas, at, charge } = ledger();
    quotas.setDefault({ rateLimit: 2 });
    at(0);
    times(2, charge);
    const refusals = times(1000, charge);
    expect(refusals.every((r) => r?.kind === 'rate_limit' && r.retryAfter === 30)).toBe(true);
    at(30_000);
    expect(times(2, charge)).toEqual([null, null]);
    expect(quotas.report(APP).refused).toEqual({ rate_limit: 1000, quota_exceeded: 0 });
  });

  it('counts each app apart', () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ rateLimit: 1 });
    expect(charge('/v1/me', 'a')).toBeNull();
    expect(charge('/v1/me', 'a')?.kind).toBe('rate_limit');
    expect(charge('/v1/me', 'b')).toBeNull();
  });

  it('can send a fixed Retry-After and the plain-text body instead', () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ rateLimit: 1, rateLimitRetryAfter: 2, rateLimitBody: 'text' });
    charge();
    expect(charge()).toEqual({ kind: 'rate_limit', retryAfter: 2, body: 'text' });
  });
});

describe('QuotaLedger: the daily quota', () => {
  it('refuses with QUOTA_EXCEEDED once the rolling 24 h are full, and Retry-After is hours long', () => {
    const { quotas, at, charge } = ledger();
    quotas.setDefault({ dailyQuota: 100 });
    // The GuessSong pattern (WEB-API-2026 §9): most of the budget spent the evening before.
    at(0);
    expect(times(80, charge).every((r) => r === null)).toBe(true);
    at(10 * HOUR);
    expect(times(20, charge).every((r) => r === null)).toBe(true);
    at(12 * HOUR);
    expect(charge()).toEqual({ kind: 'quota_exceeded', retryAfter: 12 * 3600 });
    // The evening's requests age out together, 24 h after they were made.
    at(24 * HOUR - 1000);
    expect(charge()).toEqual({ kind: 'quota_exceeded', retryAfter: 1 });
    at(24 * HOUR);
    expect(times(80, charge).every((r) => r === null)).toBe(true);
    expect(charge()).toEqual({ kind: 'quota_exceeded', retryAfter: 10 * 3600 });
    expect(quotas.report(APP).used.daily).toEqual({ all: 100 });
  });

  it('reports the quota, not the rate limit, when both are exhausted', () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ rateLimit: 2, dailyQuota: 2 });
    times(2, charge);
    expect(charge()?.kind).toBe('quota_exceeded');
  });

  it('a request the 30-second window refuses does not spend the daily quota', () => {
    const { quotas, at, charge } = ledger();
    quotas.setDefault({ rateLimit: 1, dailyQuota: 2 });
    at(0);
    expect(charge()).toBeNull();
    expect(charge()?.kind).toBe('rate_limit');
    at(30_000);
    expect(charge()).toBeNull();
    expect(quotas.report(APP).used.daily).toEqual({ all: 2 });
  });

  it('per_resource: each resource has its own daily budget; the 30-second window stays app-wide', () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ dailyQuota: 2, dailyBuckets: 'per_resource' });
    expect(times(2, () => charge('/v1/albums/{id}/tracks'))).toEqual([null, null]);
    expect(charge('/v1/albums/{id}')?.kind).toBe('quota_exceeded');
    expect(charge('/v1/search')).toBeNull();
    expect(charge('/v1/me/player/play')).toBeNull();
    expect(charge('/v1/me/library')).toBeNull();
    expect(quotas.report(APP).used.daily).toEqual({ albums: 2, search: 1, 'me/player': 1, 'me/library': 1 });
  });

  it('names buckets from the route pattern', () => {
    expect(quotaBucket('/v1/albums/{id}/tracks', 'per_resource')).toBe('albums');
    expect(quotaBucket('/v1/me', 'per_resource')).toBe('me');
    expect(quotaBucket('/v1/me/player/currently-playing', 'per_resource')).toBe('me/player');
    expect(quotaBucket('/v1/albums/{id}/tracks', 'shared')).toBe('all');
  });
});

describe('QuotaLedger: budgets', () => {
  it("an app's own budget replaces the default whole; null falls back to it", () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ rateLimit: 1 });
    quotas.setApp('free', {});
    quotas.setApp('tight', { dailyQuota: 1 });
    expect(times(50, () => charge('/v1/me', 'free')).every((r) => r === null)).toBe(true);
    expect(charge('/v1/me', 'tight')).toBeNull();
    expect(charge('/v1/me', 'tight')?.kind).toBe('quota_exceeded');
    quotas.setApp('free', null);
    // Requests made while the app had no limit were not kept (nothing bounds them), so none count.
    expect(charge('/v1/me', 'free')).toBeNull();
    expect(charge('/v1/me', 'free')?.kind).toBe('rate_limit');
    expect(quotas.hasOwnBudget('free')).toBe(false);
    expect(quotas.hasOwnBudget('tight')).toBe(true);
  });

  it('a budget change keeps the requests already counted', () => {
    const { quotas, at, charge } = ledger();
    quotas.setDefault({ rateLimit: 5 });
    for (let i = 0; i < 5; i++) {
      at(i * 1000);
      charge();
    }
    quotas.setDefault({ rateLimit: 3 });
    // The three newest (at 2, 3 and 4 s) still count: the window frees at 32 s.
    at(5000);
    expect(charge()).toEqual({ kind: 'rate_limit', retryAfter: 27, body: 'json' });
    quotas.setDefault({ rateLimit: 10 });
    expect(charge()).toBeNull();
    expect(quotas.report(APP).used.rate_window).toBe(4);
  });

  it('resetUsage forgets the counts, not the budgets', () => {
    const { quotas, charge } = ledger();
    quotas.setDefault({ rateLimit: 1 });
    charge();
    expect(charge()).not.toBeNull();
    quotas.resetUsage();
    expect(charge()).toBeNull();
    expect(charge()).not.toBeNull();
  });

  it('reports budgets and usage in snake_case', () => {
    const { quotas, at, charge } = ledger();
    quotas.setApp(APP, { rateLimit: 2, dailyQuota: 10 });
    at(0);
    times(3, charge);
    at(4000);
    expect(quotas.report(APP)).toEqual({
      budget: {
        rate_limit: 2,
        daily_quota: 10,
        rate_limit_body: 'json',
        rate_limit_retry_after: null,
        daily_buckets: 'shared',
      },
      own_budget: true,
      used: { rate_window: 2, rate_window_wait_seconds: 26, daily: { all: 2 } },
      refused: { rate_limit: 1, quota_exceeded: 0 },
    });
  });
});

describe('parseQuotaBudget', () => {
  it('takes snake_case (control API) and camelCase (startEmulator)', () => {
    expect(parseQuotaBudget({ rate_limit: 10, daily_quota: null, daily_buckets: 'per_resource' })).toEqual({
      rateLimit: 10,
      dailyQuota: null,
      dailyBuckets: 'per_resource',
    });
    expect(parseQuotaBudget({ rateLimit: 10, rateLimitBody: 'text', rateLimitRetryAfter: 0 })).toEqual({
      rateLimit: 10,
      rateLimitBody: 'text',
      rateLimitRetryAfter: 0,
    });
  });

  it.each([
    [[], 'quota must be an object'],
    [{ rate_limit: 0 }, 'quota.rate_limit must be an integer from 1 to 100000, or null for no limit'],
    [{ rate_limit: 1.5 }, 'quota.rate_limit must be an integer'],
    [{ daily_quota: '100' }, 'quota.daily_quota must be an integer from 1 to 1000000'],
    [{ daily_quota: 1_000_001 }, 'quota.daily_quota must be an integer from 1 to 1000000'],
    [{ rate_limit_body: 'html' }, 'quota.rate_limit_body must be "json" or "text"'],
    [{ rate_limit_retry_after: 31 }, 'quota.rate_limit_retry_after must be an integer from 0 to 30'],
    [{ daily_buckets: 'per_endpoint' }, 'quota.daily_buckets must be "shared" or "per_resource"'],
    [{ rate: 5 }, 'quota has an unknown field'],
  ])('refuses %j', (input, message) => {
    let error: unknown;
    try {
      parseQuotaBudget(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).status).toBe(400);
    expect((error as InvalidInput).message).toContain(message);
  });
});

// ---- Over real HTTP: the quota hook in the /v1 pipeline, the control API, the simulated clock. ----

const TRACK = `/v1/tracks/${TRACKS[0]?.id ?? ''}`;
const OTHER_APP = {
  client_id: 'quota-app-2',
  client_secret: 'quota-secret-2',
  redirect_uris: [REDIRECT_URI],
};

async function appToken(emulator: RunningEmulator, id = CLIENT_ID, secret = CLIENT_SECRET): Promise<string> {
  const result = await postToken(emulator, { grant_type: 'client_credentials' }, { auth: basic(id, secret) });
  if (result.status !== 200) throw new Error(`client_credentials for ${id}: ${result.status} ${result.text}`);
  return String(result.json?.['access_token']);
}

async function get(emulator: RunningEmulator, token: string, path = TRACK, origin?: string) {
  const response = await fetch(`${emulator.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) },
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    contentType: response.headers.get('content-type'),
    allowOrigin: response.headers.get('access-control-allow-origin'),
    text: await response.text(),
  };
}

const advance = (emulator: RunningEmulator, seconds: number) =>
  control(emulator, 'clock', { advance_seconds: seconds });

/** An emulator whose clock stands still unless the control API moves it (tokens outlive the test's days). */
const frozen = (options: EmulatorOptions = {}) =>
  start({ now: () => 1_800_000_000_000, accessTokenTtlSeconds: 7 * 86_400, ...options });

describe('quotas over HTTP', () => {
  it('are off by default', async () => {
    const emulator = await frozen();
    try {
      const token = await appToken(emulator);
      for (let i = 0; i < 60; i++) expect((await get(emulator, token)).status).toBe(200);
      expect((await control(emulator, 'quotas', undefined, 'GET')).json).toMatchObject({
        default: { rate_limit: null, daily_quota: null },
      });
    } finally {
      await emulator.stop();
    }
  });

  it('30-second window (startEmulator quota): 429 "API rate limit exceeded", Retry-After, moved by the clock', async () => {
    const emulator = await frozen({ quota: { rateLimit: 3 } });
    try {
      const token = await appToken(emulator);
      for (let i = 0; i < 3; i++) expect((await get(emulator, token)).status).toBe(200);
      const refused = await get(emulator, token, TRACK, 'https://app.example');
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBe('30');
      expect(refused.contentType).toBe('application/json; charset=utf-8');
      expect(JSON.parse(refused.text)).toEqual({
        error: { status: 429, message: 'API rate limit exceeded' },
      });
      // A browser app can see the 429 (CORS headers as on every /v1 answer).
      expect(refused.allowOrigin).toBe('*');
      await advance(emulator, 25);
      expect(await get(emulator, token)).toMatchObject({ status: 429, retryAfter: '5' });
      await advance(emulator, 5);
      expect((await get(emulator, token)).status).toBe(200);
      const report = (await control(emulator, 'quotas', undefined, 'GET')).json as {
        apps: Record<string, { used: { rate_window: number }; refused: Record<string, number> }>;
      };
      expect(report.apps[CLIENT_ID]?.refused).toEqual({ rate_limit: 2, quota_exceeded: 0 });
      expect(report.apps[CLIENT_ID]?.used.rate_window).toBe(1);
    } finally {
      await emulator.stop();
    }
  });

  it('daily quota (set when registering an app): 429 QUOTA_EXCEEDED with an hours-long Retry-After, per app', async () => {
    const emulator = await frozen();
    try {
      const registered = await control(emulator, 'apps', { ...OTHER_APP, quota: { daily_quota: 4 } });
      expect(registered.status).toBe(201);
      const limited = await appToken(emulator, OTHER_APP.client_id, OTHER_APP.client_secret);
      const free = await appToken(emulator);
      for (let i = 0; i < 3; i++) expect((await get(emulator, limited)).status).toBe(200);
      await advance(emulator, 6 * 3600);
      expect((await get(emulator, limited)).status).toBe(200);
      const refused = await get(emulator, limited, '/v1/search?q=a&type=track');
      expect(refused.status).toBe(429);
      expect(refused.text).toBe(
        '{"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}',
      );
      expect(refused.retryAfter).toBe(String(18 * 3600));
      // The sandbox app has no budget: the other app's quota is its own.
      expect((await get(emulator, free)).status).toBe(200);
      await advance(emulator, 18 * 3600 - 1);
      expect(await get(emulator, limited)).toMatchObject({ status: 429, retryAfter: '1' });
      await advance(emulator, 1);
      // The first three aged out together; the fourth (6 h later) still counts.
      for (let i = 0; i < 3; i++) expect((await get(emulator, limited)).status).toBe(200);
      expect(await get(emulator, limited)).toMatchObject({ status: 429, retryAfter: String(6 * 3600) });
    } finally {
      await emulator.stop();
    }
  });

  it('requests refused before the quota check (no or a bad token) spend nothing', async () => {
    const emulator = await frozen({ quota: { rateLimit: 1 } });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await fetch(`${emulator.url}${TRACK}`)).status).toBe(401);
        expect((await get(emulator, 'not-a-token')).status).toBe(401);
      }
      const token = await appToken(emulator);
      expect((await get(emulator, token)).status).toBe(200);
      expect((await get(emulator, token)).status).toBe(429);
    } finally {
      await emulator.stop();
    }
  });

  it('/_emulator/quotas: set the default and an app budget, read usage, fall back, reset; bad input is a 4xx', async () => {
    const emulator = await frozen();
    try {
      const token = await appToken(emulator);
      const setDefault = await control(emulator, 'quotas/default', { rate_limit: 2 }, 'PUT');
      expect(setDefault.status).toBe(200);
      expect(setDefault.json?.['default']).toMatchObject({ rate_limit: 2, daily_quota: null });
      expect((await get(emulator, token)).status).toBe(200);
      expect((await get(emulator, token)).status).toBe(200);
      expect((await get(emulator, token)).status).toBe(429);

      const own = await control(
        emulator,
        `quotas/apps/${CLIENT_ID}`,
        { rate_limit: 5, rate_limit_body: 'text', rate_limit_retry_after: 2 },
        'PUT',
      );
      expect(own.status).toBe(200);
      expect(own.json).toMatchObject({ own_budget: true, used: { rate_window: 2 } });
      for (let i = 0; i < 3; i++) expect((await get(emulator, token)).status).toBe(200);
      const text = await get(emulator, token);
      expect(text).toMatchObject({ status: 429, retryAfter: '2', text: 'Too many requests' });
      expect(text.contentType).toBe('text/plain');

      const back = await control(emulator, `quotas/apps/${CLIENT_ID}`, undefined, 'DELETE');
      expect(back.json).toMatchObject({ own_budget: false, budget: { rate_limit: 2 } });
      expect((await get(emulator, token)).status).toBe(429);
      await control(emulator, 'quotas/reset');
      expect((await get(emulator, token)).status).toBe(200);

      expect((await control(emulator, 'quotas/apps/nobody', { rate_limit: 1 }, 'PUT')).status).toBe(404);
      const bad = await control(emulator, 'quotas/default', { rate_limit: -1 }, 'PUT');
      expect(bad).toMatchObject({ status: 400, json: { error: { status: 400 } } });
      const badApp = await control(emulator, 'apps', { ...OTHER_APP, quota: { daily_quota: 'lots' } });
      expect(badApp.status).toBe(400);
      expect((await control(emulator, 'apps', undefined, 'GET')).json).not.toContainEqual(
        expect.objectContaining({ client_id: OTHER_APP.client_id }),
      );
    } finally {
      await emulator.stop();
    }
  });

  it('a user token counts against its app, whichever user', async () => {
    const emulator = await frozen({ autoApprove: 'alice', quota: { rateLimit: 2 } });
    try {
      const tokens = await exchange(emulator, await authorizeCode(emulator));
      const user = String(tokens.json?.['access_token']);
      const app = await appToken(emulator);
      expect((await get(emulator, user, '/v1/me')).status).toBe(200);
      expect((await get(emulator, app)).status).toBe(200);
      expect((await get(emulator, user, '/v1/me/')).status).toBe(429);
    } finally {
      await emulator.stop();
    }
  });
});

describe('CLI flags', () => {
  it('--rate-limit and --daily-quota set the default budget', async () => {
    expect((await emulatorOptionsFrom({ rateLimit: '100', dailyQuota: '2000' })).quota).toEqual({
      rateLimit: 100,
      dailyQuota: 2000,
    });
    expect((await emulatorOptionsFrom({})).quota).toBeUndefined();
    await expect(emulatorOptionsFrom({ rateLimit: '0' })).rejects.toThrow(
      '--rate-limit must be a whole number from 1 to 100000',
    );
    await expect(emulatorOptionsFrom({ dailyQuota: 'many' })).rejects.toThrow('--daily-quota must be');
  });
});
