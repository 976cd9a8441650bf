import { setTimeout as delay } from 'node:timers/promises';
import type { LockHandle, TokenStore } from '../stores/types.js';
import { jitter } from './retry.js';

/**
 * A refresh lock held as a short lease and renewed in the background while its holder works, so a holder
 * that dies frees the lock within one lease while a live one keeps it however slow the token endpoint is.
 * `lost` is aborted as soon as the holder learns it no longer holds the lease (a renewal was refused, or none
 * succeeded for a whole lease); work already under way goes on, but nothing new should start under it.
 */
export class RefreshLease {
  readonly name: string;
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  readonly #handle: LockHandle;
  readonly #lost = new AbortController();
  #renewedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<boolean | undefined> | undefined;
  #ended = false;

  private constructor(name: string, handle: LockHandle, leaseMs: number, renewEveryMs: number) {
    this.name = name;
    this.#handle = handle;
    this.#leaseMs = leaseMs;
    this.#renewEveryMs = renewEveryMs;
    this.#renewedAt = Date.now();
    this.#schedule();
  }

  /** Takes the lock if it is free; null if someone else holds it. */
  static async take(
    store: TokenStore,
    name: string,
    leaseMs: number,
    renewEveryMs: number,
  ): Promise<RefreshLease | null> {
    const handle = await store.tryLock(name, leaseMs);
    return handle && new RefreshLease(name, handle, leaseMs, renewEveryMs);
  }

  /** Aborted once this holder knows it lost the lease. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /** Renews now and says whether this holder still holds the lease (so nobody else can be refreshing). */
  async confirm(): Promise<boolean> {
    if (this.#lost.signal.aborted || this.#ended) return false;
    await this.#renewing;
    // A store that does not answer confirms nothing.
    return (await this.#renew()) === true;
  }

  /** Stops renewing and releases the lock (if still ours). Never throws: an unreleased lease runs out. */
  async end(): Promise<void> {
    this.#ended = true;
    clearTimeout(this.#timer);
    await this.#renewing?.catch(() => {});
    if (!this.#lost.signal.aborted) await this.#handle.release().catch(() => {});
  }

  #schedule(): void {
    if (this.#ended || this.#lost.signal.aborted) return;
    this.#timer = setTimeout(() => {
      void this.#renew().finally(() => this.#schedule());
    }, this.#renewEveryMs);
    // A renewal never keeps a process alive by itself (a CLI exits when its work is done).
    this.#timer.unref();
  }

  /** True: renewed. False: lost. Undefined: the store did not answer (the lease may still be ours). */
  #renew(): Promise<boolean | undefined> {
    if (this.#ended || this.#lost.signal.aborted) return Promise.resolve(false);
    const renewing = this.#handle.renew(this.#leaseMs).then(
      (held) => {
        if (held) this.#renewedAt = Date.now();
        else this.#lost.abort();
        return held;
      },
      () => {
        // Still ours until a whole lease has passed unrenewed; after that, someone else may have it.
        if (Date.now() - this.#renewedAt >= this.#leaseMs) this.#lost.abort();
        return this.#lost.signal.aborted ? false : undefined;
      },
    );
    this.#renewing = renewing;
    return renewing;
  }
}

/** Waits for the lock to be released (or its lease to run out), by whatever the store offers. */
export async function waitForLock(store: TokenStore, name: string, timeoutMs: number): Promise<void> {
  if (timeoutMs <= 0) return;
  if (store.waitForRelease) return store.waitForRelease(name, timeoutMs);
  // A custom store without waitForRelease: look again shortly, as before leases.
  await delay(Math.min(timeoutMs, jitter(15, 40)));
}
