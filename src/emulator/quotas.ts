import { InvalidInput } from './errors.js';
import { ApiError } from './web-api/endpoint.js';
import type { QuotaRequest } from './web-api/pipeline.js';

/**
 * Per-app rate limits of the /v1 Web API, on the emulator's clock (FACTS §6, WEB-API-2026 §9):
 * - a rolling 30-second window over every request of the app (429, Retry-After of a few seconds);
 * - a rolling 24-hour quota (429 `QUOTA_EXCEEDED`, a Retry-After of hours).
 * Spotify publishes neither number, so both are off until a budget is given.
 *
 * Choices where the sources are silent (each one commented where it is made):
 * - requests refused with a 429 are not counted, so a client that obeys Retry-After gets through;
 * - Retry-After is the exact time until the window admits the next request;
 * - the budget belongs to a client id; 2026 Spotify counts dev-mode quota per developer account (FACTS §6,
 *   BQ), which the emulator has no notion of.
 */

export const RATE_WINDOW_SECONDS = 30;
export const QUOTA_WINDOW_SECONDS = 24 * 3600;
export const MAX_RATE_LIMIT = 100_000;
export const MAX_DAILY_QUOTA = 1_000_000;

/** The 2026 quota body (WEB-API-2026 §9, GuessSong PR #28; FACTS §3.3, July-2026 changelog). */
export const QUOTA_EXCEEDED_BODY = {
  error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' },
};
/**
 * The 30-second limit's body is not captured for 2026. 'json' is the Web API error object with the
 * message seen through 2017–2024 (spotify/web-api#542), the same one the rate_limit API fault sends;
 * 'text' is the plain-text body of older 429s (content-length 17; MMM-Spotify#172).
 */
export const RATE_LIMIT_JSON_BODY = { error: { status: 429, message: 'API rate limit exceeded' } };
export const RATE_LIMIT_TEXT_BODY = 'Too many requests';

/** The body of the 30-second limit's 429: Spotify's 2026 JSON error, or the older plain text. */
export type RateLimitBody = 'json' | 'text';
/**
 * Spotify says endpoints are "grouped into quota buckets" sharing a limit, without naming them
 * (WEB-API-2026 §9). 'shared': one daily bucket per app. 'per_resource': one per resource (the path's
 * first segment after /v1, or its first two under /v1/me: albums, search, me/player, me/library …).
 */
export type QuotaBuckets = 'shared' | 'per_resource';

/** An app's request budgets (both off unless set). */
export interface QuotaBudget {
  /** Requests per rolling 30 seconds; null or absent = unlimited. */
  rateLimit?: number | null;
  /** Requests per rolling 24 hours (per bucket); null or absent = unlimited. */
  dailyQuota?: number | null;
  /** Default 'json'. */
  rateLimitBody?: RateLimitBody;
  /** A fixed Retry-After (seconds) for the 30-second limit instead of the computed one; default null. */
  rateLimitRetryAfter?: number | null;
  /** Default 'shared'. */
  dailyBuckets?: QuotaBuckets;
}

/** A budget with every field filled in. */
export interface ResolvedBudget {
  rateLimit: number | null;
  dailyQuota: number | null;
  rateLimitBody: RateLimitBody;
  rateLimitRetryAfter: number | null;
  dailyBuckets: QuotaBuckets;
}

export type QuotaRefusal =
  | { kind: 'rate_limit'; retryAfter: number; body: RateLimitBody }
  | { kind: 'quota_exceeded'; retryAfter: number };

/**
 * The last `limit` admitted requests, oldest first in ring order: the window admits another once the
 * oldest of them is `windowMs` old. Memory is bounded by the limit, whatever the request rate.
 */
class RollingWindow {
  private stamps: number[] = [];
  /** Index of the oldest stamp once the ring is full. */
  private head = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until a request would be admitted; 0 = now. */
  waitMs(now: number): number {
    if (this.stamps.length < this.limit) return 0;
    return Math.max(0, (this.stamps[this.head] ?? 0) + this.windowMs - now);
  }

  record(now: number): void {
    if (this.stamps.length < this.limit) {
      this.stamps.push(now);
      return;
    }
    this.stamps[this.head] = now;
    this.head = (this.head + 1) % this.limit;
  }

  used(now: number): number {
    let count = 0;
    for (const stamp of this.stamps) if (stamp > now - this.windowMs) count++;
    return count;
  }

  /** The same history under another limit: the newest requests still count after a budget change. */
  resized(limit: number): RollingWindow {
    const next = new RollingWindow(limit, this.windowMs);
    const ordered = [...this.stamps.slice(this.head), ...this.stamps.slice(0, this.head)];
    for (const stamp of ordered.slice(-limit)) next.record(stamp);
    return next;
  }
}

interface AppUsage {
  rate: RollingWindow | null;
  daily: Map<string, RollingWindow>;
  refused: { rate_limit: number; quota_exceeded: number };
}

