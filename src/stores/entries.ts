/**
 * Helpers every EntryStore backend shares: argument checks, the at-rest envelope of entry values, and the
 * in-process implementation (the memory store's, and the reference the contract suite holds others to).
 */
import { SpotauthError } from '../core/errors.js';
import { envelopeKid, type Keyring } from './encryption.js';
import type { EntryStore, StoredEntry } from './types.js';

const NAMESPACE = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_ID = 512;
const MAX_VALUE = 64 * 1024;

/**
 * The checks every entry call makes.
 *
 * @throws TypeError for a namespace not matching `/^[a-z][a-z0-9_]{0,31}$/`, or an id not 1–512 characters.
 */
export function checkEntryArgs(namespace: string, id: string): void {
  if (!NAMESPACE.test(namespace)) throw new TypeError('entry namespace must match /^[a-z][a-z0-9_]{0,31}$/');
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID)
    throw new TypeError(`entry id must be 1 to ${MAX_ID} characters`);
}

/**
 * The checks every entry write makes: those of {@link checkEntryArgs}, a value of at most 64 KiB, a tag
 * of at most 512 characters, a finite `expiresAt`.
 *
 * @throws TypeError for an entry that breaks them.
 */
export function checkEntry(namespace: string, entry: StoredEntry): void {
  checkEntryArgs(namespace, entry.id);
  if (typeof entry.value !== 'string' || entry.value.length > MAX_VALUE)
    throw new TypeError(`entry value must be a string of at most ${MAX_VALUE} characters`);
  if (entry.tag !== undefined && (typeof entry.tag !== 'string' || entry.tag.length > MAX_ID))
    throw new TypeError(`entry tag must be at most ${MAX_ID} characters`);
  if (entry.expiresAt !== undefined && !Number.isFinite(entry.expiresAt))
    throw new TypeError('entry expiresAt must be epoch milliseconds');
}

/** Entry values at rest: AES-256-GCM envelopes bound to the backend, namespace and id. */
export class EntryCodec {
  constructor(
    /** The store's `kind`, bound into each ciphertext. */
    readonly storeKind: string,
    /** The keys entries are sealed and opened with. */
    readonly keyring: Keyring,
  ) {}

  /** Encrypts a value under the active key, bound to its namespace and id. */
  seal(namespace: string, id: string, value: string): string {
    return this.keyring.encrypt(value, this.#ctx(namespace, id));
  }

  /**
   * Decrypts a sealed value of this namespace and id.
   *
   * @throws `SpotauthError` `KEY_UNKNOWN` or `DECRYPT_FAILED`.
   */
  open(namespace: string, id: string, sealed: string): string {
    return this.keyring.decrypt(sealed, this.#ctx(namespace, id));
  }

  /** The value re-sealed under the active key, or null when it already is. */
  resealed(namespace: string, id: string, sealed: string): string | null {
    if (envelopeKid(sealed) === this.keyring.activeKid) return null;
    return this.seal(namespace, id, this.open(namespace, id, sealed));
  }

  #ctx(namespace: string, id: string) {
    return { storeKind: this.storeKind, recordKey: `entry:${namespace}:${id}`, field: 'value' };
  }
}

/** A live entry, or null when it has expired at `now`. */
export function live(entry: StoredEntry | undefined, now: number): StoredEntry | null {
  if (!entry) return null;
  return entry.expiresAt !== undefined && entry.expiresAt <= now ? null : entry;
}

/** A copy with only the entry's own fields, so callers cannot change what the store holds. */
export function copyEntry(entry: StoredEntry): StoredEntry {
  return {
    id: entry.id,
    value: entry.value,
    ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
    ...(entry.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}),
  };
}

/** Entries in this process only: the memory store's (and therefore only for one process). */
export class MemoryEntries implements EntryStore {
  readonly #namespaces = new Map<string, Map<string, StoredEntry>>();

  /** `maxPerNamespace` bounds memory: beyond it the oldest entries go first (sessions age out anyway). */
  constructor(
    /** The clock expiry is measured on, epoch ms. Default `Date.now`. */
    readonly now: () => number = Date.now,
    /** Entries per namespace at most (memory bound). Default 100 000. */
    readonly maxPerNamespace = 100_000,
  ) {}

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    const entries = this.#ns(namespace);
    entries.delete(entry.id);
    while (entries.size >= this.maxPerNamespace) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
    entries.set(entry.id, copyEntry(entry));
  }

  async update(namespace: string, entry: StoredEntry): Promise<boolean> {
    checkEntry(namespace, entry);
    const entries = this.#ns(namespace);
    if (!live(entries.get(entry.id), this.now())) return false;
    entries.set(entry.id, copyEntry(entry));
    return true;
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const entry = live(this.#ns(namespace).get(id), this.now());
    return entry && copyEntry(entry);
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const entries = this.#ns(namespace);
    const entry = live(entries.get(id), this.now());
    entries.delete(id);
    return entry;
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    return this.#ns(namespace).delete(id);
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    let count = 0;
    for (const [id, entry] of this.#ns(namespace)) {
      if (entry.tag === tag) {
        this.#ns(namespace).delete(id);
        count++;
      }
    }
    return count;
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const now = this.now();
    return [...this.#ns(namespace).values()]
      .filter((entry) => live(entry, now))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(copyEntry);
  }

  /** Plaintext in memory: nothing to re-encrypt. */
  async reencrypt(): Promise<number> {
    return 0;
  }

  async purgeExpired(): Promise<number> {
    const now = this.now();
    let count = 0;
    for (const entries of this.#namespaces.values()) {
      for (const [id, entry] of entries) {
        if (!live(entry, now)) {
          entries.delete(id);
          count++;
        }
      }
    }
    return count;
  }

  #ns(namespace: string): Map<string, StoredEntry> {
    let entries = this.#namespaces.get(namespace);
    if (!entries) {
      entries = new Map();
      this.#namespaces.set(namespace, entries);
    }
    return entries;
  }
}

/** The `STORE_CORRUPT` error for an entry that cannot be parsed (the message names no id or value). */
export function entryCorrupt(where: string, namespace: string): SpotauthError {
  return new SpotauthError('STORE_CORRUPT', `An entry in namespace '${namespace}' of ${where} is corrupt.`);
}
