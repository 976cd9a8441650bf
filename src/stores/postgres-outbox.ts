import type { ClaimedEvent, NewOutboxEvent, Outbox, OutboxDelivery, OutboxEvent } from './outbox.js';
import { checkEvent, newClaim, retriedDeliveries } from './outbox-shared.js';

interface EventRow {
  id: string;
  type: string;
  payload: string;
  created_at: string;
  deliveries: string;
  next_attempt_at: string | null;
}

type Query = <R extends object>(
  sql: string,
  values?: unknown[],
) => Promise<{ rows: R[]; rowCount: number | null }>;

/**
 * The outbox in `<prefix>outbox`. Events join the write that causes them as a data-modifying CTE of the
 * same statement (`eventsAfter`), so both commit or neither does. Claims use FOR UPDATE SKIP LOCKED:
 * instances claiming at once get disjoint events.
 */
export class PostgresOutbox implements Outbox {
  constructor(
    readonly table: string,
    readonly query: Query,
  ) {}

  /**
   * A CTE appending `events` if the CTE named `written` returned a row; its parameters start at `$first`.
   * Returns the SQL and its values (ids, types, payloads, now).
   */
  eventsAfter(
    events: readonly NewOutboxEvent[],
    first: number,
    now: number,
  ): { sql: string; values: unknown[] } {
    for (const event of events) checkEvent(event);
    const [ids, types, payloads, at] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
    return {
      sql: `, appended AS (
        INSERT INTO ${this.table} (id, type, payload, created_at, deliveries, next_attempt_at)
        SELECT e.id, e.type, e.payload, ${at}::bigint, '[]', ${at}::bigint
        FROM unnest(${ids}::text[], ${types}::text[], ${payloads}::text[]) AS e(id, type, payload)
        WHERE EXISTS (SELECT 1 FROM written))`,
      values: [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.payload), now],
    };
  }

  async append(events: readonly NewOutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { sql, values } = this.eventsAfter(events, 1, Date.now());
    await this.query(`WITH written AS (SELECT 1)${sql} SELECT 1`, values);
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const now = Date.now();
    const claim = newClaim();
    const { rows } = await this.query<EventRow>(
      `UPDATE ${this.table} SET claim = $1, claimed_until = $2 WHERE id IN (
         SELECT id FROM ${this.table}
         WHERE next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3)
         ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id, type, payload, created_at, deliveries, next_attempt_at`,
      [claim, now + leaseMs, now, limit],
    );
    return rows.map((row) => ({ ...toEvent(row), claim }));
  }

  async settle(
    id: string,
    claim: string,
    deliveries: readonly OutboxDelivery[],
    nextAttemptAt: number | null,
  ): Promise<boolean> {
    const result = await this.query(
      `UPDATE ${this.table} SET deliveries = $1, next_attempt_at = $2, claim = NULL, claimed_until = NULL
       WHERE id = $3 AND claim = $4`,
      [JSON.stringify(deliveries), nextAttemptAt, id, claim],
    );
    return result.rowCount === 1;
  }

  async list(options: { limit?: number; pendingOnly?: boolean } = {}): Promise<OutboxEvent[]> {
    const { rows } = await this.query<EventRow>(
      `SELECT * FROM ${this.table} ${options.pendingOnly ? 'WHERE next_attempt_at IS NOT NULL' : ''}
       ORDER BY created_at DESC, id DESC LIMIT $1`,
      [options.limit ?? 100],
    );
    return rows.map(toEvent);
  }

  async get(id: string): Promise<OutboxEvent | null> {
    const { rows } = await this.query<EventRow>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  async retry(id: string): Promise<boolean> {
    const event = await this.get(id);
    if (!event) return false;
    const now = Date.now();
    const result = await this.query(
      `UPDATE ${this.table} SET deliveries = $1, next_attempt_at = $2, claim = NULL, claimed_until = NULL WHERE id = $3`,
      [JSON.stringify(retriedDeliveries(event.deliveries, now)), now, id],
    );
    return result.rowCount === 1;
  }

  async purge(olderThanMs: number): Promise<number> {
    const result = await this.query(
      `DELETE FROM ${this.table} WHERE next_attempt_at IS NULL AND created_at < $1`,
      [Date.now() - olderThanMs],
    );
    return result.rowCount ?? 0;
  }
}

function toEvent(row: EventRow): OutboxEvent {
  return {
    id: row.id,
    type: row.type,
    payload: row.payload,
    createdAt: Number(row.created_at),
    deliveries: JSON.parse(row.deliveries) as OutboxDelivery[],
    nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
  };
}
