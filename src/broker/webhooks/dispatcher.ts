/**
 * Sends the outbox's events to the configured URLs: at least once, signed (Standard Webhooks), with
 * exponential backoff per destination. Every instance may run one; claims make each event go out from one
 * instance at a time, and an instance killed mid-delivery only delays its events until its lease lapses.
 */
import type { ClaimedEvent, Outbox, OutboxDelivery } from '../../stores/outbox.js';
import { jitter } from '../../tokens/retry.js';
import { signWebhook } from './signing.js';

export interface DispatcherOptions {
  outbox: Outbox;
  /** Destination URLs (checked by loadWebhookConfig). */
  urls: readonly string[];
  /** HMAC key from the `whsec_` secret. */
  key: Buffer;
  /** How often to look for due events. Default 1000 ms. */
  pollMs?: number;
  /** How long a claim lasts; longer than a whole round of deliveries. Default 60 s. */
  leaseMs?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** First retry after this; doubles per attempt, with jitter, up to maxDelayMs. Default 10 s. */
  baseDelayMs?: number;
  /** Default 1 h. */
  maxDelayMs?: number;
  /** Attempts per destination before it is marked failed (retry it with `spotauth webhooks retry`). Default 15 (about a day). */
  maxAttempts?: number;
  /** Settled events are kept this long for the delivery log. Default 7 days. */
  retentionMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Delivery outcomes, for logs and metrics (no bodies, no secrets). */
  onAttempt?: (attempt: {
    id: string;
    type: string;
    url: string;
    ok: boolean;
    status?: number;
    error?: string;
  }) => void;
}

export class WebhookDispatcher {
  readonly #options: Required<Omit<DispatcherOptions, 'onAttempt'>> & Pick<DispatcherOptions, 'onAttempt'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #lastPurge = 0;

  constructor(options: DispatcherOptions) {
    this.#options = {
      pollMs: 1000,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      baseDelayMs: 10_000,
      maxDelayMs: 3_600_000,
      maxAttempts: 15,
      retentionMs: 7 * 24 * 3600 * 1000,
      fetch: globalThis.fetch,
      now: Date.now,
      ...options,
    };
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runOnce()
        .catch(() => {})
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.pollMs).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: claim what is due, deliver it, settle it. Returns when the pass is done. */
  async runOnce(): Promise<void> {
    const { outbox } = this.#options;
    for (;;) {
      const claimed = await outbox.claim(20, this.#options.leaseMs);
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((event) => this.#deliver(event)));
      if (this.#stopped) break;
    }
    const now = this.#options.now();
    if (now - this.#lastPurge > 3600_000) {
      this.#lastPurge = now;
      await outbox.purge(this.#options.retentionMs);
    }
  }

  async #deliver(event: ClaimedEvent): Promise<void> {
    const { urls, outbox } = this.#options;
    const now = this.#options.now();
    const deliveries: OutboxDelivery[] =
      event.deliveries.length > 0
        ? event.deliveries.map((delivery) => ({ ...delivery }))
        : urls.map((url) => ({ url, status: 'pending' as const, attempts: 0, nextAttemptAt: now }));
    await Promise.all(
      deliveries.map(async (delivery) => {
        if (delivery.status !== 'pending' || (delivery.nextAttemptAt ?? 0) > now) return;
        const outcome = await this.#send(event, delivery.url);
        delivery.attempts++;
        this.#options.onAttempt?.({ id: event.id, type: event.type, url: delivery.url, ...outcome });
        if (outcome.ok) {
          delivery.status = 'delivered';
          delivery.deliveredAt = this.#options.now();
          delete delivery.nextAttemptAt;
          delete delivery.lastError;
          return;
        }
        delivery.lastError =
          outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome.error ?? 'error');
        if (delivery.attempts >= this.#options.maxAttempts) {
          delivery.status = 'failed';
          delete delivery.nextAttemptAt;
        } else {
          delivery.nextAttemptAt = this.#options.now() + this.#backoff(delivery.attempts);
        }
      }),
    );
    const pending = deliveries.filter((delivery) => delivery.status === 'pending');
    const next =
      pending.length === 0 ? null : Math.min(...pending.map((delivery) => delivery.nextAttemptAt ?? now));
    await outbox.settle(event.id, event.claim, deliveries, next);
  }

  async #send(event: ClaimedEvent, url: string): Promise<{ ok: boolean; status?: number; error?: string }> {
    const timestamp = Math.floor(this.#options.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'spotauth-webhooks',
      ...signWebhook(this.#options.key, event.id, timestamp, event.payload),
    };
    try {
      const response = await this.#options.fetch(url, {
        method: 'POST',
        headers,
        body: event.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      return response.ok ? { ok: true, status: response.status } : { ok: false, status: response.status };
    } catch (error) {
      return {
        ok: false,
        error: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable',
      };
    }
  }

  #backoff(attempts: number): number {
    const ceiling = Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** (attempts - 1));
    return jitter(Math.floor(ceiling / 2), ceiling);
  }
}
