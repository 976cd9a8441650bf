// Spotify login in a Bun.serve app, with grants and sessions in Redis. better-sqlite3 does not load in Bun
// ("not yet supported", oven-sh/bun#4290), so the embedded SQLite store is out; Redis (ioredis) and
// PostgreSQL (pg) work, and `memory:` does for a single process.
//   SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… SPOTAUTH_ENCRYPTION_KEYS=… bun examples/bun/server.ts
import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { type SessionInfo, spotauthFetch } from 'spotauth/fetch';

const port = Number(Bun.env.PORT ?? 3000);
const auth = new SpotifyAuth(
  authConfigFromEnv(Bun.env, {
    redirectUri: Bun.env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/auth/spotify/callback`,
  }),
);
const store = await createStore(Bun.env.SPOTAUTH_STORE ?? 'redis://127.0.0.1:6379', {
  keyring: Keyring.fromEnv(Bun.env) ?? undefined,
  keyPrefix: Bun.env.SPOTAUTH_REDIS_PREFIX,
});
const spotauth = spotauthFetch({ auth, store, scope: ['user-top-read'] });

Bun.serve({
  port,
  hostname: '127.0.0.1',
  routes: {
    // GET /auth/spotify/login, /callback, /token, /session; POST /auth/spotify/refresh, /logout
    '/auth/spotify/*': (request, server) =>
      spotauth.fetch(request, { ip: server.requestIP(request)?.address }),

    '/': {
      GET: async (request) => {
        const session = await spotauth.session(request);
        return html(
          'Home',
          session
            ? `<p>Logged in as ${esc(session.account)}.</p><p><a href="/me">Your top tracks</a></p>${logout(session)}`
            : `<p><a href="/auth/spotify/login">Log in with Spotify</a></p><p><a href="/me">Your top tracks</a></p>`,
        );
      },
    },

    '/me': {
      GET: async (request) => {
        const { session, response } = await spotauth.requireLogin(request);
        if (response) return response;
        try {
          const api = await spotauth.api(request);
          const [me, top] = await Promise.all([api.me(), api.topTracks(5)]);
          const tracks = (top?.items ?? []).map(
            (t) => `<li>${esc(t.name)} — ${esc(t.artists?.[0]?.name)}</li>`,
          );
          return html(
            me?.display_name ?? 'Profile',
            `<h2>Your top tracks</h2><ol>${tracks.join('')}</ol>${logout(session)}`,
          );
        } catch (error) {
          // An expired grant, Spotify down…: a page a person understands.
          return spotauth.errorResponse(request, error);
        }
      },
    },
  },
  fetch: () => new Response('Not found', { status: 404 }),
});
console.log(`bun example listening on http://127.0.0.1:${port}`);

function logout(session: SessionInfo): string {
  return `<form method="post" action="/auth/spotify/logout"><input type="hidden" name="csrf" value="${esc(session.csrfToken)}"><button>Log out</button></form>`;
}

function html(title: string, body: string): Response {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
  return new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
