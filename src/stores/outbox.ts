/**
 * The webhook outbox: events written by the store in the same step as the change that caused them (a
 * grant linked, marked for re-login, deleted), so a crash between the change and its notification loses
 * nothing. Senders claim due events with a lease, so with several instances each event is sent by one of
 * them; a sender that dies leaves its claim to expire and another picks the event up.
 */

/** A new event, as given to `put`/`delete` (`events` option) or `outbox.append`. */
export interface NewOutboxEvent {
  /** Unique id; becomes the `webhook-id` every delivery of it carries. */
  id: string;
  /** e.g. `grant.linked`. */
  type: string;
  /** The JSON body receivers get. */
  payload: string;
}

/** One destination of an event. */
export interface OutboxDelivery {
  /** The webhook URL. */
  url: string;
  /** `failed`: given up on after the last retry. */
  status: 'pending' | 'delivered' | 'failed';
  /** Attempts made so far. */
  attempts: number;
  /** Epoch ms of the next attempt while pending. */
  nextAttemptAt?: number;
  /** Why the last attempt failed (an HTTP status or a network error), never a body. */
  lastError?: string;
  /** Epoch ms of the successful attempt. */
  deliveredAt?: number;
}

/** An event in the outbox, with its deliveries. */
export interface OutboxEvent extends NewOutboxEvent {
  /** When it was appended, epoch ms. */
  createdAt: number;
  /** Per destination; empty until a sender first claims the event (it fills in the configured URLs). */
  deliveries: OutboxDelivery[];
  /** Epoch ms when the event is due again; null once every delivery is delivered or has failed for good. */
  nextAttemptAt: number | null;
}

/** An event a sender claimed for a while ({@link Outbox.claim}). */
export interface ClaimedEvent extends OutboxEvent {
  /** The claim token: settle only works while it is still ours. */
  claim: string;
}

/**
 * The webhook outbox of a store: grant events appended in the same atomic step as the record changes
 * that cause them, claimed and settled by the sender.
 */
export interface Outbox {
  /** Appends events on their own (for events no record change carries). */
  append(events: readonly NewOutboxEvent[]): Promise<void>;
  /** Claims up to `limit` due events whose earlier claim (if any) has lapsed, for `leaseMs`. */
  claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]>;
  /** Records the outcome of a claimed event; false when the claim was lost (another sender has it now). */
  settle(
    id: string,
    claim: string,
    deliveries: readonly OutboxDelivery[],
    nextAttemptAt: number | null,
  ): Promise<boolean>;
  /** Newest first, for the delivery log. */
  list(options?: { limit?: number; pendingOnly?: boolean }): Promise<OutboxEvent[]>;
  /** One event, or null. */
  get(id: string): Promise<OutboxEvent | null>;
  /** Makes a failed (or pending) event due now again, deliveries reset to pending; false if unknown. */
  retry(id: string): Promise<boolean>;
  /** Deletes settled events older than `olderThanMs`; returns how many. */
  purge(olderThanMs: number): Promise<number>;
}
