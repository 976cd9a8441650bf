import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkEntry, checkEntryArgs, copyEntry, type EntryCodec, entryCorrupt, live } from './entries.js';
import { atomicWrite, readOrNull } from './file-io.js';
import { acquireFileLock, releaseFileLock } from './file-lock.js';
import type { EntryStore, StoredEntry } from './types.js';

interface Wire {
  v: string;
  t?: string;
  e?: number;
}
type Document = Record<string, Record<string, Wire>>;

/**
 * The file store's entries, in `<file>.entries.json` beside the token file (so the token file's format
 * stays as it is): read whole, changed under its own lock file, written atomically. Fine for the CLI and a
 * single small server; a busy server belongs on SQLite.
 */
export class FileEntries implements EntryStore {
  readonly path: string;

  constructor(
    tokenFile: string,
    readonly codec: EntryCodec,
    readonly lockTimeoutMs: number,
  ) {
    this.path = `${tokenFile}.entries.json`;
  }

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    const wire: Wire = { v: this.codec.seal(namespace, entry.id, entry.value) };
    if (entry.tag !== undefined) wire.t = entry.tag;
    if (entry.expiresAt !== undefined) wire.e = entry.expiresAt;
    await this.#modify((doc) => {
      doc[namespace] ??= {};
      doc[namespace][entry.id] = wire;
      return undefined;
    });
  }

  async update(namespace: string, entry: StoredEntry): Promise<boolean> {
    checkEntry(namespace, entry);
    const wire: Wire = { v: this.codec.seal(namespace, entry.id, entry.value) };
    if (entry.tag !== undefined) wire.t = entry.tag;
    if (entry.expiresAt !== undefined) wire.e = entry.expiresAt;
    return this.#modify((doc) => {
      const entries = doc[namespace];
      const current = entries?.[entry.id];
      if (!entries || !current || (current.e !== undefined && current.e <= Date.now())) return false;
      entries[entry.id] = wire;
      return true;
    });
  }

  async reencrypt(): Promise<number> {
    return this.#modify((doc) => {
      let count = 0;
      for (const [namespace, entries] of Object.entries(doc)) {
        for (const [id, wire] of Object.entries(entries)) {
          const resealed = this.codec.resealed(namespace, id, wire.v);
          if (resealed === null) continue;
          entries[id] = { ...wire, v: resealed };
          count++;
        }
      }
      return count;
    });
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const wire = (await this.#load())[namespace]?.[id];
    return wire ? live(this.#open(namespace, id, wire), Date.now()) : null;
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    return this.#modify((doc) => {
      const entries = doc[namespace];
      const wire = entries?.[id];
      if (!entries || !wire) return null;
      delete entries[id];
      return live(this.#open(namespace, id, wire), Date.now());
    });
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    return this.#modify((doc) => {
      const entries = doc[namespace];
      if (entries?.[id] === undefined) return false;
      delete entries[id];
      return true;
    });
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    return this.#modify((doc) => {
      let count = 0;
      const entries = doc[namespace] ?? {};
      for (const [id, wire] of Object.entries(entries)) {
        if (wire.t === tag) {
          delete entries[id];
          count++;
        }
      }
      return count;
    });
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const now = Date.now();
    return Object.entries((await this.#load())[namespace] ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([id, wire]) => {
        const entry = live(this.#open(namespace, id, wire), now);
        return entry ? [copyEntry(entry)] : [];
      });
  }

  async purgeExpired(): Promise<number> {
    const now = Date.now();
    return this.#modify((doc) => {
      let count = 0;
      for (const entries of Object.values(doc)) {
        for (const [id, wire] of Object.entries(entries)) {
          if (wire.e !== undefined && wire.e <= now) {
            delete entries[id];
            count++;
          }
        }
      }
      return count;
    });
  }

  #open(namespace: string, id: string, wire: Wire): StoredEntry {
    if (typeof wire?.v !== 'string') throw entryCorrupt(`the file ${this.path}`, namespace);
    return {
      id,
      value: this.codec.open(namespace, id, wire.v),
      ...(wire.t !== undefined ? { tag: wire.t } : {}),
      ...(wire.e !== undefined ? { expiresAt: wire.e } : {}),
    };
  }

  async #load(): Promise<Document> {
    const raw = await readOrNull(this.path);
    if (raw === null) return {};
    try {
      const doc = JSON.parse(raw.toString('utf8')) as { entries?: Document };
      return typeof doc.entries === 'object' && doc.entries !== null ? doc.entries : {};
    } catch {
      // Entries are sessions and login attempts: an unreadable file costs a new login, never a grant.
      return {};
    }
  }

  async #modify<T>(change: (doc: Document) => T): Promise<T> {
    const lock = `${this.path}.lock`;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const owner = await acquireFileLock(lock, 10_000, this.lockTimeoutMs);
    try {
      const doc = await this.#load();
      const result = change(doc);
      await atomicWrite(this.path, Buffer.from(`${JSON.stringify({ entries: doc })}\n`, 'utf8'));
      return result;
    } finally {
      await releaseFileLock(lock, owner);
    }
  }
}
