/**
 * One JSON file holding every record, for the CLI. Format:
 *
 *     { "format": "spotauth-file-store", "version": 1, "records": { "<key>": SealedRecord, … } }
 *
 * Writes are atomic (temp file in the same directory, fsync, rename, fsync the directory), and the previous
 * good file is kept as `<file>.bak`. A damaged file is reported as STORE_CORRUPT, never read as "logged out".
 * Read-modify-write is serialised across processes by `<file>.lock` (see file-lock.ts); reads take no lock
 * because a rename is atomic.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SpotauthError } from '../core/errors.js';
import {
  checkInput,
  conflictError,
  openListed,
  RecordCodec,
  type SealedRecord,
  sealedKids,
  stamp,
  validateSealed,
} from './codec.js';
import type { Keyring } from './encryption.js';
import { EntryCodec } from './entries.js';
import { FileEntries } from './file-entries.js';
import { atomicWrite, readOrNull } from './file-io.js';
import {
  acquireFileLock,
  errno,
  fileLockRemainingMs,
  releaseFileLock,
  renewFileLock,
  tryAcquireFileLock,
} from './file-lock.js';
import { assertLockArgs } from './lock-owner.js';
import { jitteredPoll, sharedSignals, waitForRelease } from './lock-wait.js';
import { appendTo, DocumentOutbox, type StoredOutboxEvent } from './outbox-shared.js';
import type {
  ListOptions,
  LockHandle,
  StoreEncryption,
  TokenRecord,
  TokenRecordInput,
  TokenStore,
  WriteOptions,
} from './types.js';

/** The `format` field of a store file; a JSON file without it is refused rather than overwritten. */
export const FILE_FORMAT = 'spotauth-file-store';
/** The `version` field written; a newer version is refused (upgrade spotauth to read it). */
export const FILE_FORMAT_VERSION = 1;

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The encryption keys for the secret fields (required: this backend never stores a token in clear). */
  keyring: Keyring;
  /**
   * How long put/delete wait for another process's write lock, ms. Default 15 000 (longer than the lock's
   * lifetime).
   */
  lockTimeoutMs?: number;
  /** Lifetime of the write lock, ms, after which a crashed writer's lock is broken. Default 10 000. */
  writeLockTtlMs?: number;
}

interface Loaded {
  records: Record<string, SealedRecord>;
  /** Webhook events, in the same document so they are written in the same step as the records. */
  outbox: Record<string, StoredOutboxEvent>;
  /** The bytes read, kept to become `<file>.bak` on the next write. */
  raw: Buffer | null;
}

/**
 * How often a waiter looks at a lock file for a release by another process. A look is one read of a small
 * local file; a release in this process wakes waiters at once, and a holder whose pid is dead is seen at once.
 */
const releasePollMs = jitteredPoll(15, 40);

/** Same-process writers queue here first, so they don't poll the lock file against each other. */
const inProcessQueues = new Map<string, Promise<unknown>>();

/**
 * A token store in one JSON file (mode 0600), for the CLI and single-machine tools. Secrets are encrypted
 * with the keyring; writes are atomic (temp file, fsync, rename) and the previous good file is kept as
 * `<file>.bak`; processes on one machine share it safely through a `<file>.lock` write lock. A damaged
 * file is reported as `STORE_CORRUPT`, never read as "logged out".
 *
 * Format: `{ "format": "spotauth-file-store", "version": 1, "records": { "<key>": … } }`.
 */
export class FileStore implements TokenStore {
  readonly kind = 'file';
  /** The store file, as an absolute path. */
  readonly path: string;
  /** The previous good version of the file (`<path>.bak`), rewritten before each write. */
  readonly backupPath: string;
  readonly #codec: RecordCodec;
  readonly #lockTimeoutMs: number;
  readonly #writeLockTtlMs: number;
  readonly entries: FileEntries;
  readonly outbox: DocumentOutbox;
  #dirReady: Promise<void> | undefined;

