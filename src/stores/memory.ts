/**
 * In-process store for tests and single-process servers. Plaintext by design (nothing leaves the process);
 * records are copied in and out so callers can't mutate stored state behind the store's back.
 */
import { byKey, checkInput, conflictError, isRange, listRange, stamp } from './codec.js';
import { MemoryEntries } from './entries.js';
import { assertLockArgs, newLockOwner } from './lock-owner.js';
import { ReleaseSignals, waitForRelease } from './lock-wait.js';
import { appendTo, DocumentOutbox, type StoredOutboxEvent } from './outbox-shared.js';
import type {
  ListOptions,
  LockHandle,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** The clock lock leases are measured on (tests make a lease run out by moving it). Default Date.now. */
  now?: () => number;
}

/**
 * A token store in this process's memory: for tests, and for a single process that may lose its logins
 * on restart. Plaintext by design (nothing leaves the process); locks work between callers of one
 * process only.
 */
export class MemoryStore implements TokenStore {
  readonly kind = 'memory';
  /** Nothing outlives the process, so nothing is encrypted. */
  readonly encryption = null;
  readonly #records = new Map<string, TokenRecord>();
  readonly #locks = new Map<string, { owner: string; expiresAt: number }>();
  readonly #released = new ReleaseSignals();
  readonly #now: () => number;

  readonly #events: Record<string, StoredOutboxEvent> = {};
  readonly entries = new MemoryEntries();
  readonly outbox = new DocumentOutbox(
    async (change) => change(this.#events).result,
    async () => this.#events,
  );

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  describe(): string {
    return 'memory (this process only, lost on exit)';
  }

  async get(key: string): Promise<TokenRecord | null> {
    const record = this.#records.get(key);
    return record ? structuredClone(record) : null;
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    const current = this.#records.get(record.key);
    const currentVersion = current?.version ?? null;
    if (currentVersion !== expectedVersion) throw conflictError(record.key, expectedVersion, currentVersion);
    const stored = stamp(structuredClone(record), (currentVersion ?? 0) + 1, Date.now());
    this.#records.set(record.key, stored);
    if (options?.events) appendTo(this.#events, options.events, Date.now());
    return structuredClone(stored);
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    if (this.#records.delete(key) && options?.events) appendTo(this.#events, options.events, Date.now());
  }

  /** Memory records are plaintext objects: none is ever unreadable, so `onUnreadable` is never called. */
  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    const listed = [...this.#records.values()].filter((r) => r.key.startsWith(prefix));
    // listRange sorts a range itself; the whole prefix is sorted here.
    const chosen = isRange(options) ? listRange(listed, (r) => r.key, options) : listed.sort(byKey);
    return chosen.map((r) => structuredClone(r));
  }

  async quarantine(key: string): Promise<string | null> {
    if (!this.#records.delete(key)) return null;
    return 'nowhere (memory records cannot be unreadable; it was deleted)';
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    const now = this.#now();
    const held = this.#locks.get(name);
    if (held && held.expiresAt > now) return null;
    const owner = newLockOwner();
    this.#locks.set(name, { owner, expiresAt: now + ttlMs });
    return {
      renew: async (leaseMs) => {
        assertLockArgs(name, leaseMs);
        const lease = this.#locks.get(name);
        const at = this.#now();
        if (lease?.owner !== owner || lease.expiresAt <= at) return false;
        lease.expiresAt = at + leaseMs;
        return true;
      },
      release: async () => {
        if (this.#locks.get(name)?.owner !== owner) return;
        this.#locks.delete(name);
        this.#released.notify(name);
      },
    };
  }

  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    await waitForRelease({
      signals: this.#released,
      name,
      timeoutMs,
      now: this.#now,
      leaseRemainingMs: async () => {
        const held = this.#locks.get(name);
        return held ? held.expiresAt - this.#now() : 0;
      },
    });
  }

  async close(): Promise<void> {}
}
