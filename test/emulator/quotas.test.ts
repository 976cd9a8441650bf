import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/emulator/errors.js';
import { parseQuotaBudget, QuotaLedger, type QuotaRefusal, quotaBucket } from '../../src/emulator/quotas.js';

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
