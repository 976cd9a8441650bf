/**
 * Counts failures (e.g. wrong broker keys) per client in a fixed window and says when a client has had too
 * many: brute-forcing a key then costs a window per handful of guesses. Memory is bounded: beyond
 * `maxClients` the oldest entries are dropped (an attacker rotating addresses gains nothing it lacked).
 */
export class FailureLimiter {
  readonly #failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    readonly maxClients = 10_000,
    readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the client may try again, or 0 when it is not blocked. */
  blockedFor(client: string): number {
    const entry = this.#failures.get(client);
    if (!entry) return 0;
    const now = this.now();
    if (entry.resetAt <= now) {
      this.#failures.delete(client);
      return 0;
    }
    return entry.count >= this.maxFailures ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  fail(client: string): void {
    const now = this.now();
    const entry = this.#failures.get(client);
    if (entry && entry.resetAt > now) {
      entry.count++;
      return;
    }
    while (this.#failures.size >= this.maxClients) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
    this.#failures.set(client, { count: 1, resetAt: now + this.windowMs });
  }
}
