/** What every outbox backend shares: claims, event checks, manual retries, and the document-backed outbox. */
import { randomBytes } from 'node:crypto';
import type { ClaimedEvent, NewOutboxEvent, Outbox, OutboxDelivery, OutboxEvent } from './outbox.js';

/** An event as kept by a backend: the event plus its current claim. */
export interface StoredOutboxEvent extends OutboxEvent {
  /** The current sender's claim token, if any. */
  claim?: string | undefined;
  /** When that claim lapses, epoch ms. */
  claimedUntil?: number | undefined;
}

export function newClaim(): string {
  return randomBytes(12).toString('base64url');
}

export function storedEvent(event: NewOutboxEvent, now: number): StoredOutboxEvent {
  checkEvent(event);
  return {
    id: event.id,
    type: event.type,
    payload: event.payload,
    createdAt: now,
    deliveries: [],
    nextAttemptAt: now,
  };
}

export function checkEvent(event: NewOutboxEvent): void {
  if (typeof event.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(event.id))
    throw new TypeError('outbox event id must be 1 to 128 of A-Z a-z 0-9 _ . : -');
  if (typeof event.type !== 'string' || event.type.length === 0 || event.type.length > 64)
    throw new TypeError('outbox event type must be 1 to 64 characters');
  if (typeof event.payload !== 'string' || event.payload.length > 64 * 1024)
    throw new TypeError('outbox event payload must be a string of at most 64 KiB');
}

export function publicEvent(event: StoredOutboxEvent): OutboxEvent {
  const { claim: _claim, claimedUntil: _until, ...rest } = event;
  return { ...rest, deliveries: rest.deliveries.map((delivery) => ({ ...delivery })) };
}

/** Deliveries reset for a manual retry: the failed and the pending ones go again now, delivered ones stay. */
export function retriedDeliveries(deliveries: readonly OutboxDelivery[], now: number): OutboxDelivery[] {
  return deliveries.map((delivery) =>
    delivery.status === 'delivered'
      ? { ...delivery }
      : {
          url: delivery.url,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          ...(delivery.lastError ? { lastError: delivery.lastError } : {}),
        },
  );
}

/**
 * The outbox over a plain object of events, for backends that hold their whole state in one place (memory,
 * and the file store's document, which it rewrites atomically). `save` persists after a change.
 */
export class DocumentOutbox implements Outbox {
  constructor(
    /** Runs `change` on the events and persists them (atomically with the records) when it says `changed`. */
    readonly modify: <T>(
      change: (events: Record<string, StoredOutboxEvent>) => { changed: boolean; result: T },
    ) => Promise<T>,
    /** Reads the events as stored. */
    readonly read: () => Promise<Record<string, StoredOutboxEvent>>,
    /** The clock, epoch ms. Default `Date.now`. */
    readonly now: () => number = Date.now,
  ) {}

  append(events: readonly NewOutboxEvent[]): Promise<void> {
    return this.modify((all) => {
      appendTo(all, events, this.now());
      return { changed: events.length > 0, result: undefined };
    });
  }

  claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const now = this.now();
    return this.modify((all) => {
      const due = Object.values(all)
        .filter((event) => event.nextAttemptAt !== null && event.nextAttemptAt <= now)
        .filter((event) => event.claimedUntil === undefined || event.claimedUntil <= now)
        .sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0))
        .slice(0, limit);
      const claimed = due.map((event) => {
        event.claim = newClaim();
        event.claimedUntil = now + leaseMs;
        return { ...publicEvent(event), claim: event.claim };
      });
      return { changed: claimed.length > 0, result: claimed };
    });
  }

  settle(
    id: string,
    claim: string,
    deliveries: readonly OutboxDelivery[],
    nextAttemptAt: number | null,
  ): Promise<boolean> {
    return this.modify((all) => {
      const event = all[id];
      if (!event || event.claim !== claim) return { changed: false, result: false };
      event.deliveries = deliveries.map((delivery) => ({ ...delivery }));
      event.nextAttemptAt = nextAttemptAt;
      delete event.claim;
      delete event.claimedUntil;
      return { changed: true, result: true };
    });
  }

  async list(options: { limit?: number; pendingOnly?: boolean } = {}): Promise<OutboxEvent[]> {
    return Object.values(await this.read())
      .filter((event) => !options.pendingOnly || event.nextAttemptAt !== null)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .slice(0, options.limit ?? 100)
      .map(publicEvent);
  }

  async get(id: string): Promise<OutboxEvent | null> {
    const event = (await this.read())[id];
    return event ? publicEvent(event) : null;
  }

  retry(id: string): Promise<boolean> {
    const now = this.now();
    return this.modify((all) => {
      const event = all[id];
      if (!event) return { changed: false, result: false };
      event.deliveries = retriedDeliveries(event.deliveries, now);
      event.nextAttemptAt = now;
      delete event.claim;
      delete event.claimedUntil;
      return { changed: true, result: true };
    });
  }

  purge(olderThanMs: number): Promise<number> {
    const cutoff = this.now() - olderThanMs;
    return this.modify((all) => {
      let count = 0;
      for (const [id, event] of Object.entries(all)) {
        if (event.nextAttemptAt === null && event.createdAt < cutoff) {
          delete all[id];
          count++;
        }
      }
      return { changed: count > 0, result: count };
    });
  }
}

/**
 * Adds new events to a document of events, in the same change as the record write they go with.
 *
 * @throws TypeError for an event id, type or payload that breaks the outbox's limits.
 */
export function appendTo(
  all: Record<string, StoredOutboxEvent>,
  events: readonly NewOutboxEvent[],
  now: number,
): void {
  for (const event of events) all[event.id] = storedEvent(event, now);
}
