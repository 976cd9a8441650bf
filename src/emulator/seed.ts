import type { EmulatorUser } from './types.js';

/**
 * The default app. Fixed and public on purpose: it only ever exists inside a local emulator.
 * Readable rather than Spotify-shaped (32 hex) so that logs and docs make obvious which app is in play.
 */
export const SANDBOX_APP: {
  /** `spotauth-sandbox-client`. */
  clientId: string;
  /** `spotauth-sandbox-secret`. */
  clientSecret: string;
  /** `http://127.0.0.1:8888/callback`, and the loopback URIs that match any port. */
  redirectUris: string[];
} = Object.freeze({
  clientId: 'spotauth-sandbox-client',
  clientSecret: 'spotauth-sandbox-secret',
  // Frozen: a test that mutated it would silently change every later emulator in the process.
  redirectUris: Object.freeze([
    'http://127.0.0.1:8888/callback',
    'http://127.0.0.1/callback',
    'http://[::1]/callback',
  ]) as string[],
});

export const SANDBOX_APP_NAME = 'spotauth sandbox';

/**
 * Path-only image URLs are served by the emulator itself (GET /images/<id>.svg) and made absolute on the
 * request's origin in /v1/me, so pages showing the avatar load nothing external.
 */
export const SEEDED_USERS: readonly EmulatorUser[] = [
  {
    id: 'alice',
    accountId: 'acct_alice_7f3a9c2e41d8',
    displayName: 'Alice Example',
    email: 'alice@example.com',
    country: 'SE',
    product: 'premium',
    images: [{ url: '/images/alice.svg', height: 300, width: 300 }],
  },
  {
    id: 'bob',
    accountId: 'acct_bob_0c55e1b7a92f',
    displayName: 'Bob Example',
    email: 'bob@example.com',
    country: 'US',
    product: 'free',
    images: [{ url: '/images/bob.svg', height: null, width: null }],
  },
  {
    id: 'carol',
    accountId: 'acct_carol_93d0f6a2c4b1',
    displayName: 'Carol Example',
    email: 'carol@example.com',
    country: 'DE',
    product: 'premium',
    // Spotify returns an empty list for users without a picture; clients must not assume images[0].
    images: [],
  },
];
