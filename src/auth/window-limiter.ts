/**
 * Counts events per client in a fixed window: requests (hit: a login start, a callback) or failures (fail:
 * a wrong broker key), and says when a client has had too many. Brute-forcing a key then costs a window
 * per handful of guesses. Memory is bounded: beyond `maxClients` the oldest entries are dropped (an
 * attacker rotating addresses gains nothing it lacked).
 */
export class WindowLimiter {
  readonly #counts = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxClients = 10_000,
    readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the client may try again, or 0 when it is not blocked. */
  blockedFor(client: string): number {
    const entry = this.#counts.get(client);
    if (!entry) return 0;
    const now = this.now();
    if (entry.resetAt <= now) {
      this.#counts.delete(client);
      return 0;
    }
    return entry.count >= this.max ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  /** Counts one request; seconds to wait when it is over the limit (then it must be refused), else 0. */
  hit(client: string): number {
    const entry = this.#count(client);
    return entry.count > this.max ? Math.max(1, Math.ceil((entry.resetAt - this.now()) / 1000)) : 0;
  }

  fail(client: string): void {
    this.#count(client);
  }

  #count(client: string): { count: number; resetAt: number } {
    const now = this.now();
    const entry = this.#counts.get(client);
    if (entry && entry.resetAt > now) {
      entry.count++;
      return entry;
    }
    while (this.#counts.size >= this.maxClients) {
      const oldest = this.#counts.keys().next().value;
      if (oldest === undefined) break;
      this.#counts.delete(oldest);
    }
    const fresh = { count: 1, resetAt: now + this.windowMs };
    this.#counts.set(client, fresh);
    return fresh;
  }
}
