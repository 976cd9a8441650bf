/**
 * Turns a plaintext TokenRecord into what persistent backends store, and back. The secret fields get distinct
 * names (`accessTokenEnc`, `refreshTokenEnc`) so a plaintext token can never be written, or read back, by mistake.
 */
import { SpotauthError } from '../core/errors.js';
import { envelopeKid, type Keyring } from './encryption.js';
import type { ListOptions, TokenRecord, TokenRecordInput } from './types.js';

export const MAX_KEY_LENGTH = 512;

/** A {@link TokenRecord} as persisted: the two secrets replaced by their envelopes, under other names. */
export type SealedRecord = Omit<TokenRecord, 'accessToken' | 'refreshToken'> & {
  /** The access token's envelope. */
  accessTokenEnc: string;
  /** The refresh token's envelope, when there is a refresh token. */
  refreshTokenEnc?: string;
};

/** Column form for SQL backends: secrets and CAS fields in their own columns, the rest as JSON text. */
export interface SealedRow {
  /** The record's key. */
  key: string;
  /** Its compare-and-swap version. */
  version: number;
  /** Its last write, epoch ms. */
  updatedAt: number;
  /** The access token's envelope (never the token itself). */
  accessToken: string;
  /** The refresh token's envelope, or null. */
  refreshToken: string | null;
  /** Every other field, as JSON. */
  data: string;
}

/** Seals records for a persistent backend of kind `storeKind` with a keyring, and opens them again. */
export class RecordCodec {
  constructor(
    /** The store's `kind`, bound into each ciphertext. */
    readonly storeKind: string,
    /** The keys records are sealed and opened with. */
    readonly keyring: Keyring,
  ) {}

