// Spotify login in a Deno.serve app, with grants and sessions in Redis. better-sqlite3 does not load in Deno
// (a legacy nan addon; Deno loads only Node-API addons), so the embedded SQLite store is out; Redis (ioredis)
// and PostgreSQL (pg) work, and `memory:` does for a single process.
//   SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… SPOTAUTH_ENCRYPTION_KEYS=… \
//     deno run --allow-net --allow-env --allow-read --allow-sys=hostname examples/deno/server.ts
import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { type SessionInfo, spotauthFetch } from 'spotauth/fetch';

const env = Deno.env.toObject();
const port = Number(env.PORT ?? 3000);
const auth = new SpotifyAuth(
  authConfigFromEnv(env, {
    redirectUri: env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/auth/spotify/callback`,
  }),
);
const store = await createStore(env.SPOTAUTH_STORE ?? 'redis://127.0.0.1:6379', {
  keyring: Keyring.fromEnv(env) ?? undefined,
  keyPrefix: env.SPOTAUTH_REDIS_PREFIX,
});
const spotauth = spotauthFetch({ auth, store, scope: ['user-top-read'] });

async function app(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method !== 'GET') return new Response('Not found', { status: 404 });
  if (pathname === '/') {
    const session = await spotauth.session(request);
    return html(
      'Home',
      session
        ? `<p>Logged in as ${esc(session.account)}.</p><p><a href="/me">Your top tracks</a></p>${logout(session)}`
        : `<p><a href="/auth/spotify/login">Log in with Spotify</a></p><p><a href="/me">Your top tracks</a></p>`,
    );
  }
  if (pathname === '/me') {
    const { session, response } = await spotauth.requireLogin(request);
    if (response) return response;
    const api = await spotauth.api(request);
    const [me, top] = await Promise.all([api.me(), api.topTracks(5)]);
    const tracks = (top?.items ?? []).map((t) => `<li>${esc(t.name)} — ${esc(t.artists?.[0]?.name)}</li>`);
    return html(
      me?.display_name ?? 'Profile',
      `<h2>Your top tracks</h2><ol>${tracks.join('')}</ol>${logout(session)}`,
    );
  }
  return new Response('Not found', { status: 404 });
}

Deno.serve(
  {
    port,
    hostname: '127.0.0.1',
    onListen: () => console.log(`deno example listening on http://127.0.0.1:${port}`),
  },
  async (request, info) => {
    try {
      // GET /auth/spotify/login, /callback, /token, /session; POST /auth/spotify/refresh, /logout
      return (await spotauth.handle(request, { ip: info.remoteAddr.hostname })) ?? (await app(request));
    } catch (error) {
      // An expired grant, Spotify down…: a page a person understands.
      return spotauth.errorResponse(request, error);
    }
  },
);

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
