import type BetterSqlite3 from 'better-sqlite3';
import type { ClaimedEvent, NewOutboxEvent, Outbox, OutboxDelivery, OutboxEvent } from './outbox.js';
import { checkEvent, newClaim, retriedDeliveries } from './outbox-shared.js';

interface EventRow {
  id: string;
  type: string;
  payload: string;
  created_at: number;
  deliveries: string;
  next_attempt_at: number | null;
  claim: string | null;
}

/** The outbox in `spotauth_outbox`. One connection writes at a time, so a claim is one UPDATE … RETURNING. */
export class SqliteOutbox implements Outbox {
  constructor(
    readonly db: BetterSqlite3.Database,
    readonly run: <T>(fn: () => T) => T,
  ) {}

  /** Appends within the caller's transaction (the write that causes the events). */
  insert(events: readonly NewOutboxEvent[], now: number): void {
    const statement = this.db.prepare(
      `INSERT INTO spotauth_outbox (id, type, payload, created_at, deliveries, next_attempt_at)
       VALUES (?, ?, ?, ?, '[]', ?)`,
    );
    for (const event of events) {
      checkEvent(event);
      statement.run(event.id, event.type, event.payload, now, now);
    }
  }

  async append(events: readonly NewOutboxEvent[]): Promise<void> {
    this.run(() => this.db.transaction(() => this.insert(events, Date.now()))());
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const now = Date.now();
    const claim = newClaim();
    const rows = this.run(() =>
      this.db
        .prepare<[string, number, number, number, number], EventRow>(
          `UPDATE spotauth_outbox SET claim = ?, claimed_until = ? WHERE id IN (
             SELECT id FROM spotauth_outbox
             WHERE next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
             ORDER BY next_attempt_at LIMIT ?)
           RETURNING id, type, payload, created_at, deliveries, next_attempt_at, claim`,
        )
        .all(claim, now + leaseMs, now, now, limit),
    );
    return rows.map((row) => ({ ...toEvent(row), claim }));
  }

  async settle(
    id: string,
    claim: string,
    deliveries: readonly OutboxDelivery[],
    nextAttemptAt: number | null,
  ): Promise<boolean> {
    const result = this.run(() =>
      this.db
        .prepare(
          `UPDATE spotauth_outbox SET deliveries = ?, next_attempt_at = ?, claim = NULL, claimed_until = NULL
           WHERE id = ? AND claim = ?`,
        )
        .run(JSON.stringify(deliveries), nextAttemptAt, id, claim),
    );
    return result.changes === 1;
  }

  async list(options: { limit?: number; pendingOnly?: boolean } = {}): Promise<OutboxEvent[]> {
    const rows = this.run(() =>
      this.db
        .prepare<[number], EventRow>(
          `SELECT * FROM spotauth_outbox ${options.pendingOnly ? 'WHERE next_attempt_at IS NOT NULL' : ''}
           ORDER BY created_at DESC, id DESC LIMIT ?`,
        )
        .all(options.limit ?? 100),
    );
    return rows.map(toEvent);
  }

  async get(id: string): Promise<OutboxEvent | null> {
    const row = this.run(() =>
      this.db.prepare<[string], EventRow>('SELECT * FROM spotauth_outbox WHERE id = ?').get(id),
    );
    return row ? toEvent(row) : null;
  }

  async retry(id: string): Promise<boolean> {
    return this.run(() =>
      this.db.transaction(() => {
        const row = this.db.prepare<[string], EventRow>('SELECT * FROM spotauth_outbox WHERE id = ?').get(id);
        if (!row) return false;
        const now = Date.now();
        const deliveries = retriedDeliveries(toEvent(row).deliveries, now);
        this.db
          .prepare(
            `UPDATE spotauth_outbox SET deliveries = ?, next_attempt_at = ?, claim = NULL, claimed_until = NULL
             WHERE id = ?`,
          )
          .run(JSON.stringify(deliveries), now, id);
        return true;
      })(),
    );
  }

  async purge(olderThanMs: number): Promise<number> {
    return this.run(
      () =>
        this.db
          .prepare('DELETE FROM spotauth_outbox WHERE next_attempt_at IS NULL AND created_at < ?')
          .run(Date.now() - olderThanMs).changes,
    );
  }
}

function toEvent(row: EventRow): OutboxEvent {
  return {
    id: row.id,
    type: row.type,
    payload: row.payload,
    createdAt: row.created_at,
    deliveries: JSON.parse(row.deliveries) as OutboxDelivery[],
    nextAttemptAt: row.next_attempt_at,
  };
}
