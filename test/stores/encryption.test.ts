import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type EnvelopeContext,
  generateKey,
  Keyring,
  parseEnvelope,
  serializeEnvelope,
} from '../../src/stores/encryption.js';
import { expectCode } from '../../src/testing/store-contract.js';
import { must, thrownBy } from '../support/must.js';
import { canary } from './helpers.js';

const ctx: EnvelopeContext = { storeKind: 'sqlite', recordKey: 'user:ada', field: 'accessToken' };
const key32 = () => randomBytes(32);
const b64 = (buf: Buffer) => buf.toString('base64');

function flip(b64url: string): string {
  const bytes = Buffer.from(b64url, 'base64url');
  bytes[0] = must(bytes[0], 'bytes[0]') ^ 0x01;
  return bytes.toString('base64url');
}

describe('Keyring encrypt/decrypt', () => {
  const ring = new Keyring({ k1: key32() });

  it('round-trips, including empty and non-ASCII text', () => {
    for (const text of [canary(), '', 'ünïcødé ✓ 🎵', 'x'.repeat(10_000)]) {
      const env = ring.encrypt(text, ctx);
      expect(env).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
      expect(ring.decrypt(env, ctx)).toBe(text);
    }
  });

  it('never contains the plaintext', () => {
    const secret = canary();
    expect(ring.encrypt(secret, ctx)).not.toContain(secret);
  });

  it.each(['iv', 'tag', 'ct'] as const)('rejects a flipped bit in %s with DECRYPT_FAILED', (part) => {
    const secret = canary();
    const env = parseEnvelope(ring.encrypt(secret, ctx));
    const tampered = serializeEnvelope({ ...env, [part]: flip(env[part]) });
    const error = thrownBy(() => {
      ring.decrypt(tampered, ctx);
    });
    expectCode(error, 'DECRYPT_FAILED');
    expect((error as Error).message).toContain("accessToken of sqlite record 'user:ada'");
    expect((error as Error).message).not.toContain(secret);
  });

  it('rejects a ciphertext moved to another record, field or store kind (AAD)', () => {
    const env = ring.encrypt(canary(), ctx);
    for (const other of [
      { ...ctx, recordKey: 'user:bob' },
      { ...ctx, field: 'refreshToken' },
      { ...ctx, storeKind: 'postgres' },
    ]) {
      expect(() => ring.decrypt(env, other)).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    }
  });

  it('uses a fresh IV for each of 10,000 encryptions', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) ivs.add(parseEnvelope(ring.encrypt('same', ctx)).iv);
    expect(ivs.size).toBe(10_000);
  });

  it('rejects envelope version 2 explicitly, in both forms', () => {
    const env = parseEnvelope(ring.encrypt('x', ctx));
    expect(() => ring.decrypt(serializeEnvelope({ ...env, v: 2 }), ctx)).toThrow(/envelope version 2/);
    expect(() => ring.decrypt({ ...env, v: 2 }, ctx)).toThrow(/envelope version 2/);
    expect(() => ring.decrypt({ ...env, alg: 'A128GCM' }, ctx)).toThrow(/only A256GCM/);
    expect(() => ring.decrypt('not an envelope', ctx)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
    expect(() => ring.decrypt('v1.k1.a.b', ctx)).toThrow(/malformed/);
  });

  it('decrypts by the envelope kid and reports an unknown kid as KEY_UNKNOWN', () => {
    const k1 = key32();
    const old = new Keyring({ k1 });
    const rotated = new Keyring({ k1, k2: key32() });
    expect(rotated.activeKid).toBe('k2');
    const env = old.encrypt('secret', ctx);
    expect(rotated.decrypt(env, ctx)).toBe('secret');
    expect(rotated.encrypt('secret', ctx)).toMatch(/^v1\.k2\./);
    const error = thrownBy(() => {
      new Keyring({ k2: key32() }).decrypt(env, ctx);
    });
    expectCode(error, 'KEY_UNKNOWN');
    expect((error as Error).message).toContain(
      "was encrypted with key 'k1' which is not in the keyring (known: k2)",
    );
  });

  it('rejects keys of the wrong length and an unknown active kid', () => {
    expect(() => new Keyring({ k1: randomBytes(16) })).toThrow(/16 bytes long; keys must be exactly 32/);
    expect(() => new Keyring({ k1: key32() }, 'k9')).toThrow(/'k9' is not in the keyring/);
    expect(() => new Keyring({})).toThrow(/empty/);
    expect(() => new Keyring({ 'bad.kid': key32() })).toThrow(/may only contain/);
  });
});