  constructor(path: string, options: FileStoreOptions) {
    this.path = resolve(path);
    this.backupPath = `${this.path}.bak`;
    this.#codec = new RecordCodec(this.kind, options.keyring);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 15_000;
    this.#writeLockTtlMs = options.writeLockTtlMs ?? 10_000;
    this.entries = new FileEntries(
      this.path,
      new EntryCodec(this.kind, options.keyring),
      this.#lockTimeoutMs,
    );
    this.outbox = new DocumentOutbox(
      (change) => this.#modify((loaded) => change(loaded.outbox)),
      async () => (await this.#load()).outbox,
    );
  }

  get encryption(): StoreEncryption {
    return { activeKid: this.#codec.keyring.activeKid, keyIdsInUse: () => this.#keyIdsInUse() };
  }

  describe(): string {
    return `file ${this.path}`;
  }

  async get(key: string): Promise<TokenRecord | null> {
    const sealed = (await this.#load()).records[key];
    return sealed ? this.#codec.open(sealed) : null;
  }

  async put(
    record: TokenRecordInput,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<TokenRecord> {
    checkInput(record, expectedVersion);
    return this.#modify(({ records, outbox }) => {
      const currentVersion = records[record.key]?.version ?? null;
      if (currentVersion !== expectedVersion)
        throw conflictError(record.key, expectedVersion, currentVersion);
      const stored = stamp(record, (currentVersion ?? 0) + 1, Date.now());
      records[record.key] = this.#codec.seal(stored);
      if (options?.events) appendTo(outbox, options.events, stored.updatedAt);
      return { changed: true, result: stored };
    });
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    await this.#modify(({ records, outbox }) => {
      const changed = key in records;
      delete records[key];
      if (changed && options?.events) appendTo(outbox, options.events, Date.now());
      return { changed, result: undefined };
    });
  }

  async list(prefix = '', options?: ListOptions): Promise<TokenRecord[]> {
    const { records } = await this.#load();
    const listed = Object.entries(records)
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return openListed(
      listed,
      ([key]) => key,
      ([, sealed]) => this.#codec.open(sealed),
      options,
    );
  }

