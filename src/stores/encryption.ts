/**
 * AES-256-GCM envelopes for the secret fields of persisted token records (SECURITY.md §4).
 *
 * Serialised form (one ASCII string, safe inside JSON, SQL text and Redis values):
 *
 *     v1.<kid>.<iv>.<tag>.<ct>        iv = 12 random bytes, tag = 16 bytes, all base64url without padding
 *
 * `v1` implies alg A256GCM; the object form {@link Envelope} carries it explicitly. The AAD binds a ciphertext to
 * the store kind, the record key and the field (`spotauth|<kind>|<key>|<field>`), so a ciphertext copied to
 * another row or field fails to decrypt instead of handing out someone else's token.
 *
 * Keys from the environment are master keys: the AES key is an HKDF-SHA256 subkey for the "tokens" purpose, so
 * the same master key can later feed other purposes (e.g. cookies) without key reuse across them.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SpotauthError } from '../core/errors.js';

/** The envelope format version written (`v1.` prefix); other versions are refused, not guessed at. */
export const ENVELOPE_VERSION = 1;
/** The only algorithm of envelope version 1: AES-256-GCM (JOSE name). */
export const ENVELOPE_ALG = 'A256GCM';
/**
 * The environment variable holding the keyring: `kid1:<base64 of 32 bytes>,kid2:…` (see {@link
 * Keyring.fromEnv}).
 */
export const KEYS_ENV = 'SPOTAUTH_ENCRYPTION_KEYS';
/** The environment variable naming the active key id; default the last key of {@link KEYS_ENV}. */
export const ACTIVE_KEY_ENV = 'SPOTAUTH_ENCRYPTION_ACTIVE_KEY';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const B64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/** An encrypted value, parsed: what its compact form `v1.<kid>.<iv>.<tag>.<ct>` holds. */
export interface Envelope {
  /** Format version ({@link ENVELOPE_VERSION}). */
  v: number;
  /** Id of the key it was encrypted with. */
  kid: string;
  /** Algorithm ({@link ENVELOPE_ALG}). */
  alg: string;
  /** base64url */
  iv: string;
  /** base64url */
  tag: string;
  /** base64url */
  ct: string;
}

/** Where an envelope belongs; also used to build error messages (never contains a secret). */
export interface EnvelopeContext {
  /** The store's `kind` (e.g. `'sqlite'`). */
  storeKind: string;
  /** The record's key (e.g. `user:…`). */
  recordKey: string;
  /** The field (e.g. `'refreshToken'`). */
  field: string;
}

/** The additional authenticated data binding a ciphertext to its place: `spotauth|<kind>|<key>|<field>`. */
export function envelopeAad(ctx: EnvelopeContext): string {
  return `spotauth|${ctx.storeKind}|${ctx.recordKey}|${ctx.field}`;
}

/**
 * The compact form of an envelope, `v<v>.<kid>.<iv>.<tag>.<ct>`: one ASCII string, safe in JSON, SQL and
 * Redis.
 */
export function serializeEnvelope(env: Envelope): string {
  return `v${env.v}.${env.kid}.${env.iv}.${env.tag}.${env.ct}`;
}

/**
 * Parses the compact form. Rejects anything but v1/A256GCM explicitly rather than guessing.
 *
 * @param ctx - Where the value belongs, named in error messages.
 * @throws `SpotauthError` `DECRYPT_FAILED` for a value that is not a well-formed v1 envelope.
 */
export function parseEnvelope(text: string, ctx?: EnvelopeContext): Envelope {
  const parts = text.split('.');
  const where = ctx ? ` (${describeContext(ctx)})` : '';
  const version = /^v(\d+)$/.exec(parts[0] ?? '');
  if (!version) {
    throw new SpotauthError('DECRYPT_FAILED', `Encrypted value${where} is not a spotauth envelope.`);
  }
  const v = Number(version[1]);
  if (v !== ENVELOPE_VERSION) {
    throw new SpotauthError(
      'DECRYPT_FAILED',
      `Encrypted value${where} uses envelope version ${v}; this spotauth only understands version ${ENVELOPE_VERSION}. Upgrade spotauth to read it.`,
    );
  }
  const [, kid, iv, tag, ct] = parts;
  if (
    parts.length !== 5 ||
    kid === undefined ||
    iv === undefined ||
    tag === undefined ||
    ct === undefined ||
    !KID_PATTERN.test(kid) ||
    ![iv, tag, ct].every((p) => B64URL_PATTERN.test(p))
  ) {
    throw new SpotauthError('DECRYPT_FAILED', `Encrypted value${where} is malformed.`);
  }
  return { v, kid, alg: ENVELOPE_ALG, iv, tag, ct };
}

