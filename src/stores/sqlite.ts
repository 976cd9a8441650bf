/**
 * SQLite via better-sqlite3 (synchronous; each call is short, so the async methods just wrap it).
 * WAL mode lets readers run beside the single writer; busy_timeout makes concurrent processes wait instead of
 * failing with SQLITE_BUSY. Every write is one statement, so CAS needs no explicit transaction.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { SpotauthError } from '../core/errors.js';
import {
  checkInput,
  conflictError,
  isRange,
  listRange,
  openListed,
  RecordCodec,
  rowToSealed,
  type SealedRow,
  sealedKids,
  sealedToRow,
  stamp,
} from './codec.js';
import type { Keyring } from './encryption.js';
import { EntryCodec } from './entries.js';
import { assertLockArgs, newLockOwner } from './lock-owner.js';
import { jitteredPoll, type ReleaseSignals, sharedSignals, waitForRelease } from './lock-wait.js';
import { SqliteEntries } from './sqlite-entries.js';
import { SqliteOutbox } from './sqlite-outbox.js';
import type {
  ListOptions,
  LockHandle,
  StoreEncryption,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** The encryption keys for the secret fields (required: this backend never stores a token in clear). */
  keyring: Keyring;
  /** How long a statement waits for another connection's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * How often a waiter looks at the locks table for a release by another process (SQLite has no cross-process
 * notification). A look is one indexed read of a local file; releases in this process wake waiters at once.
 */
const releasePollMs = jitteredPoll(15, 40);

/** Append-only: never edit a shipped migration, add a new one. */
export const SQLITE_MIGRATIONS: ReadonlyArray<{
  /** Applied in ascending order; recorded once applied. */
  version: number;
  /** What it does, for logs. */
  name: string;
  /** The statements. */
  sql: string;
}> = [
  {
    version: 1,
    name: 'tokens and locks',
    sql: `
      CREATE TABLE spotauth_tokens (
        key TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        access_token TEXT NOT NULL,
        refresh_token TEXT,
        data TEXT NOT NULL
      );
      CREATE TABLE spotauth_locks (
        name TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'quarantine of unreadable records',
    sql: `
      CREATE TABLE spotauth_quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        quarantined_at INTEGER NOT NULL,
        version INTEGER,
        updated_at INTEGER,
        access_token TEXT,
        refresh_token TEXT,
        data TEXT
      );`,
  },
  {
    version: 3,
    name: 'entries (sessions, login transactions)',
    sql: `
      CREATE TABLE spotauth_entries (
        ns TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        tag TEXT,
        expires_at INTEGER,
        PRIMARY KEY (ns, id)
      );
      CREATE INDEX spotauth_entries_tag ON spotauth_entries (ns, tag) WHERE tag IS NOT NULL;
      CREATE INDEX spotauth_entries_expiry ON spotauth_entries (expires_at) WHERE expires_at IS NOT NULL;`,
  },
  {
    version: 4,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE spotauth_outbox (
        id TEXT PRIMARY KEY NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deliveries TEXT NOT NULL,
        next_attempt_at INTEGER,
        claim TEXT,
        claimed_until INTEGER
      );
      CREATE INDEX spotauth_outbox_due ON spotauth_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;`,
  },
];

interface DbRow {
  key: string;
  version: number;
  updated_at: number;
  access_token: string;
  refresh_token: string | null;
  data: string;
}

/**
 * A token store in a SQLite database (better-sqlite3, WAL mode), for one machine with several processes.
 * Secrets are encrypted with the keyring. Open it with {@link SqliteStore.open}; install `better-sqlite3`.
 */
export class SqliteStore implements TokenStore {
  readonly kind = 'sqlite';
  /** The database file, as an absolute path. */
  readonly path: string;
  readonly #db: BetterSqlite3.Database;
  readonly #codec: RecordCodec;
  readonly #released: ReleaseSignals;
  readonly entries: SqliteEntries;
  readonly outbox: SqliteOutbox;

