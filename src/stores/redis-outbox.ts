import type { Redis } from 'ioredis';
import type { ClaimedEvent, NewOutboxEvent, Outbox, OutboxDelivery, OutboxEvent } from './outbox.js';
import {
  newClaim,
  publicEvent,
  retriedDeliveries,
  type StoredOutboxEvent,
  storedEvent,
} from './outbox-shared.js';

/**
 * Appends events inside a write's script. KEYS[n] due zset, KEYS[n+1] log zset; ARGV from `first`: the
 * event key prefix, then (id, json, createdAt) triples. A Lua fragment, so that the record and its events
 * are one atomic script.
 */
export function appendFragment(dueKey: number, logKey: number, first: number): string {
  return `
for i = ${first + 1}, #ARGV, 3 do
  redis.call('SET', ARGV[${first}] .. ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[${dueKey}], ARGV[i + 2], ARGV[i])
  redis.call('ZADD', KEYS[${logKey}], ARGV[i + 2], ARGV[i])
end`;
}

/** KEYS[1] due; ARGV[1] now, ARGV[2] limit, ARGV[3] claim, ARGV[4] lease ms, ARGV[5] claim key prefix. */
const CLAIM_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {}
for _, id in ipairs(ids) do
  if redis.call('SET', ARGV[5] .. id, ARGV[3], 'NX', 'PX', ARGV[4]) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[4]), id)
    table.insert(claimed, id)
  end
end
return claimed`;

/** KEYS[1] event, KEYS[2] claim, KEYS[3] due; ARGV[1] claim, ARGV[2] JSON, ARGV[3] next ('' = settled), ARGV[4] id. */
const SETTLE_SCRIPT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '' then redis.call('ZREM', KEYS[3], ARGV[4]) else redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4]) end
redis.call('DEL', KEYS[2])
return 1`;

/** The outbox as `<prefix>ob:ev:<id>` JSON, a due zset, a log zset, and `<prefix>ob:claim:<id>` leases. */
export class RedisOutbox implements Outbox {
  readonly dueKey: string;
  readonly logKey: string;
  readonly eventPrefix: string;
  readonly #claimPrefix: string;

  constructor(
    prefix: string,
    readonly call: <T>(fn: (redis: Redis) => Promise<T>) => Promise<T>,
  ) {
    this.dueKey = `${prefix}ob:due`;
    this.logKey = `${prefix}ob:log`;
    this.eventPrefix = `${prefix}ob:ev:`;
    this.#claimPrefix = `${prefix}ob:claim:`;
  }

  /** The ARGV tail for appendFragment: the event key prefix, then (id, json, createdAt) per event. */
  appendArgs(events: readonly NewOutboxEvent[], now: number): string[] {
    const args = [this.eventPrefix];
    for (const event of events) args.push(event.id, JSON.stringify(storedEvent(event, now)), String(now));
    return args;
  }

  async append(events: readonly NewOutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.call((r) =>
      r.eval(appendFragment(1, 2, 1), 2, this.dueKey, this.logKey, ...this.appendArgs(events, Date.now())),
    );
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const claim = newClaim();
    const ids = (await this.call((r) =>
      r.eval(
        CLAIM_SCRIPT,
        1,
        this.dueKey,
        String(Date.now()),
        String(limit),
        claim,
        String(leaseMs),
        this.#claimPrefix,
      ),
    )) as string[];
    if (ids.length === 0) return [];
    const values = await this.call((r) => r.mget(ids.map((id) => this.eventPrefix + id)));
    return values.flatMap((raw) =>
      raw ? [{ ...publicEvent(JSON.parse(raw) as StoredOutboxEvent), claim }] : [],
    );
  }

  async settle(
    id: string,
    claim: string,
    deliveries: readonly OutboxDelivery[],
    nextAttemptAt: number | null,
  ): Promise<boolean> {
    const current = await this.get(id);
    if (!current) return false;
    return this.#write({ ...current, deliveries: [...deliveries], nextAttemptAt }, claim);
  }

  async list(options: { limit?: number; pendingOnly?: boolean } = {}): Promise<OutboxEvent[]> {
    const limit = options.limit ?? 100;
    const ids = await this.call((r) => r.zrevrange(this.logKey, 0, options.pendingOnly ? -1 : limit - 1));
    if (ids.length === 0) return [];
    const values = await this.call((r) => r.mget(ids.map((id) => this.eventPrefix + id)));
    return values
      .flatMap((raw) => (raw ? [publicEvent(JSON.parse(raw) as StoredOutboxEvent)] : []))
      .filter((event) => !options.pendingOnly || event.nextAttemptAt !== null)
      .slice(0, limit);
  }

  async get(id: string): Promise<OutboxEvent | null> {
    const raw = await this.call((r) => r.get(this.eventPrefix + id));
    return raw ? publicEvent(JSON.parse(raw) as StoredOutboxEvent) : null;
  }

  async retry(id: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current) return false;
    const now = Date.now();
    return this.#write(
      { ...current, deliveries: retriedDeliveries(current.deliveries, now), nextAttemptAt: now },
      '',
    );
  }

  async purge(olderThanMs: number): Promise<number> {
    const ids = await this.call((r) => r.zrangebyscore(this.logKey, '-inf', Date.now() - olderThanMs));
    if (ids.length === 0) return 0;
    const values = await this.call((r) => r.mget(ids.map((id) => this.eventPrefix + id)));
    const settled = ids.filter((_, i) => {
      const raw = values[i];
      return !raw || (JSON.parse(raw) as StoredOutboxEvent).nextAttemptAt === null;
    });
    if (settled.length === 0) return 0;
    await this.call((r) =>
      r
        .multi()
        .del(...settled.map((id) => this.eventPrefix + id))
        .zrem(this.logKey, ...settled)
        .zrem(this.dueKey, ...settled)
        .exec(),
    );
    return settled.length;
  }

  async #write(event: OutboxEvent, claim: string): Promise<boolean> {
    const result = await this.call((r) =>
      r.eval(
        SETTLE_SCRIPT,
        3,
        this.eventPrefix + event.id,
        this.#claimPrefix + event.id,
        this.dueKey,
        claim,
        JSON.stringify(event),
        event.nextAttemptAt === null ? '' : String(event.nextAttemptAt),
        event.id,
      ),
    );
    return result === 1;
  }
}
