/**
 * A token store written the way a third party would write one for their own SQL database, built only from
 * spotauth's public backend kit (`spotauth/stores`). It runs on an in-memory SQLite database so that the
 * example needs no server; every `SqlStore` opened on the same `Database` object behaves like another
 * process sharing that database, which is what the contract suite's cross-instance cases check.
 *
 * Swap `better-sqlite3` for your driver and the statements for your dialect; keep the shape: compare-and-swap
 * on `version`, outbox events written in the same transaction as the record, leases with an owner and an
 * expiry, and everything secret sealed by the keyring.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  appendTo,
  assertLockArgs,
  checkEntry,
  checkEntryArgs,
  checkInput,
  conflictError,
  copyEntry,
  DocumentOutbox,
  EntryCodec,
  type EntryStore,
  type Keyring,
  type ListOptions,
  type LockHandle,
  live,
  newLockOwner,
  openListed,
  RecordCodec,
  ReleaseSignals,
  registerStoreBackend,
  requireKeyring,
  type SealedRecord,
  type StoredEntry,
  type StoredOutboxEvent,
  type StoreEncryption,
  sealedKids,
  stamp,
  type TokenRecord,
  type TokenRecordInput,
  type TokenStore,
  validateSealed,
  type WriteOptions,
  waitForRelease,
} from 'spotauth/stores';

type Db = BetterSqlite3.Database;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, version INTEGER NOT NULL, sealed TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS quarantine (key TEXT NOT NULL, sealed TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS entries (
    namespace TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, tag TEXT, expires_at INTEGER,
    PRIMARY KEY (namespace, id));
  CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, event TEXT NOT NULL);
`;

export class SqlStore implements TokenStore {
  readonly kind = 'sql-example';
  readonly #db: Db;
  readonly #codec: RecordCodec;
  readonly #released: ReleaseSignals;
  readonly entries: EntryStore;
  readonly outbox: DocumentOutbox;

  constructor(db: Db, keyring: Keyring) {
    this.#db = db;
    this.#released = releaseSignalsOf(db);
    db.exec(SCHEMA);
    // The store kind is bound into every envelope, so a record copied into another kind of store won't open.
    this.#codec = new RecordCodec(this.kind, keyring);
    this.entries = new SqlEntries(db, new EntryCodec(this.kind, keyring));
    this.outbox = new DocumentOutbox(
      async (change) => this.#db.transaction(() => this.#changeOutbox(change))(),
      async () => this.#readOutbox(),
    );
  }

  get encryption(): StoreEncryption {
    return {
      activeKid: this.#codec.keyring.activeKid,
      keyIdsInUse: async () =>
        this.#rows().map((row) => ({ key: row.key, kids: sealedKids(this.#sealed(row)) })),
    };
  }

  describe(): string {
    return 'an in-memory SQL database (example store)';
  }

  async get(key: string): Promise<TokenRecord | null> {
    const row = this.#db.prepare('SELECT key, sealed FROM records WHERE key = ?').get(key) as Row | undefined;
    return row ? this.#codec.open(this.#sealed(row)) : null;
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    return this.#db.transaction(() => {
      const current = this.#db.prepare('SELECT version FROM records WHERE key = ?').get(record.key) as
        | { version: number }
        | undefined;
      if ((current?.version ?? null) !== expectedVersion) {
        throw conflictError(record.key, expectedVersion, current?.version ?? null);
      }
      const stored = stamp(record, (current?.version ?? 0) + 1, Date.now());
      this.#db
        .prepare('INSERT OR REPLACE INTO records (key, version, sealed) VALUES (?, ?, ?)')
        .run(stored.key, stored.version, JSON.stringify(this.#codec.seal(stored)));
      if (options?.events?.length) this.#changeOutbox((all) => this.#append(all, options));
      return stored;
    })();
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    this.#db.transaction(() => {
      const { changes } = this.#db.prepare('DELETE FROM records WHERE key = ?').run(key);
      if (changes > 0 && options?.events?.length) this.#changeOutbox((all) => this.#append(all, options));
    })();
  }

  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    // Prefixes are compared as strings, not with LIKE, so '%' and '_' in a key mean themselves.
    const rows = this.#rows().filter((row) => row.key.startsWith(prefix));
    return openListed(
      rows,
      (row) => row.key,
      (row) => this.#codec.open(this.#sealed(row)),
      options,
    );
  }

  async quarantine(key: string): Promise<string | null> {
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT sealed FROM records WHERE key = ?').get(key) as
        | { sealed: string }
        | undefined;
      if (!row) return null;
      this.#db
        .prepare('INSERT INTO quarantine (key, sealed, at) VALUES (?, ?, ?)')
        .run(key, row.sealed, Date.now());
      this.#db.prepare('DELETE FROM records WHERE key = ?').run(key);
      return 'the quarantine table';
    })();
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    const owner = newLockOwner();
    const now = Date.now();
    // Take the lock if it is free or its lease ran out; the upsert's WHERE makes the check and the take one step.
    const { changes } = this.#db
      .prepare(
        `INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE locks.expires_at <= ?`,
      )
      .run(name, owner, now + ttlMs, now);
    if (changes === 0) return null;
    return {
      renew: async (leaseMs) => {
        assertLockArgs(name, leaseMs);
        const at = Date.now();
        return (
          this.#db
            .prepare('UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ? AND expires_at > ?')
            .run(at + leaseMs, name, owner, at).changes > 0
        );
      },
      release: async () => {
        const { changes } = this.#db
          .prepare('DELETE FROM locks WHERE name = ? AND owner = ?')
          .run(name, owner);
        if (changes > 0) this.#released.notify(name);
      },
    };
  }

  /**
   * Optional in the interface (without it the token manager polls tryLock), but it is what lets a waiting
   * refresh start the moment the holder is done. Stores on one database are told of releases directly; a
   * store shared with other processes would add a poll (`pollMs`) or its database's notifications.
   */
  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    await waitForRelease({
      signals: this.#released,
      name,
      timeoutMs,
      leaseRemainingMs: async () => {
        const row = this.#db.prepare('SELECT expires_at FROM locks WHERE name = ?').get(name) as
          | { expires_at: number }
          | undefined;
        return row ? row.expires_at - Date.now() : 0;
      },
    });
  }

  async close(): Promise<void> {
    // The database belongs to whoever opened it (other stores may share it).
  }

  #rows(): Row[] {
    return this.#db.prepare('SELECT key, sealed FROM records ORDER BY key').all() as Row[];
  }

  #sealed(row: Row): SealedRecord {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.sealed);
    } catch {
      parsed = undefined;
    }
    return validateSealed(parsed, this.describe());
  }

  #append(all: Record<string, StoredOutboxEvent>, options: WriteOptions) {
    appendTo(all, options.events ?? [], Date.now());
    return { changed: true, result: undefined };
  }

  /** Runs inside the caller's transaction: read every event, let `change` edit them, write back what changed. */
  #changeOutbox<T>(
    change: (events: Record<string, StoredOutboxEvent>) => { changed: boolean; result: T },
  ): T {
    const events = this.#readOutbox();
    const before = new Set(Object.keys(events));
    const { changed, result } = change(events);
    if (changed) {
      for (const id of before)
        if (!(id in events)) this.#db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
      const upsert = this.#db.prepare('INSERT OR REPLACE INTO outbox (id, event) VALUES (?, ?)');
      for (const [id, event] of Object.entries(events)) upsert.run(id, JSON.stringify(event));
    }
    return result;
  }

  #readOutbox(): Record<string, StoredOutboxEvent> {
    const rows = this.#db.prepare('SELECT id, event FROM outbox').all() as Array<{
      id: string;
      event: string;
    }>;
    return Object.fromEntries(rows.map((row) => [row.id, JSON.parse(row.event) as StoredOutboxEvent]));
  }
}

