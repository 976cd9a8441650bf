/**
 * PostgreSQL via a `pg` Pool. Migrations run on open under a session advisory lock, so several processes
 * starting at once apply each migration exactly once. Lock leases are rows whose expiry uses the database
 * clock (`now()`), so app servers with skewed clocks still agree on who holds a lock. A release sends
 * `NOTIFY` on a channel of this schema and prefix; waiters `LISTEN` on one dedicated connection per store
 * (opened on the first wait), so they hear of a release at once instead of polling the table.
 */
import { createHash } from 'node:crypto';
import type { Client, ClientConfig, Pool, PoolClient } from 'pg';
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
import { jitteredPoll, ReleaseSignals, waitForRelease } from './lock-wait.js';
import { PostgresEntries } from './postgres-entries.js';
import { PostgresOutbox } from './postgres-outbox.js';
import type {
  ListOptions,
  LockHandle,
  StoreEncryption,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';
import { hostPort, redactUrl, scrubPassword } from './url.js';

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** The encryption keys for the secret fields (required: this backend never stores a token in clear). */
  keyring: Keyring;
  /** Schema for the tables (created if missing). Default: the connection's search_path (usually `public`). */
  schema?: string;
  /** Prefix of every table name. Default `spotauth_`. */
  tablePrefix?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection, ms. Default 5000. */
  connectTimeoutMs?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

/** While the LISTEN connection is down, waiters look at the lock this often instead. */
const fallbackPollMs = jitteredPoll(50, 100);

/** Append-only. `{t}` is replaced by the qualified table-name prefix. */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{
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
      CREATE TABLE {t}tokens (
        key text PRIMARY KEY,
        version bigint NOT NULL,
        updated_at bigint NOT NULL,
        access_token text NOT NULL,
        refresh_token text,
        data jsonb NOT NULL
      );
      CREATE TABLE {t}locks (
        name text PRIMARY KEY,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'quarantine of unreadable records',
    sql: `
      CREATE TABLE {t}quarantine (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT now(),
        version bigint,
        updated_at bigint,
        access_token text,
        refresh_token text,
        data text
      );`,
  },
  {
    version: 3,
    name: 'entries (sessions, login transactions)',
    sql: `
      CREATE TABLE {t}entries (
        ns text NOT NULL,
        id text NOT NULL,
        value text NOT NULL,
        tag text,
        expires_at bigint,
        PRIMARY KEY (ns, id)
      );
      CREATE INDEX ON {t}entries (ns, tag) WHERE tag IS NOT NULL;
      CREATE INDEX ON {t}entries (expires_at) WHERE expires_at IS NOT NULL;`,
  },
  {
    version: 4,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE {t}outbox (
        id text PRIMARY KEY,
        type text NOT NULL,
        payload text NOT NULL,
        created_at bigint NOT NULL,
        deliveries text NOT NULL,
        next_attempt_at bigint,
        claim text,
        claimed_until bigint
      );
      CREATE INDEX ON {t}outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;`,
  },
];

interface DbRow {
  key: string;
  version: string;
  updated_at: string;
  access_token: string;
  refresh_token: string | null;
  data: unknown;
}

/**
 * A token store in PostgreSQL (`pg`), for servers with several instances. Secrets are encrypted with the
 * keyring; writes are compare-and-swap on a version column; refresh locks are leases timed by the
 * database clock, and their release is announced with `NOTIFY`, so waiting instances wake at once.
 * Migrations run on open, once even when several instances start together. Install `pg`.
 */
export class PostgresStore implements TokenStore {
  readonly kind = 'postgres';
  readonly #pool: Pool;
  readonly #url: string;
  readonly #t: string;
  readonly #codec: RecordCodec;
  readonly #schema: string | undefined;
  readonly #released = new ReleaseSignals();
  /** A channel per schema and prefix, so separate installs sharing a database don't wake each other. */
  readonly #channel: string;
  readonly #newClient: () => Client;
  #listener: Promise<Client | null> | undefined;
  #closed = false;
  readonly entries: PostgresEntries;
  readonly outbox: PostgresOutbox;

  private constructor(
    pool: Pool,
    url: string,
    prefix: string,
    schema: string | undefined,
    keyring: Keyring,
    newClient: () => Client,
  ) {
    this.#pool = pool;
    this.#url = url;
    this.#schema = schema;
    this.#t = schema ? `"${schema}".${prefix}` : prefix;
    this.#codec = new RecordCodec(this.kind, keyring);
    this.#channel = `spotauth_released_${createHash('sha256')
      .update(`${schema ?? ''}|${prefix}`)
      .digest('hex')
      .slice(0, 16)}`;
    this.#newClient = newClient;
    this.outbox = new PostgresOutbox(`${this.#t}outbox`, (sql, values) => this.#query(sql, values));
    this.entries = new PostgresEntries(
      `${this.#t}entries`,
      new EntryCodec(this.kind, keyring),
      (sql, values) => this.#query(sql, values),
    );
  }

  /**
   * Connects, creates the schema if missing, and applies pending migrations.
   *
   * @param url - A `postgres://` connection URL.
   * @throws `SpotauthError` `INVALID_CONFIG` for a schema or table prefix that is not a lowercase
   * identifier (at most 41 characters); `STORE_UNAVAILABLE` when the database cannot be reached.
   */
  static async open(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
    const prefix = options.tablePrefix ?? 'spotauth_';
    for (const [what, value] of [
      ['schema', options.schema],
      ['tablePrefix', prefix],
    ] as const) {
      if (value !== undefined && !IDENTIFIER.test(value)) {
        throw new SpotauthError(
          'INVALID_CONFIG',
          `Postgres ${what} '${value.slice(0, 50)}' must be lowercase letters, digits and '_' (starting with a letter or '_').`,
        );
      }
    }
    const { default: pg } = await import('pg');
    const connection: ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    };
    const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const store = new PostgresStore(
      pool,
      url,
      prefix,
      options.schema,
      options.keyring,
      () => new pg.Client(connection),
    );
    try {
      await store.#migrate(prefix);
    } catch (error) {
      await pool.end().catch(() => {});
      throw store.#translate(error);
    }
    return store;
  }

  get encryption(): StoreEncryption {
    return { activeKid: this.#codec.keyring.activeKid, keyIdsInUse: () => this.#keyIdsInUse() };
  }

  describe(): string {
    return `postgres ${redactUrl(this.#url)}${this.#schema ? ` (schema ${this.#schema})` : ''}`;
  }

  async get(key: string): Promise<TokenRecord | null> {
    const { rows } = await this.#query<DbRow>(`SELECT * FROM ${this.#t}tokens WHERE key = $1`, [key]);
    return rows[0] ? this.#open(rows[0]) : null;
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    const stored = stamp(record, (expectedVersion ?? 0) + 1, Date.now());
    const row = sealedToRow(this.#codec.seal(stored));
    const values: unknown[] = [
      row.key,
      row.version,
      row.updatedAt,
      row.accessToken,
      row.refreshToken,
      row.data,
    ];
    const write =
      expectedVersion === null
        ? `INSERT INTO ${this.#t}tokens (key, version, updated_at, access_token, refresh_token, data)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING version`
        : `UPDATE ${this.#t}tokens SET version = $2, updated_at = $3, access_token = $4, refresh_token = $5,
               data = $6 WHERE key = $1 AND version = $7 RETURNING version`;
    if (expectedVersion !== null) values.push(expectedVersion);
    const events = options?.events;
    let result: { rowCount: number | null };
    if (events?.length) {
      // One statement: the record and its events commit together, or not at all.
      const appended = this.outbox.eventsAfter(events, values.length + 1, stored.updatedAt);
      result = await this.#query(`WITH written AS (${write})${appended.sql} SELECT version FROM written`, [
        ...values,
        ...appended.values,
      ]);
    } else {
      result = await this.#query(write, values);
    }
    if (result.rowCount !== 1) {
      const { rows } = await this.#query<{ version: string }>(
        `SELECT version FROM ${this.#t}tokens WHERE key = $1`,
        [record.key],
      );
      throw conflictError(record.key, expectedVersion, rows[0] ? Number(rows[0].version) : null);
    }
    return stored;
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    const events = options?.events;
    if (!events?.length) {
      await this.#query(`DELETE FROM ${this.#t}tokens WHERE key = $1`, [key]);
      return;
    }
    const appended = this.outbox.eventsAfter(events, 2, Date.now());
    await this.#query(
      `WITH written AS (DELETE FROM ${this.#t}tokens WHERE key = $1 RETURNING key)${appended.sql} SELECT 1`,
      [key, ...appended.values],
    );
  }

  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    const rows = isRange(options)
      ? await this.#rowsInRange(prefix, options)
      : (
          await this.#query<DbRow>(
            `SELECT * FROM ${this.#t}tokens WHERE starts_with(key, $1) ORDER BY key COLLATE "C"`,
            [prefix],
          )
        ).rows;
    return openListed(
      rows,
      (row) => row.key,
      (row) => this.#open(row),
      options,
    );
  }

  /**
   * A range's rows: the keys first, then only the rows in range (in any order; openListed orders them).
   * The range is chosen in JavaScript string order, which the database's collation need not match.
   */
  async #rowsInRange(prefix: string, options: ListOptions | undefined): Promise<DbRow[]> {
    const { rows: keys } = await this.#query<{ key: string }>(
      `SELECT key FROM ${this.#t}tokens WHERE starts_with(key, $1)`,
      [prefix],
    );
    const chosen = listRange(
      keys.map((row) => row.key),
      (key) => key,
      options,
    );
    if (chosen.length === 0) return [];
    return (await this.#query<DbRow>(`SELECT * FROM ${this.#t}tokens WHERE key = ANY($1::text[])`, [chosen]))
      .rows;
  }

  async quarantine(key: string): Promise<string | null> {
    // One statement: the row is moved, never copied-then-lost or deleted-then-lost.
    const { rows } = await this.#query<{ id: string }>(
      `WITH moved AS (DELETE FROM ${this.#t}tokens WHERE key = $1 RETURNING *)
       INSERT INTO ${this.#t}quarantine (key, version, updated_at, access_token, refresh_token, data)
       SELECT key, version, updated_at, access_token, refresh_token, data::text FROM moved RETURNING id`,
      [key],
    );
    const id = rows[0]?.id;
    return id === undefined ? null : `table ${this.#t}quarantine (id ${id})`;
  }

  async #keyIdsInUse(): Promise<Array<{ key: string; kids: string[] }>> {
    const { rows } = await this.#query<Pick<DbRow, 'key' | 'access_token' | 'refresh_token'>>(
      `SELECT key, access_token, refresh_token FROM ${this.#t}tokens ORDER BY key COLLATE "C"`,
    );
    return rows.map((row) => ({
      key: row.key,
      kids: sealedKids({ accessTokenEnc: row.access_token, refreshTokenEnc: row.refresh_token ?? undefined }),
    }));
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    const owner = newLockOwner();
    // Two racers on an expired row: the loser re-checks the WHERE against the winner's new row and gets nothing.
    const result = await this.#query(
      `INSERT INTO ${this.#t}locks AS l (name, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= now() RETURNING owner`,
      [name, owner, Math.ceil(ttlMs)],
    );
    if (result.rowCount !== 1) return null;
    return {
      renew: async (leaseMs) => {
        assertLockArgs(name, leaseMs);
        const renewed = await this.#query(
          `UPDATE ${this.#t}locks SET expires_at = now() + $3 * interval '1 millisecond'
           WHERE name = $1 AND owner = $2 AND expires_at > now() RETURNING owner`,
          [name, owner, Math.ceil(leaseMs)],
        );
        return renewed.rowCount === 1;
      },
      release: async () => {
        // One statement: the notification goes out when the delete commits, and only if there was one.
        const released = await this.#query(
          `WITH gone AS (DELETE FROM ${this.#t}locks WHERE name = $1 AND owner = $2 RETURNING name)
           SELECT pg_notify($3, name) FROM gone`,
          [name, owner, this.#channel],
        );
        if (released.rowCount === 1) this.#released.notify(name);
      },
    };
  }

  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    const listening = (await this.#listen()) !== null;
    await waitForRelease({
      signals: this.#released,
      name,
      timeoutMs,
      ...(listening ? {} : { pollMs: fallbackPollMs }),
      leaseRemainingMs: async () => {
        const { rows } = await this.#query<{ ms: number }>(
          `SELECT (extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms FROM ${this.#t}locks WHERE name = $1`,
          [name],
        );
        return rows[0] ? Math.ceil(rows[0].ms) : 0;
      },
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const listener = await this.#listener?.catch(() => null);
    await listener?.end().catch(() => {});
    await this.#pool.end();
  }

  /** The LISTEN connection, opened once; null while it cannot be had (waiters then poll). */
  #listen(): Promise<Client | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#listener) return this.#listener;
    const client = this.#newClient();
    let attempt: Promise<Client | null> | undefined;
    const drop = () => {
      if (this.#listener === attempt) this.#listener = undefined;
      client.end().catch(() => {});
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', (message) => {
      if (message.channel === this.#channel && message.payload) this.#released.notify(message.payload);
    });
    attempt = client
      .connect()
      .then(() => client.query(`LISTEN "${this.#channel}"`))
      .then(
        () => client,
        () => {
          drop();
          return null;
        },
      );
    this.#listener = attempt;
    return attempt;
  }

  async #migrate(prefix: string): Promise<void> {
    const client = await this.#pool.connect();
    const lockId = advisoryLockId(`spotauth-migrations|${this.#schema ?? ''}|${prefix}`);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockId]);
      try {
        if (this.#schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.#t}schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const { rows } = await client.query<{ version: number }>(
          `SELECT version FROM ${this.#t}schema_migrations`,
        );
        const applied = new Set(rows.map((r) => r.version));
        for (const migration of POSTGRES_MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          await inTransaction(client, async () => {
            await client.query(migration.sql.replaceAll('{t}', this.#t));
            await client.query(`INSERT INTO ${this.#t}schema_migrations (version, name) VALUES ($1, $2)`, [
              migration.version,
              migration.name,
            ]);
          });
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [lockId]);
      }
    } finally {
      client.release();
    }
  }

  async #query<R extends object = Record<string, unknown>>(sql: string, values?: unknown[]) {
    try {
      return await this.#pool.query<R>(sql, values);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #open(row: DbRow): TokenRecord {
    const sealedRow: SealedRow = {
      key: row.key,
      version: Number(row.version),
      updatedAt: Number(row.updated_at),
      accessToken: row.access_token,
      refreshToken: row.refresh_token,
      data: JSON.stringify(row.data),
    };
    return this.#codec.open(rowToSealed(sealedRow, `PostgreSQL table ${this.#t}tokens`));
  }

  /** Driver errors become STORE_UNAVAILABLE with host:port and the driver's reason, never the password. */
  #translate(error: unknown): SpotauthError {
    if (error instanceof SpotauthError) return error;
    const code = String((error as { code?: unknown }).code ?? '');
    const message = scrubPassword(error instanceof Error ? error.message : String(error), this.#url);
    const where = `PostgreSQL at ${hostPort(this.#url, 5432)}`;
    const connection =
      /^(E[A-Z]+|08\w{3}|57P0\d|53300|28\w{3}|3D000)$/.test(code) || /timeout|terminated/i.test(message);
    return new SpotauthError(
      'STORE_UNAVAILABLE',
      connection
        ? `Cannot reach ${where}: ${message}`
        : `${where} rejected a query: ${message}${code ? ` (${code})` : ''}`,
      { transient: connection },
    );
  }
}

async function inTransaction(client: PoolClient, fn: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await fn();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** pg advisory locks take a bigint; derive a stable one per schema/prefix so separate installs don't block each other. */
function advisoryLockId(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}
