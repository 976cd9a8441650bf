import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { type FetchSpotauth, spotauthFetch } from 'spotauth/fetch';

// One handler per server process, created on first use (not while `next build` collects pages): Next.js may
// evaluate this module once per route bundle, so the instance lives on globalThis.
const holder = globalThis as typeof globalThis & { spotauth?: Promise<FetchSpotauth> };

export function getSpotauth(): Promise<FetchSpotauth> {
  holder.spotauth ??= create();
  return holder.spotauth;
}

async function create(): Promise<FetchSpotauth> {
  const auth = new SpotifyAuth(
    authConfigFromEnv(process.env, {
      redirectUri:
        process.env.SPOTIFY_REDIRECT_URI ??
        `http://127.0.0.1:${process.env.PORT ?? 3000}/auth/spotify/callback`,
    }),
  );
  const store = await createStore(process.env.SPOTAUTH_STORE ?? 'sqlite:.data/nextjs.sqlite', {
    keyring: Keyring.fromEnv() ?? undefined,
  });
  // No clientIp: `next start` passes on a client's own X-Forwarded-For, so only a proxy of yours could vouch for it.
  return spotauthFetch({ auth, store, scope: ['user-top-read'] });
}
