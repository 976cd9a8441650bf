import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, base64url: well above RFC 6749 §10.10's 128-bit floor. */
export function randomToken(prefix = '', bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Hashing first gives equal-length inputs, so timingSafeEqual never throws and length does not leak. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Store tokens under their hash: a dump of the state never holds a usable token, and lookups see only digests. */
export function tokenKey(token: string): string {
  // The one-shot hash (Node 20.12+): every /v1 request takes this path, and a Hash object per call showed.
  return hash('sha256', token, 'base64url');
}