/**
 * The kid of a serialised envelope, without decrypting it (for re-encryption bookkeeping).
 *
 * @throws `SpotauthError` `DECRYPT_FAILED` for a malformed envelope.
 */
export function envelopeKid(text: string): string {
  return parseEnvelope(text).kid;
}

/** A new key from {@link generateKey}. */
export interface GeneratedKey {
  /** Its key id. */
  kid: string;
  /** The 32 key bytes. Keep them secret: print only `entry`, once, to the operator. */
  key: Buffer;
  /** `kid:base64`, ready to append to SPOTAUTH_ENCRYPTION_KEYS. */
  entry: string;
}

/**
 * A fresh 32-byte key from the CSPRNG. The default kid is date-based plus random (`k20260101-a1b2c3`), so
 * rotations sort by age.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a kid other than 1–64 letters, digits, `_` or `-`.
 */
export function generateKey(kid?: string): GeneratedKey {
  const id =
    kid ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
  assertKid(id);
  const key = randomBytes(KEY_BYTES);
  return { kid: id, key, entry: `${id}:${key.toString('base64')}` };
}

/**
 * The encryption keys of a persistent store: AES-256-GCM, one active key for new writes, the others kept
 * to read what they encrypted. Rotate by appending a key (it becomes active), running `reencryptAll`
 * (`spotauth keys reencrypt`), then removing the old key.
 *
 * Each ciphertext is bound to its store kind, record key and field, so one copied elsewhere fails to
 * decrypt rather than handing out another user's token. Env keys are master keys: the AES key is an
 * HKDF-SHA256 subkey of each.
 *
 * @example
 * ```ts
 * const keyring = Keyring.fromEnv(process.env) ?? Keyring.parse(`k1:${generateKey('k1').key.toString('base64')}`);
 * ```
 *
 * @see [NIST SP 800-38D (GCM)](https://csrc.nist.gov/pubs/sp/800/38/d/final)
 * @see [RFC 5869 (HKDF)](https://www.rfc-editor.org/rfc/rfc5869.html)
 */
export class Keyring {
  /** The id of the key new values are encrypted with. */
  readonly activeKid: string;
  readonly #keys = new Map<string, Buffer>();
  readonly #activeKey: Buffer;

  /**
   * @param keys - 32-byte master keys by key id (1–64 letters, digits, `_`, `-`).
   * @param activeKid - The key new values are encrypted with. Default: the last key given.
   * @throws `SpotauthError` `INVALID_CONFIG` for no keys, a bad kid, a key not 32 bytes long, or an
   * active kid not among the keys.
   */
  constructor(keys: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>, activeKid?: string) {
    const entries = keys instanceof Map ? [...keys.entries()] : Object.entries(keys);
    const last = entries.at(-1);
    if (last === undefined) {
      throw new SpotauthError('INVALID_CONFIG', 'The encryption keyring is empty: give at least one key.');
    }
    for (const [kid, key] of entries) {
      assertKid(kid);
      if (key.length !== KEY_BYTES) {
        throw new SpotauthError(
          'INVALID_CONFIG',
          `Encryption key '${kid}' is ${key.length} bytes long; keys must be exactly ${KEY_BYTES} bytes.`,
        );
      }
      this.#keys.set(kid, deriveTokenKey(key));
    }
    const active = activeKid ?? last[0];
    const activeKey = this.#keys.get(active);
    if (activeKey === undefined) {
      throw new SpotauthError(
        'INVALID_CONFIG',
        `The active encryption key '${active}' is not in the keyring (known: ${this.kids().join(', ')}).`,
      );
    }
    this.activeKid = active;
    this.#activeKey = activeKey;
  }

  /**
   * Reads `SPOTAUTH_ENCRYPTION_KEYS="kid1:<base64>,kid2:<base64>"` and optional `SPOTAUTH_ENCRYPTION_ACTIVE_KEY`.
   * Without the latter the LAST key is active, so rotating is "append a key". Returns null when no keys are set.
   *
   * @throws `SpotauthError` `INVALID_CONFIG`, as {@link Keyring.parse}.
   */
  static fromEnv(env: Record<string, string | undefined> = process.env): Keyring | null {
    const spec = env[KEYS_ENV]?.trim();
    if (!spec) return null;
    const active = env[ACTIVE_KEY_ENV]?.trim() || undefined;
    return Keyring.parse(spec, active);
  }

