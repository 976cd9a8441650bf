/**
 * Waiting for a lock to be released, shared by every store. A waiter is woken directly when the lock is
 * released in this process; each store adds what it has for other processes (a Redis message, a PostgreSQL
 * notification) by calling `notify`, or polls when it has nothing better (SQLite, the file store: a local
 * read costs microseconds). Every wait is also bounded by the holder's lease, so a holder that died without
 * releasing is noticed when its lease runs out.
 */

import { randomInt } from 'node:crypto';

/** A poll interval drawn afresh each time from [minMs, maxMs], so waiters in many processes spread out. */
export function jitteredPoll(minMs: number, maxMs: number): () => number {
  return () => randomInt(minMs, maxMs + 1);
}

/** Waiters per lock name, woken by `notify(name)`. */
export class ReleaseSignals {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Calls `wake` on the next release of `name`; returns the function that stops listening. */
  listen(name: string, wake: () => void): () => void {
    let set = this.#waiters.get(name);
    if (!set) {
      set = new Set();
      this.#waiters.set(name, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.#waiters.get(name) === set) this.#waiters.delete(name);
    };
  }

  /** Wakes every waiter on `name` (a release of that lock). */
  notify(name: string): void {
    const set = this.#waiters.get(name);
    if (!set) return;
    this.#waiters.delete(name);
    for (const wake of set) wake();
  }
}

const shared = new Map<string, ReleaseSignals>();

/**
 * The signals of one namespace (a SQLite file, a token file), shared by every store instance of this process
 * that opens it, so a release through one instance wakes waiters on another at once.
 */
export function sharedSignals(namespace: string): ReleaseSignals {
  let signals = shared.get(namespace);
  if (!signals) {
    signals = new ReleaseSignals();
    shared.set(namespace, signals);
  }
  return signals;
}

/** Options of {@link waitForRelease}. */
export interface WaitOptions {
  /** Where releases in this process are announced. */
  signals: ReleaseSignals;
  /** The lock's name. */
  name: string;
  /** Resolve after this long at the latest, ms. */
  timeoutMs: number;
  /** Milliseconds until the current holder's lease runs out; 0 or less when nobody holds the lock. */
  leaseRemainingMs(): Promise<number>;
  /**
   * Re-check at least this often (stores that learn of other processes' releases only by looking).
   * Undefined: re-check only when the holder's lease would run out (stores that are told of releases).
   */
  pollMs?: () => number;
  /** The store's clock. */
  now?: () => number;
}

/** The common waiting loop behind every store's `waitForRelease`. */
export async function waitForRelease(options: WaitOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const deadline = now() + Math.max(0, options.timeoutMs);
  let released = false;
  let wake: () => void = () => {};
  const stop = options.signals.listen(options.name, () => {
    released = true;
    wake();
  });
  try {
    // Listening starts before the first look, so a release between the caller's tryLock and here is not missed.
    for (;;) {
      if (released) return;
      const remaining = await options.leaseRemainingMs();
      if (released || remaining <= 0) return;
      const budget = deadline - now();
      if (budget <= 0) return;
      // +2 ms: wake just after the lease has run out, not just before.
      const nap = Math.min(remaining + 2, budget, options.pollMs?.() ?? Number.POSITIVE_INFINITY);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, nap));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stop();
  }
}