  private constructor(path: string, db: BetterSqlite3.Database, keyring: Keyring) {
    this.path = path;
    this.#db = db;
    this.#codec = new RecordCodec(this.kind, keyring);
    this.#released = sharedSignals(`sqlite:${path}`);
    this.entries = new SqliteEntries(db, new EntryCodec(this.kind, keyring), (fn) => this.#run(fn));
    this.outbox = new SqliteOutbox(db, (fn) => this.#run(fn));
  }

  /**
   * Opens (creating with mode 0600 if needed) and migrates the database.
   *
   * @throws `SpotauthError` `STORE_UNAVAILABLE` when the file cannot be opened or is locked;
   * `STORE_CORRUPT` when it is not a database.
   */
  static async open(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
    const { default: Database } = await import('better-sqlite3');
    const full = resolve(path);
    let db: BetterSqlite3.Database;
    try {
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
      // SQLite would create the file 0644; creating it first fixes the mode, and SQLite gives -wal/-shm the same one.
      try {
        closeSync(openSync(full, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      db = new Database(full);
    } catch (error) {
      throw new SpotauthError(
        'STORE_UNAVAILABLE',
        `Cannot open the SQLite database ${full} (${reason(error)}).`,
      );
    }
    try {
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } catch (error) {
      db.close();
      throw translate(error, full);
    }
    return new SqliteStore(full, db, options.keyring);
  }

  get encryption(): StoreEncryption {
    return { activeKid: this.#codec.keyring.activeKid, keyIdsInUse: () => this.#keyIdsInUse() };
  }

  describe(): string {
    return `sqlite ${this.path}`;
  }

  async get(key: string): Promise<TokenRecord | null> {
    const row = this.#run(() =>
      this.#db.prepare<[string], DbRow>('SELECT * FROM spotauth_tokens WHERE key = ?').get(key),
    );
    return row ? this.#open(row) : null;
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    const stored = stamp(record, (expectedVersion ?? 0) + 1, Date.now());
    const row = sealedToRow(this.#codec.seal(stored));
    const write = () => {
      if (expectedVersion === null) {
        return this.#db
          .prepare(
            `INSERT INTO spotauth_tokens (key, version, updated_at, access_token, refresh_token, data)
             VALUES (@key, @version, @updatedAt, @accessToken, @refreshToken, @data) ON CONFLICT(key) DO NOTHING`,
          )
          .run(row).changes;
      }
      return this.#db
        .prepare(
          `UPDATE spotauth_tokens SET version = @version, updated_at = @updatedAt, access_token = @accessToken,
             refresh_token = @refreshToken, data = @data WHERE key = @key AND version = @expectedVersion`,
        )
        .run({ ...row, expectedVersion }).changes;
    };
    const events = options?.events;
    const changes = this.#run(() =>
      events?.length
        ? this.#db.transaction(() => {
            const changed = write();
            if (changed === 1) this.outbox.insert(events, stored.updatedAt);
            return changed;
          })()
        : write(),
    );
    if (changes !== 1) {
      const current = this.#run(() =>
        this.#db
          .prepare<[string], { version: number }>('SELECT version FROM spotauth_tokens WHERE key = ?')
          .get(record.key),
      );
      throw conflictError(record.key, expectedVersion, current?.version ?? null);
    }
    return stored;
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    const events = options?.events;
    this.#run(() =>
      this.#db.transaction(() => {
        const { changes } = this.#db.prepare('DELETE FROM spotauth_tokens WHERE key = ?').run(key);
        if (changes === 1 && events?.length) this.outbox.insert(events, Date.now());
      })(),
    );
  }

  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    // substr() rather than LIKE: keys may contain % and _.
    const rows = this.#run(() => {
      if (!isRange(options)) {
        return this.#db
          .prepare<[string, string], DbRow>(
            'SELECT * FROM spotauth_tokens WHERE substr(key, 1, length(?)) = ? ORDER BY key',
          )
          .all(prefix, prefix);
      }
      // A range: the keys first (from the primary key's index), then only the rows in range. The range is
      // chosen in JavaScript string order, which SQL's byte order need not match.
      const keys = this.#db
        .prepare<[string, string], string>(
          'SELECT key FROM spotauth_tokens WHERE substr(key, 1, length(?)) = ? ORDER BY key',
        )
        .pluck()
        .all(prefix, prefix);
      const row = this.#db.prepare<[string], DbRow>('SELECT * FROM spotauth_tokens WHERE key = ?');
      return listRange(keys, (key) => key, options).flatMap((key) => row.get(key) ?? []);
    });
    return openListed(
      rows,
      (row) => row.key,
      (row) => this.#open(row),
      options,
    );
  }

  async quarantine(key: string): Promise<string | null> {
    const id = this.#run(() =>
      this.#db
        .transaction(() => {
          const inserted = this.#db
            .prepare(
              `INSERT INTO spotauth_quarantine (key, quarantined_at, version, updated_at, access_token, refresh_token, data)
               SELECT key, ?, version, updated_at, access_token, refresh_token, data FROM spotauth_tokens WHERE key = ?`,
            )
            .run(Date.now(), key);
          if (inserted.changes !== 1) return null;
          this.#db.prepare('DELETE FROM spotauth_tokens WHERE key = ?').run(key);
          return Number(inserted.lastInsertRowid);
        })
        .immediate(),
    );
    return id === null ? null : `table spotauth_quarantine (id ${id}) of SQLite database ${this.path}`;
  }

  async #keyIdsInUse(): Promise<Array<{ key: string; kids: string[] }>> {
    const rows = this.#run(() =>
      this.#db
        .prepare<[], Pick<DbRow, 'key' | 'access_token' | 'refresh_token'>>(
          'SELECT key, access_token, refresh_token FROM spotauth_tokens ORDER BY key',
        )
        .all(),
    );
    return rows.map((row) => ({
      key: row.key,
      kids: sealedKids({ accessTokenEnc: row.access_token, refreshTokenEnc: row.refresh_token ?? undefined }),
    }));
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    const owner = newLockOwner();
    const now = Date.now();
    const changes = this.#run(
      () =>
        this.#db
          .prepare(
            `INSERT INTO spotauth_locks (name, owner, expires_at) VALUES (?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE spotauth_locks.expires_at <= ?`,
          )
          .run(name, owner, now + ttlMs, now).changes,
    );
    if (changes !== 1) return null;
    return {
      renew: async (leaseMs) => {
        assertLockArgs(name, leaseMs);
        const at = Date.now();
        return (
          this.#run(
            () =>
              this.#db
                .prepare(
                  'UPDATE spotauth_locks SET expires_at = ? WHERE name = ? AND owner = ? AND expires_at > ?',
                )
                .run(at + leaseMs, name, owner, at).changes,
          ) === 1
        );
      },
      release: async () => {
        const released = this.#run(
          () =>
            this.#db.prepare('DELETE FROM spotauth_locks WHERE name = ? AND owner = ?').run(name, owner)
              .changes,
        );
        if (released === 1) this.#released.notify(name);
      },
    };
  }

  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    await waitForRelease({
      signals: this.#released,
      name,
      timeoutMs,
      pollMs: releasePollMs,
      leaseRemainingMs: async () => {
        const row = this.#run(() =>
          this.#db
            .prepare<[string], { expires_at: number }>('SELECT expires_at FROM spotauth_locks WHERE name = ?')
            .get(name),
        );
        return row ? row.expires_at - Date.now() : 0;
      },
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #open(row: DbRow): TokenRecord {
    const sealedRow: SealedRow = {
      key: row.key,
      version: row.version,
      updatedAt: row.updated_at,
      accessToken: row.access_token,
      refreshToken: row.refresh_token,
      data: row.data,
    };
    return this.#codec.open(rowToSealed(sealedRow, `SQLite database ${this.path}`));
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw translate(error, this.path);
    }
  }
}

function migrate(db: BetterSqlite3.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS spotauth_schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  // IMMEDIATE takes the write lock up front, so two processes opening a fresh file don't both migrate.
  db.transaction(() => {
    const applied = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM spotauth_schema_migrations')
        .all()
        .map((r) => r.version),
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO spotauth_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }
  }).immediate();
}

function translate(error: unknown, path: string): Error {
  if (error instanceof SpotauthError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new SpotauthError(
      'STORE_CORRUPT',
      `The SQLite database ${path} is corrupt or not a database (${code}).`,
    );
  }
  return new SpotauthError('STORE_UNAVAILABLE', `SQLite database ${path}: ${reason(error)}.`, {
    transient: code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED',
  });
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