  /** The record's sealed JSON goes to its own `0600` file beside the store, then leaves the store. */
  async quarantine(key: string): Promise<string | null> {
    return this.#modify(async ({ records }) => {
      const sealed = records[key];
      if (sealed === undefined) return { changed: false, result: null };
      const target = `${this.path}.quarantine-${Date.now()}-${randomBytes(4).toString('hex')}.json`;
      // Written before the store is rewritten without it: a failure here leaves the record where it was.
      await atomicWrite(target, Buffer.from(`${JSON.stringify({ key, record: sealed }, null, 2)}\n`, 'utf8'));
      delete records[key];
      return { changed: true, result: `file ${target}` };
    });
  }

  async #keyIdsInUse(): Promise<Array<{ key: string; kids: string[] }>> {
    const { records } = await this.#load();
    return Object.values(records).map((sealed) => ({ key: sealed.key, kids: sealedKids(sealed) }));
  }

  async tryLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    assertLockArgs(name, ttlMs);
    await this.#ensureDir();
    const lockPath = this.#lockPath(name);
    const owner = await tryAcquireFileLock(lockPath, ttlMs);
    if (!owner) return null;
    return {
      renew: (leaseMs) => {
        assertLockArgs(name, leaseMs);
        return renewFileLock(lockPath, owner, leaseMs);
      },
      release: async () => {
        if (await releaseFileLock(lockPath, owner)) sharedSignals(lockPath).notify(name);
      },
    };
  }

  async waitForRelease(name: string, timeoutMs: number): Promise<void> {
    const lockPath = this.#lockPath(name);
    await waitForRelease({
      signals: sharedSignals(lockPath),
      name,
      timeoutMs,
      pollMs: releasePollMs,
      leaseRemainingMs: () => fileLockRemainingMs(lockPath),
    });
  }

  #lockPath(name: string): string {
    const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
    return join(dirname(this.path), `${basename(this.path)}.${digest}.lock`);
  }

  /**
   * Replaces a corrupt (or missing) token file with `<file>.bak`, after checking the backup is valid.
   * The damaged file is kept as `<file>.corrupt` for inspection. Returns the number of records restored.
   */
  async restoreBackup(): Promise<number> {
    return this.#serialised(async () => {
      const raw = await readOrNull(this.backupPath);
      if (raw === null) {
        throw new SpotauthError(
          'STORE_CORRUPT',
          `There is no backup to restore: ${this.backupPath} does not exist.`,
        );
      }
      const records = this.#parse(raw, this.backupPath);
      const current = await readOrNull(this.path);
      if (current !== null) await atomicWrite(`${this.path}.corrupt`, current);
      await atomicWrite(this.path, raw);
      return Object.keys(records).length;
    });
  }

  async close(): Promise<void> {}

  async #modify<T>(
    change: (loaded: Loaded) => { changed: boolean; result: T } | Promise<{ changed: boolean; result: T }>,
  ): Promise<T> {
    return this.#serialised(async () => {
      const loaded = await this.#load();
      const { changed, result } = await change(loaded);
      if (changed) {
        const body = {
          format: FILE_FORMAT,
          version: FILE_FORMAT_VERSION,
          records: loaded.records,
          ...(Object.keys(loaded.outbox).length > 0 ? { outbox: loaded.outbox } : {}),
        };
        // The bytes we just parsed successfully are, by definition, the last good file.
        if (loaded.raw !== null) await atomicWrite(this.backupPath, loaded.raw);
        await atomicWrite(this.path, Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8'));
      }
      return result;
    });
  }

  async #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const previous = inProcessQueues.get(this.path) ?? Promise.resolve();
    const run = previous
      .catch(() => {})
      .then(async () => {
        await this.#ensureDir();
        const lockPath = `${this.path}.lock`;
        const owner = await acquireFileLock(lockPath, this.#writeLockTtlMs, this.#lockTimeoutMs);
        try {
          return await fn();
        } finally {
          await releaseFileLock(lockPath, owner);
        }
      });
    inProcessQueues.set(this.path, run);
    try {
      return await run;
    } finally {
      if (inProcessQueues.get(this.path) === run) inProcessQueues.delete(this.path);
    }
  }

  async #load(): Promise<Loaded> {
    const raw = await readOrNull(this.path);
    if (raw === null) {
      if ((await readOrNull(this.backupPath)) !== null) {
        throw new SpotauthError(
          'STORE_CORRUPT',
          `The token file ${this.path} is missing but its backup ${this.backupPath} exists. ` +
            'Copy the backup over it to restore, or delete the backup to start over.',
        );
      }
      return { records: {}, outbox: {}, raw: null };
    }
    const records = this.#parse(raw, this.path);
    const { outbox } = JSON.parse(raw.toString('utf8')) as { outbox?: unknown };
    const events = typeof outbox === 'object' && outbox !== null && !Array.isArray(outbox) ? outbox : {};
    return { records, outbox: events as Record<string, StoredOutboxEvent>, raw };
  }

  #parse(raw: Buffer, path: string): Record<string, SealedRecord> {
    const problem = describeProblem(raw);
    if (problem) throw this.#corrupt(path, problem);
    const records = (JSON.parse(raw.toString('utf8')) as { records: Record<string, unknown> }).records;
    const result: Record<string, SealedRecord> = {};
    for (const [key, value] of Object.entries(records)) {
      try {
        const sealed = validateSealed(value, path);
        if (sealed.key !== key) throw new Error('key mismatch');
        result[key] = sealed;
      } catch {
        throw this.#corrupt(path, `record '${key}' is malformed`);
      }
    }
    return result;
  }

  #corrupt(path: string, problem: string): SpotauthError {
    if (path !== this.path) {
      return new SpotauthError('STORE_CORRUPT', `The backup ${path} is unusable too (${problem}).`);
    }
    return new SpotauthError(
      'STORE_CORRUPT',
      `The token file ${path} is corrupt (${problem}); it was not treated as "logged out". ${this.#backupAdvice()}`,
    );
  }

  #backupAdvice(): string {
    // Synchronous check is fine: this runs only on the error path.
    let backup: Buffer | null = null;
    try {
      backup = readFileSyncOrNull(this.backupPath);
    } catch {
      backup = null;
    }
    if (backup === null) return `No backup exists (${this.backupPath}); move the file away and log in again.`;
    const problem = describeProblem(backup);
    if (problem)
      return `The backup ${this.backupPath} is unusable too (${problem}); move both away and log in again.`;
    return `A good backup of the previous version exists at ${this.backupPath}: copy it over the file to restore it.`;
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= mkdir(dirname(this.path), { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.#dirReady = undefined;
        throw new SpotauthError(
          'STORE_UNAVAILABLE',
          `Cannot create the directory ${dirname(this.path)} for the token file (${errno(error) ?? 'error'}).`,
        );
      },
    );
    return this.#dirReady;
  }
}

/** Why `raw` is not a valid store file, or null if it is. */
function describeProblem(raw: Buffer): string | null {
  if (raw.length === 0 || raw.toString('utf8').trim() === '') return 'the file is empty';
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'not valid JSON';
  }
  const body = value as { format?: unknown; version?: unknown; records?: unknown };
  if (typeof body !== 'object' || body === null || body.format !== FILE_FORMAT) {
    return 'not a spotauth token file';
  }
  if (body.version !== FILE_FORMAT_VERSION) {
    return `format version ${String(body.version)} is not supported by this spotauth`;
  }
  if (typeof body.records !== 'object' || body.records === null || Array.isArray(body.records)) {
    return '"records" is missing';
  }
  return null;
}

function readFileSyncOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    throw error;
  }
}