  /**
   * Parses the SPOTAUTH_ENCRYPTION_KEYS syntax (`kid:<base64>` entries, comma-separated).
   *
   * @throws `SpotauthError` `INVALID_CONFIG` saying which entry is wrong and why, never its value.
   */
  static parse(spec: string, activeKid?: string): Keyring {
    const keys = new Map<string, Buffer>();
    const entries = spec
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    entries.forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const position = `${KEYS_ENV} entry #${index + 1}`;
      if (colon <= 0) {
        throw new SpotauthError('INVALID_CONFIG', `${position} must look like 'kid:<base64 of 32 bytes>'.`);
      }
      const kid = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!KID_PATTERN.test(kid)) {
        throw new SpotauthError(
          'INVALID_CONFIG',
          `${position}: key id '${kid.slice(0, 64)}' may only contain letters, digits, '_' and '-' (1–64 characters).`,
        );
      }
      if (keys.has(kid)) {
        throw new SpotauthError('INVALID_CONFIG', `${KEYS_ENV} lists key id '${kid}' twice.`);
      }
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
        throw new SpotauthError('INVALID_CONFIG', `${position} ('${kid}'): the key is not valid base64.`);
      }
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== KEY_BYTES) {
        throw new SpotauthError(
          'INVALID_CONFIG',
          `${position} ('${kid}'): the key decodes to ${key.length} bytes; it must be exactly ${KEY_BYTES} bytes (generate one with \`spotauth keys generate\`).`,
        );
      }
      keys.set(kid, key);
    });
    if (keys.size === 0) {
      throw new SpotauthError('INVALID_CONFIG', `${KEYS_ENV} is set but contains no keys.`);
    }
    if (activeKid !== undefined && !keys.has(activeKid)) {
      throw new SpotauthError(
        'INVALID_CONFIG',
        `${ACTIVE_KEY_ENV} is '${activeKid}', which is not listed in ${KEYS_ENV} (listed: ${[...keys.keys()].join(', ')}).`,
      );
    }
    return new Keyring(keys, activeKid);
  }

  /** Every key id, in the order given. */
  kids(): string[] {
    return [...this.#keys.keys()];
  }

  /** Whether the keyring holds this key id. */
  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** Encrypts under the active key with a fresh 96-bit IV, bound to `ctx`; returns the compact envelope. */
  encrypt(plaintext: string, ctx: EnvelopeContext): string {
    const key = this.#activeKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(envelopeAad(ctx), 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return serializeEnvelope({
      v: ENVELOPE_VERSION,
      kid: this.activeKid,
      alg: ENVELOPE_ALG,
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
      ct: ct.toString('base64url'),
    });
  }

  /**
   * Decrypts an envelope encrypted for the same `ctx`.
   *
   * @throws `SpotauthError` `KEY_UNKNOWN` when its key is not in the keyring (add it back);
   * `DECRYPT_FAILED` when the value was modified, belongs to another record or field, or is malformed.
   */
  decrypt(envelope: string | Envelope, ctx: EnvelopeContext): string {
    const env = typeof envelope === 'string' ? parseEnvelope(envelope, ctx) : checkEnvelope(envelope, ctx);
    const key = this.#keys.get(env.kid);
    if (!key) {
      throw new SpotauthError(
        'KEY_UNKNOWN',
        `The ${describeContext(ctx)} was encrypted with key '${env.kid}' which is not in the keyring (known: ${this.kids().join(', ')}). Add that key back to ${KEYS_ENV}.`,
      );
    }
    const iv = Buffer.from(env.iv, 'base64url');
    const tag = Buffer.from(env.tag, 'base64url');
    const failed = () =>
      new SpotauthError(
        'DECRYPT_FAILED',
        `Could not decrypt the ${describeContext(ctx)} with key '${env.kid}': the data was modified, belongs to another record, or the key is wrong.`,
      );
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw failed();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(envelopeAad(ctx), 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(env.ct, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw failed();
    }
  }
}

function checkEnvelope(env: Envelope, ctx: EnvelopeContext): Envelope {
  if (env.v !== ENVELOPE_VERSION) {
    throw new SpotauthError(
      'DECRYPT_FAILED',
      `Encrypted value (${describeContext(ctx)}) uses envelope version ${String(env.v)}; this spotauth only understands version ${ENVELOPE_VERSION}.`,
    );
  }
  if (env.alg !== ENVELOPE_ALG) {
    throw new SpotauthError(
      'DECRYPT_FAILED',
      `Encrypted value (${describeContext(ctx)}) uses algorithm '${String(env.alg)}'; only ${ENVELOPE_ALG} is supported.`,
    );
  }
  return env;
}

function describeContext(ctx: EnvelopeContext): string {
  return `${ctx.field} of ${ctx.storeKind} record '${ctx.recordKey}'`;
}

function assertKid(kid: string): void {
  if (!KID_PATTERN.test(kid)) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      `Key id '${kid.slice(0, 64)}' may only contain letters, digits, '_' and '-' (1–64 characters).`,
    );
  }
}

function deriveTokenKey(master: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'spotauth token-store v1', KEY_BYTES));
}
