import { checkEntry, checkEntryArgs, type EntryCodec } from './entries.js';
import type { EntryStore, StoredEntry } from './types.js';

interface EntryRow {
  id: string;
  value: string;
  tag: string | null;
  expires_at: string | null;
}

type Query = <R extends object>(
  sql: string,
  values?: unknown[],
) => Promise<{ rows: R[]; rowCount: number | null }>;

/** Entries in `<prefix>entries`; expiry is epoch ms from the app's clock, like the token records' times. */
export class PostgresEntries implements EntryStore {
  constructor(
    readonly table: string,
    readonly codec: EntryCodec,
    readonly query: Query,
  ) {}

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    await this.query(
      `INSERT INTO ${this.table} (ns, id, value, tag, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (ns, id) DO UPDATE SET value = EXCLUDED.value, tag = EXCLUDED.tag, expires_at = EXCLUDED.expires_at`,
      [
        namespace,
        entry.id,
        this.codec.seal(namespace, entry.id, entry.value),
        entry.tag ?? null,
        entry.expiresAt ?? null,
      ],
    );
  }

  async update(namespace: string, entry: StoredEntry): Promise<boolean> {
    checkEntry(namespace, entry);
    const result = await this.query(
      `UPDATE ${this.table} SET value = $1, tag = $2, expires_at = $3
       WHERE ns = $4 AND id = $5 AND (expires_at IS NULL OR expires_at > $6)`,
      [
        this.codec.seal(namespace, entry.id, entry.value),
        entry.tag ?? null,
        entry.expiresAt ?? null,
        namespace,
        entry.id,
        Date.now(),
      ],
    );
    return result.rowCount === 1;
  }

  async reencrypt(): Promise<number> {
    const { rows } = await this.query<{ ns: string; id: string; value: string }>(
      `SELECT ns, id, value FROM ${this.table}`,
    );
    let count = 0;
    for (const row of rows) {
      const resealed = this.codec.resealed(row.ns, row.id, row.value);
      if (resealed === null) continue;
      // Only if unchanged meanwhile: a newer write is already under the active key.
      const result = await this.query(
        `UPDATE ${this.table} SET value = $1 WHERE ns = $2 AND id = $3 AND value = $4`,
        [resealed, row.ns, row.id, row.value],
      );
      count += result.rowCount ?? 0;
    }
    return count;
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const { rows } = await this.query<EntryRow>(
      `SELECT id, value, tag, expires_at FROM ${this.table}
       WHERE ns = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)`,
      [namespace, id, Date.now()],
    );
    return rows[0] ? this.#open(namespace, rows[0]) : null;
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    // One statement: concurrent takers on any instance serialise on the row, and one gets it.
    const { rows } = await this.query<EntryRow>(
      `DELETE FROM ${this.table} WHERE ns = $1 AND id = $2 RETURNING id, value, tag, expires_at`,
      [namespace, id],
    );
    const row = rows[0];
    if (!row || (row.expires_at !== null && Number(row.expires_at) <= Date.now())) return null;
    return this.#open(namespace, row);
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    const result = await this.query(`DELETE FROM ${this.table} WHERE ns = $1 AND id = $2`, [namespace, id]);
    return (result.rowCount ?? 0) > 0;
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    const result = await this.query(`DELETE FROM ${this.table} WHERE ns = $1 AND tag = $2`, [namespace, tag]);
    return result.rowCount ?? 0;
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const { rows } = await this.query<EntryRow>(
      `SELECT id, value, tag, expires_at FROM ${this.table}
       WHERE ns = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id COLLATE "C"`,
      [namespace, Date.now()],
    );
    return rows.map((row) => this.#open(namespace, row));
  }

  async purgeExpired(): Promise<number> {
    const result = await this.query(`DELETE FROM ${this.table} WHERE expires_at <= $1`, [Date.now()]);
    return result.rowCount ?? 0;
  }

  #open(namespace: string, row: EntryRow): StoredEntry {
    return {
      id: row.id,
      value: this.codec.open(namespace, row.id, row.value),
      ...(row.tag !== null ? { tag: row.tag } : {}),
      ...(row.expires_at !== null ? { expiresAt: Number(row.expires_at) } : {}),
    };
  }
}
