import type BetterSqlite3 from 'better-sqlite3';
import { checkEntry, checkEntryArgs, type EntryCodec } from './entries.js';
import type { EntryStore, StoredEntry } from './types.js';

interface EntryRow {
  id: string;
  value: string;
  tag: string | null;
  expires_at: number | null;
}

/** Entries in the `spotauth_entries` table; every call is one short statement (or one transaction). */
export class SqliteEntries implements EntryStore {
  constructor(
    readonly db: BetterSqlite3.Database,
    readonly codec: EntryCodec,
    readonly run: <T>(fn: () => T) => T,
  ) {}

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    const value = this.codec.seal(namespace, entry.id, entry.value);
    this.run(() =>
      this.db
        .prepare(
          `INSERT INTO spotauth_entries (ns, id, value, tag, expires_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(ns, id) DO UPDATE SET value = excluded.value, tag = excluded.tag, expires_at = excluded.expires_at`,
        )
        .run(namespace, entry.id, value, entry.tag ?? null, entry.expiresAt ?? null),
    );
  }

  async update(namespace: string, entry: StoredEntry): Promise<boolean> {
    checkEntry(namespace, entry);
    const value = this.codec.seal(namespace, entry.id, entry.value);
    return (
      this.run(() =>
        this.db
          .prepare(
            `UPDATE spotauth_entries SET value = ?, tag = ?, expires_at = ?
             WHERE ns = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
          )
          .run(value, entry.tag ?? null, entry.expiresAt ?? null, namespace, entry.id, Date.now()),
      ).changes === 1
    );
  }

  async reencrypt(): Promise<number> {
    const rows = this.run(() =>
      this.db
        .prepare<[], { ns: string; id: string; value: string }>('SELECT ns, id, value FROM spotauth_entries')
        .all(),
    );
    let count = 0;
    for (const row of rows) {
      const resealed = this.codec.resealed(row.ns, row.id, row.value);
      if (resealed === null) continue;
      // Only if unchanged meanwhile: a newer write is already under the active key.
      const { changes } = this.run(() =>
        this.db
          .prepare('UPDATE spotauth_entries SET value = ? WHERE ns = ? AND id = ? AND value = ?')
          .run(resealed, row.ns, row.id, row.value),
      );
      count += changes;
    }
    return count;
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const row = this.run(() =>
      this.db
        .prepare<[string, string, number], EntryRow>(
          `SELECT id, value, tag, expires_at FROM spotauth_entries
           WHERE ns = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
        )
        .get(namespace, id, Date.now()),
    );
    return row ? this.#open(namespace, row) : null;
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    // DELETE … RETURNING is one statement: of two instances taking the same entry, one gets the row.
    const row = this.run(() =>
      this.db
        .prepare<[string, string], EntryRow>(
          'DELETE FROM spotauth_entries WHERE ns = ? AND id = ? RETURNING id, value, tag, expires_at',
        )
        .get(namespace, id),
    );
    if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return null;
    return this.#open(namespace, row);
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    return (
      this.run(() =>
        this.db.prepare('DELETE FROM spotauth_entries WHERE ns = ? AND id = ?').run(namespace, id),
      ).changes > 0
    );
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    return this.run(
      () =>
        this.db.prepare('DELETE FROM spotauth_entries WHERE ns = ? AND tag = ?').run(namespace, tag).changes,
    );
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const rows = this.run(() =>
      this.db
        .prepare<[string, number], EntryRow>(
          `SELECT id, value, tag, expires_at FROM spotauth_entries
           WHERE ns = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id`,
        )
        .all(namespace, Date.now()),
    );
    return rows.map((row) => this.#open(namespace, row));
  }

  async purgeExpired(): Promise<number> {
    return this.run(
      () => this.db.prepare('DELETE FROM spotauth_entries WHERE expires_at <= ?').run(Date.now()).changes,
    );
  }

  #open(namespace: string, row: EntryRow): StoredEntry {
    return {
      id: row.id,
      value: this.codec.open(namespace, row.id, row.value),
      ...(row.tag !== null ? { tag: row.tag } : {}),
      ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
    };
  }
}
