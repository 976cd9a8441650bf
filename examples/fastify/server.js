// Spotify login in a Fastify 5 app, with grants and sessions in Redis (any instance can serve any request).
//   SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… SPOTAUTH_ENCRYPTION_KEYS=… node examples/fastify/server.js
import Fastify from 'fastify';
import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { spotauthFastify } from 'spotauth/fastify';

const port = Number(process.env.PORT ?? 3000);
const auth = new SpotifyAuth(
  authConfigFromEnv(process.env, {
    redirectUri: process.env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/auth/spotify/callback`,
  }),
);
const store = await createStore(process.env.SPOTAUTH_STORE ?? 'redis://127.0.0.1:6379', {
  keyring: Keyring.fromEnv() ?? undefined,
  keyPrefix: process.env.SPOTAUTH_REDIS_PREFIX,
});

const app = Fastify();
await app.register(spotauthFastify, { auth, store, scope: ['user-top-read'] });
app.addHook('onClose', () => store.close());

app.get('/', async (request, reply) => {
  const session = await app.spotauth.session(request);
  return reply
    .type('text/html')
    .send(
      page(
        'Home',
        session
          ? `<p>Logged in as ${esc(session.account)}.</p><p><a href="/me">Your top tracks</a></p>${logout(session)}`
          : `<p><a href="/auth/spotify/login">Log in with Spotify</a></p><p><a href="/me">Your top tracks</a></p>`,
      ),
    );
});

app.get('/me', { preHandler: app.spotauth.requireLogin }, async (request, reply) => {
  const api = await app.spotauth.api(request);
  const [me, top] = await Promise.all([api.me(), api.topTracks(5)]);
  const tracks = (top?.items ?? []).map((t) => `<li>${esc(t.name)} — ${esc(t.artists?.[0]?.name)}</li>`);
  return reply
    .type('text/html')
    .send(
      page(
        me?.display_name ?? 'Profile',
        `<h2>Your top tracks</h2><ol>${tracks.join('')}</ol>${logout(request.spotauthSession)}`,
      ),
    );
});

// Errors of the app's own routes (an expired grant, Spotify down…) get a page a person understands.
app.setErrorHandler((error, request, reply) => app.spotauth.sendError(request, reply, error));

await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify example listening on http://127.0.0.1:${port}`);

function logout(session) {
  return `<form method="post" action="/auth/spotify/logout"><input type="hidden" name="csrf" value="${esc(session.csrfToken)}"><button>Log out</button></form>`;
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