const signalsByDatabase = new WeakMap<Db, ReleaseSignals>();

/** One set of release signals per database, shared by every store opened on it. */
function releaseSignalsOf(db: Db): ReleaseSignals {
  let signals = signalsByDatabase.get(db);
  if (!signals) {
    signals = new ReleaseSignals();
    signalsByDatabase.set(db, signals);
  }
  return signals;
}

interface Row {
  key: string;
  sealed: string;
}

interface EntryRow {
  id: string;
  value: string;
  tag: string | null;
  expires_at: number | null;
}

/** Sessions, login transactions and service keys: sealed values, an optional tag, an optional expiry. */
class SqlEntries implements EntryStore {
  constructor(
    readonly db: Db,
    readonly codec: EntryCodec,
  ) {}

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    this.db
      .prepare(
        'INSERT OR REPLACE INTO entries (namespace, id, value, tag, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(
        namespace,
        entry.id,
        this.codec.seal(namespace, entry.id, entry.value),
        entry.tag ?? null,
        entry.expiresAt ?? null,
      );
  }

  async update(namespace: string, entry: StoredEntry): Promise<boolean> {
    checkEntry(namespace, entry);
    // Only over a live entry: an update must never bring back one that was deleted or has expired.
    return (
      this.db
        .prepare(
          `UPDATE entries SET value = ?, tag = ?, expires_at = ?
           WHERE namespace = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
        )
        .run(
          this.codec.seal(namespace, entry.id, entry.value),
          entry.tag ?? null,
          entry.expiresAt ?? null,
          namespace,
          entry.id,
          Date.now(),
        ).changes > 0
    );
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const row = this.db
      .prepare('SELECT id, value, tag, expires_at FROM entries WHERE namespace = ? AND id = ?')
      .get(namespace, id) as EntryRow | undefined;
    return this.#open(namespace, row);
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const row = this.db
      .prepare('DELETE FROM entries WHERE namespace = ? AND id = ? RETURNING id, value, tag, expires_at')
      .get(namespace, id) as EntryRow | undefined;
    return this.#open(namespace, row);
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    return (
      this.db.prepare('DELETE FROM entries WHERE namespace = ? AND id = ?').run(namespace, id).changes > 0
    );
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    return this.db.prepare('DELETE FROM entries WHERE namespace = ? AND tag = ?').run(namespace, tag).changes;
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const rows = this.db
      .prepare('SELECT id, value, tag, expires_at FROM entries WHERE namespace = ? ORDER BY id')
      .all(namespace) as EntryRow[];
    return rows.flatMap((row) => this.#open(namespace, row) ?? []);
  }

  async purgeExpired(): Promise<number> {
    return this.db.prepare('DELETE FROM entries WHERE expires_at <= ?').run(Date.now()).changes;
  }

  async reencrypt(): Promise<number> {
    const rows = this.db.prepare('SELECT namespace, id, value FROM entries').all() as Array<{
      namespace: string;
      id: string;
      value: string;
    }>;
    let rewritten = 0;
    for (const row of rows) {
      const resealed = this.codec.resealed(row.namespace, row.id, row.value);
      if (resealed === null) continue;
      this.db
        .prepare('UPDATE entries SET value = ? WHERE namespace = ? AND id = ? AND value = ?')
        .run(resealed, row.namespace, row.id, row.value);
      rewritten++;
    }
    return rewritten;
  }

  #open(namespace: string, row: EntryRow | undefined): StoredEntry | null {
    const entry =
      row &&
      live(
        {
          id: row.id,
          value: row.value,
          ...(row.tag !== null ? { tag: row.tag } : {}),
          ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
        },
        Date.now(),
      );
    if (!entry) return null;
    return copyEntry({ ...entry, value: this.codec.open(namespace, entry.id, entry.value) });
  }
}

/**
 * One registration, and `sql-example:NAME` works wherever a store URL does (`createStore`, `SPOTAUTH_STORE`
 * in a server the app starts after importing this file). Stores opened with the same NAME share a database.
 */
export function registerSqlStore(openDatabase: (name: string) => Promise<Db>): void {
  registerStoreBackend({
    name: 'sql-example',
    schemes: ['sql-example'],
    persistent: true,
    open: async (target, options) =>
      new SqlStore(await openDatabase(target), requireKeyring(options, 'sql-example')),
  });
}