describe('Keyring.fromEnv', () => {
  const env = (keys?: string, active?: string) => ({
    SPOTAUTH_ENCRYPTION_KEYS: keys,
    SPOTAUTH_ENCRYPTION_ACTIVE_KEY: active,
  });

  it('returns null when no keys are configured', () => {
    expect(Keyring.fromEnv({})).toBeNull();
    expect(Keyring.fromEnv(env('  '))).toBeNull();
  });

  it('makes the last listed key active, unless SPOTAUTH_ENCRYPTION_ACTIVE_KEY says otherwise', () => {
    const spec = `k1:${b64(key32())}, k2:${b64(key32())}`;
    expect(Keyring.fromEnv(env(spec))?.activeKid).toBe('k2');
    expect(Keyring.fromEnv(env(spec, 'k1'))?.activeKid).toBe('k1');
    expect(Keyring.fromEnv(env(spec))?.kids()).toEqual(['k1', 'k2']);
  });

  it('accepts base64url keys too', () => {
    expect(Keyring.fromEnv(env(`k1:${key32().toString('base64url')}`))?.activeKid).toBe('k1');
  });

  it.each([
    ['no colon', () => 'k1', /entry #1 must look like 'kid:<base64 of 32 bytes>'/],
    ['bad base64', () => 'k1:not*base64!', /entry #1 \('k1'\): the key is not valid base64/],
    ['wrong length', () => `k1:${b64(randomBytes(31))}`, /decodes to 31 bytes; it must be exactly 32/],
    ['duplicate kid', () => `k1:${b64(key32())},k1:${b64(key32())}`, /lists key id 'k1' twice/],
    ['bad kid', () => `k.1:${b64(key32())}`, /key id 'k.1' may only contain/],
    ['only commas', () => ',,', /contains no keys/],
  ])('explains %s', (_label, spec, message) => {
    let error: unknown;
    try {
      Keyring.fromEnv(env(spec()));
    } catch (e) {
      error = e;
    }
    expectCode(error, 'INVALID_CONFIG');
    expect((error as Error).message).toMatch(message);
  });

  it('never echoes key material in errors', () => {
    const material = b64(randomBytes(31));
    expect(() => Keyring.fromEnv(env(`k1:${material}`))).toThrow(expect.not.stringContaining(material));
    try {
      Keyring.fromEnv(env(`k1:${material}`));
    } catch (e) {
      expect((e as Error).message).not.toContain(material);
    }
  });

  it('rejects an active key that is not listed', () => {
    expect(() => Keyring.fromEnv(env(`k1:${b64(key32())}`, 'k2'))).toThrow(
      /SPOTAUTH_ENCRYPTION_ACTIVE_KEY is 'k2', which is not listed/,
    );
  });
});

describe('generateKey', () => {
  it('produces an entry that Keyring.fromEnv accepts', () => {
    const a = generateKey();
    const b = generateKey('rotated');
    expect(a.key).toHaveLength(32);
    expect(a.kid).not.toBe(generateKey().kid);
    expect(b.entry.startsWith('rotated:')).toBe(true);
    const ring = Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: `${a.entry},${b.entry}` });
    expect(ring?.activeKid).toBe('rotated');
  });
});