  /** Encrypts the record's secret fields under the keyring's active key. */
  seal(record: TokenRecord): SealedRecord {
    const { accessToken, refreshToken, ...plain } = record;
    const sealed: SealedRecord = {
      ...plain,
      accessTokenEnc: this.keyring.encrypt(accessToken, this.#ctx(record.key, 'accessToken')),
    };
    if (refreshToken !== undefined) {
      sealed.refreshTokenEnc = this.keyring.encrypt(refreshToken, this.#ctx(record.key, 'refreshToken'));
    }
    return sealed;
  }

  /**
   * Decrypts a sealed record's secret fields.
   *
   * @throws `SpotauthError` `KEY_UNKNOWN` or `DECRYPT_FAILED` (see {@link Keyring.decrypt}).
   */
  open(sealed: SealedRecord): TokenRecord {
    const { accessTokenEnc, refreshTokenEnc, ...plain } = sealed;
    const record: TokenRecord = {
      ...plain,
      accessToken: this.keyring.decrypt(accessTokenEnc, this.#ctx(sealed.key, 'accessToken')),
    };
    if (refreshTokenEnc !== undefined) {
      record.refreshToken = this.keyring.decrypt(refreshTokenEnc, this.#ctx(sealed.key, 'refreshToken'));
    }
    return record;
  }

  #ctx(recordKey: string, field: string) {
    return { storeKind: this.storeKind, recordKey, field };
  }
}

/** Key ids referenced by a sealed record's envelopes. */
export function sealedKids(sealed: Pick<SealedRecord, 'accessTokenEnc' | 'refreshTokenEnc'>): string[] {
  const kids = [envelopeKid(sealed.accessTokenEnc)];
  if (sealed.refreshTokenEnc !== undefined) kids.push(envelopeKid(sealed.refreshTokenEnc));
  return [...new Set(kids)];
}

export function sealedToRow(sealed: SealedRecord): SealedRow {
  const { key, version, updatedAt, accessTokenEnc, refreshTokenEnc, ...rest } = sealed;
  return {
    key,
    version,
    updatedAt,
    accessToken: accessTokenEnc,
    refreshToken: refreshTokenEnc ?? null,
    data: JSON.stringify(rest),
  };
}

export function rowToSealed(row: SealedRow, where: string): SealedRecord {
  let rest: unknown;
  try {
    rest = JSON.parse(row.data);
  } catch {
    throw corrupt(where, row.key, 'its data column is not valid JSON');
  }
  const candidate: Record<string, unknown> = {
    ...(isObject(rest) ? rest : {}),
    key: row.key,
    version: Number(row.version),
    updatedAt: Number(row.updatedAt),
    accessTokenEnc: row.accessToken,
  };
  if (row.refreshToken !== null) candidate['refreshTokenEnc'] = row.refreshToken;
  return validateSealed(candidate, where);
}

/** Checks the shape of a record read from disk or the network; a mismatch is STORE_CORRUPT, not "logged out". */
export function validateSealed(value: unknown, where: string): SealedRecord {
  const key = isObject(value) && typeof value['key'] === 'string' ? value['key'] : '?';
  const fail = (what: string) => corrupt(where, key, what);
  if (!isObject(value)) throw fail('it is not an object');
  const v = value;
  if (typeof v['key'] !== 'string') throw fail('"key" is missing');
  if (typeof v['accessTokenEnc'] !== 'string') throw fail('the encrypted access token is missing');
  if (v['refreshTokenEnc'] !== undefined && typeof v['refreshTokenEnc'] !== 'string') {
    throw fail('the encrypted refresh token is not a string');
  }
  for (const field of ['accessTokenExpiresAt', 'authorizedAt', 'version', 'updatedAt']) {
    if (!Number.isFinite(v[field])) throw fail(`"${field}" is not a number`);
  }
  if (!Array.isArray(v['scope']) || !v['scope'].every((s) => typeof s === 'string')) {
    throw fail('"scope" is not a list of strings');
  }
  if (v['status'] !== 'active' && v['status'] !== 'reauth_required') throw fail('"status" is invalid');
  return v as unknown as SealedRecord;
}

/**
 * The checks every `put` makes before touching the backend.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a key that is empty or over 512 characters, a record
 * without an access token, or an `expectedVersion` that is neither null nor an integer.
 */
export function checkInput(record: TokenRecordInput, expectedVersion: number | null): void {
  if (typeof record.key !== 'string' || record.key.length === 0 || record.key.length > MAX_KEY_LENGTH) {
    throw new SpotauthError('INVALID_CONFIG', `A store key must be 1 to ${MAX_KEY_LENGTH} characters long.`);
  }
  if (typeof record.accessToken !== 'string') {
    throw new SpotauthError('INVALID_CONFIG', `Record '${record.key}' has no access token.`);
  }
  if (expectedVersion !== null && !Number.isSafeInteger(expectedVersion)) {
    throw new SpotauthError('INVALID_CONFIG', 'expectedVersion must be null (create) or an integer.');
  }
}

/** The stored form of a put: the input with the new `version` and `updatedAt` (epoch ms). */
export function stamp(record: TokenRecordInput, version: number, updatedAt: number): TokenRecord {
  const { version: _v, updatedAt: _u, ...input } = record as TokenRecordInput & Partial<TokenRecord>;
  return { ...input, version, updatedAt };
}

/**
 * The `STORE_CONFLICT` error a failed compare-and-swap throws, saying what was expected and what was
 * found (`actual`: the stored version, null for no record, undefined when unknown).
 */
export function conflictError(
  key: string,
  expectedVersion: number | null,
  actual?: number | null,
): SpotauthError {
  const found =
    actual === undefined
      ? 'the stored record has changed'
      : actual === null
        ? 'no record exists'
        : `the stored version is ${actual}`;
  const wanted =
    expectedVersion === null ? 'create it (no record expected)' : `update version ${expectedVersion}`;
  return new SpotauthError(
    'STORE_CONFLICT',
    `Write to '${key}' conflicted: tried to ${wanted}, but ${found}. Another writer got there first; re-read and retry.`,
  );
}

/** The `STORE_CORRUPT` error for a record that cannot be parsed; `where` names the store, never a secret. */
export function corrupt(where: string, key: string, what: string): SpotauthError {
  return new SpotauthError('STORE_CORRUPT', `Record '${key}' in ${where} is corrupt: ${what}.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Codes of a record that exists but cannot be read; anything else (e.g. a lost connection) still throws. */
const UNREADABLE_CODES = new Set(['STORE_CORRUPT', 'DECRYPT_FAILED', 'KEY_UNKNOWN']);

export function isUnreadableRecordError(error: unknown): error is SpotauthError {
  return error instanceof SpotauthError && UNREADABLE_CODES.has(error.code);
}

/** Orders listed items by their store key (JavaScript string order, as `ListOptions.after` compares). */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Whether list options ask for a range (`after`, `include` or `limit`), not the whole prefix. */
export function isRange(options: ListOptions | undefined): boolean {
  return options?.after !== undefined || options?.include !== undefined || options?.limit !== undefined;
}

/** The listed items in the range of `after`, `include` and `limit`, in key order (all of them without those). */
export function listRange<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  options: ListOptions = {},
): T[] {
  const { after, include, limit } = options;
  if (!isRange(options)) return [...items];
  const inRange = items
    .map((item) => ({ key: keyOf(item), item }))
    .filter(({ key }) => (after === undefined || key > after) && (include === undefined || include(key)))
    .sort(byKey);
  return (limit === undefined ? inRange : inRange.slice(0, Math.max(0, limit))).map(({ item }) => item);
}

/**
 * Opens listed records, only those in the range of `options` (nothing outside it is decrypted). With
 * `options.onUnreadable`, a record that cannot be read is reported and skipped; without it, it throws as
 * `get` would.
 */
export function openListed<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  open: (item: T) => TokenRecord,
  options: ListOptions = {},
): TokenRecord[] {
  const records: TokenRecord[] = [];
  for (const item of listRange(items, keyOf, options)) {
    try {
      records.push(open(item));
    } catch (error) {
      if (!options.onUnreadable || !isUnreadableRecordError(error)) throw error;
      options.onUnreadable({ key: keyOf(item), code: error.code });
    }
  }
  return records;
}