function resolve(budget: QuotaBudget | null): ResolvedBudget {
  return {
    rateLimit: budget?.rateLimit ?? null,
    dailyQuota: budget?.dailyQuota ?? null,
    rateLimitBody: budget?.rateLimitBody ?? 'json',
    rateLimitRetryAfter: budget?.rateLimitRetryAfter ?? null,
    dailyBuckets: budget?.dailyBuckets ?? 'shared',
  };
}

/** The bucket a route pattern such as /v1/me/player/play or /v1/albums/{id}/tracks counts in. */
export function quotaBucket(pattern: string, buckets: QuotaBuckets): string {
  if (buckets === 'shared') return 'all';
  const segments = pattern.replace(/^\/v1\//, '').split('/');
  const first = segments[0] ?? '';
  return first === 'me' && segments[1] ? `me/${segments[1]}` : first;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Every app's budget and usage, on the emulator's clock. */
export class QuotaLedger {
  private defaultBudget: ResolvedBudget = resolve(null);
  private readonly own = new Map<string, ResolvedBudget>();
  private readonly usage = new Map<string, AppUsage>();

  constructor(private readonly now: () => number) {}

  setDefault(budget: QuotaBudget | null): void {
    this.defaultBudget = resolve(budget);
    this.refit();
  }

  /** An app's own budget (replacing the default entirely), or null to fall back to the default. */
  setApp(clientId: string, budget: QuotaBudget | null): void {
    if (budget === null) this.own.delete(clientId);
    else this.own.set(clientId, resolve(budget));
    this.refit();
  }

  budgetFor(clientId: string): ResolvedBudget {
    return this.own.get(clientId) ?? this.defaultBudget;
  }

  hasOwnBudget(clientId: string): boolean {
    return this.own.has(clientId);
  }

  get default(): ResolvedBudget {
    return this.defaultBudget;
  }

  /**
   * Counts one /v1 request of `clientId` to the route `pattern`, or refuses it. The daily quota is
   * checked first: when both are exhausted the longer wait is the one worth reporting.
   */
  charge(clientId: string, pattern: string): QuotaRefusal | null {
    const budget = this.budgetFor(clientId);
    if (budget.rateLimit === null && budget.dailyQuota === null) return null;
    const now = this.now();
    const usage = this.usageOf(clientId, budget);
    let daily: RollingWindow | undefined;
    if (budget.dailyQuota !== null) {
      const bucket = quotaBucket(pattern, budget.dailyBuckets);
      daily = usage.daily.get(bucket);
      if (!daily) {
        daily = new RollingWindow(budget.dailyQuota, QUOTA_WINDOW_SECONDS * 1000);
        usage.daily.set(bucket, daily);
      }
      const wait = daily.waitMs(now);
      if (wait > 0) {
        usage.refused.quota_exceeded++;
        return { kind: 'quota_exceeded', retryAfter: seconds(wait) };
      }
    }
    if (usage.rate) {
      const wait = usage.rate.waitMs(now);
      if (wait > 0) {
        usage.refused.rate_limit++;
        return {
          kind: 'rate_limit',
          retryAfter: budget.rateLimitRetryAfter ?? seconds(wait),
          body: budget.rateLimitBody,
        };
      }
    }
    usage.rate?.record(now);
    daily?.record(now);
    return null;
  }

  /** Forgets every request counted so far (budgets stay). */
  resetUsage(): void {
    this.usage.clear();
  }

  report(clientId: string) {
    const now = this.now();
    const usage = this.usage.get(clientId);
    const budget = this.budgetFor(clientId);
    const daily: Record<string, number> = {};
    let rateResetsIn = 0;
    for (const [bucket, window] of usage?.daily ?? []) daily[bucket] = window.used(now);
    if (usage?.rate) rateResetsIn = Math.ceil(usage.rate.waitMs(now) / 1000);
    return {
      budget: budgetJson(budget),
      own_budget: this.own.has(clientId),
      used: {
        rate_window: usage?.rate?.used(now) ?? 0,
        /** Seconds until the 30-second window admits a request again; 0 = it does now. */
        rate_window_wait_seconds: rateResetsIn,
        daily,
      },
      refused: { ...(usage?.refused ?? { rate_limit: 0, quota_exceeded: 0 }) },
    };
  }

  clientIds(): string[] {
    return [...new Set([...this.own.keys(), ...this.usage.keys()])];
  }

  private usageOf(clientId: string, budget: ResolvedBudget): AppUsage {
    let usage = this.usage.get(clientId);
    if (!usage) {
      usage = {
        rate:
          budget.rateLimit === null ? null : new RollingWindow(budget.rateLimit, RATE_WINDOW_SECONDS * 1000),
        daily: new Map(),
        refused: { rate_limit: 0, quota_exceeded: 0 },
      };
      this.usage.set(clientId, usage);
    }
    return usage;
  }

  /** After a budget change: keep each app's recent history, cut or widened to its new limits. */
  private refit(): void {
    for (const [clientId, usage] of this.usage) {
      const budget = this.budgetFor(clientId);
      if (budget.rateLimit === null) usage.rate = null;
      else if (usage.rate === null)
        usage.rate = new RollingWindow(budget.rateLimit, RATE_WINDOW_SECONDS * 1000);
      else if (usage.rate.limit !== budget.rateLimit) usage.rate = usage.rate.resized(budget.rateLimit);
      const dailyQuota = budget.dailyQuota;
      const sharedKeys = [...usage.daily.keys()].every((bucket) => bucket === 'all');
      if (dailyQuota === null || sharedKeys !== (budget.dailyBuckets === 'shared')) usage.daily.clear();
      else {
        for (const [bucket, window] of usage.daily) {
          if (window.limit !== dailyQuota) usage.daily.set(bucket, window.resized(dailyQuota));
        }
      }
    }
  }
}

/**
 * The pipeline's quota hook (web-api/pipeline.ts: after the token, before the allowlist and scopes):
 * charges the request to the token's app, or refuses it. No x-ratelimit-* headers: none were seen in
 * 2026 (WEB-API-2026 §9).
 */
export function quotaHook({ state, token, endpoint }: QuotaRequest): ApiError | undefined {
  const refusal = state.quotas.charge(token.clientId, endpoint.route);
  return refusal === null ? undefined : refusalError(refusal);
}

export function refusalError(refusal: QuotaRefusal): ApiError {
  const headers = { 'Retry-After': String(refusal.retryAfter) };
  if (refusal.kind === 'quota_exceeded') {
    const { message, reason } = QUOTA_EXCEEDED_BODY.error;
    return new ApiError(429, message, { reason, headers });
  }
  if (refusal.body === 'text') {
    return new ApiError(429, null, { raw: RATE_LIMIT_TEXT_BODY, contentType: 'text/plain', headers });
  }
  return new ApiError(429, RATE_LIMIT_JSON_BODY.error.message, { headers });
}

export function budgetJson(budget: ResolvedBudget) {
  return {
    rate_limit: budget.rateLimit,
    daily_quota: budget.dailyQuota,
    rate_limit_body: budget.rateLimitBody,
    rate_limit_retry_after: budget.rateLimitRetryAfter,
    daily_buckets: budget.dailyBuckets,
  };
}

function limitIn(value: unknown, name: string, max: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInput(`${name} must be an integer from 1 to ${max}, or null for no limit`);
  }
  return value;
}

const BUDGET_FIELDS = new Set([
  'rate_limit',
  'daily_quota',
  'rate_limit_body',
  'rate_limit_retry_after',
  'daily_buckets',
]);

/** Validates a budget given to the control API (snake_case) or to startEmulator (camelCase). */
export function parseQuotaBudget(input: unknown, where = 'quota'): QuotaBudget {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInput(`${where} must be an object like {"rate_limit": 100, "daily_quota": 2000}`);
  }
  const raw = input as Record<string, unknown>;
  const pick = (snake: string, camel: string) => (raw[snake] !== undefined ? raw[snake] : raw[camel]);
  for (const key of Object.keys(raw)) {
    const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (!BUDGET_FIELDS.has(snake)) {
      throw new InvalidInput(`${where} has an unknown field; use ${[...BUDGET_FIELDS].join(', ')}`);
    }
  }
  const budget: QuotaBudget = {};
  const rateLimit = pick('rate_limit', 'rateLimit');
  if (rateLimit !== undefined) budget.rateLimit = limitIn(rateLimit, `${where}.rate_limit`, MAX_RATE_LIMIT);
  const dailyQuota = pick('daily_quota', 'dailyQuota');
  if (dailyQuota !== undefined) {
    budget.dailyQuota = limitIn(dailyQuota, `${where}.daily_quota`, MAX_DAILY_QUOTA);
  }
  const body = pick('rate_limit_body', 'rateLimitBody');
  if (body !== undefined) {
    if (body !== 'json' && body !== 'text') {
      throw new InvalidInput(`${where}.rate_limit_body must be "json" or "text"`);
    }
    budget.rateLimitBody = body;
  }
  const retryAfter = pick('rate_limit_retry_after', 'rateLimitRetryAfter');
  if (retryAfter !== undefined) {
    if (
      retryAfter !== null &&
      (typeof retryAfter !== 'number' ||
        !Number.isInteger(retryAfter) ||
        retryAfter < 0 ||
        retryAfter > RATE_WINDOW_SECONDS)
    ) {
      throw new InvalidInput(
        `${where}.rate_limit_retry_after must be an integer from 0 to ${RATE_WINDOW_SECONDS}, or null`,
      );
    }
    budget.rateLimitRetryAfter = retryAfter;
  }
  const buckets = pick('daily_buckets', 'dailyBuckets');
  if (buckets !== undefined) {
    if (buckets !== 'shared' && buckets !== 'per_resource') {
      throw new InvalidInput(`${where}.daily_buckets must be "shared" or "per_resource"`);
    }
    budget.dailyBuckets = buckets;
  }
  return budget;
}

/** An app's `quota` in the control API: a budget of its own, or null to use the emulator's default. */
export function parseAppQuota(input: unknown): QuotaBudget | null {
  return input === null ? null : parseQuotaBudget(input, 'quota');
}
