/**
 * PKCE S256 and random values through WebCrypto (`globalThis.crypto`), so that the same code runs in Node
 * and in browsers. RFC 7636 §4.1: the verifier is 32 CSPRNG bytes, base64url (43 characters); the
 * challenge is BASE64URL(SHA-256(verifier)) without padding (FACTS §1.2).
 */

/** `bytes` random bytes from the CSPRNG, base64url without padding (32 bytes → 43 characters). */
export function randomUrlSafe(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
