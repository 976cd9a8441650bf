// Spotify login in a Hono app on Node (@hono/node-server), with grants and sessions in memory (one process).
//   SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… node examples/hono/server.js
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { html } from 'hono/html';
import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { spotauthFetch } from 'spotauth/fetch';

const port = Number(process.env.PORT ?? 3000);
const auth = new SpotifyAuth(
  authConfigFromEnv(process.env, {
    redirectUri: process.env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/auth/spotify/callback`,
  }),
);
const store = await createStore(process.env.SPOTAUTH_STORE ?? 'memory:', {
  keyring: Keyring.fromEnv() ?? undefined,
});
const spotauth = spotauthFetch({ auth, store, scope: ['user-top-read'] });

// Logged in → c.get('session'); otherwise off to the login, which comes back to this page.
const requireLogin = createMiddleware(async (c, next) => {
  const { session, response } = await spotauth.requireLogin(c.req.raw);
  if (response) return response;
  c.set('session', session);
  await next();
});

const app = new Hono();
app.all('/auth/spotify/*', (c) => spotauth.fetch(c.req.raw, { ip: getConnInfo(c).remote.address }));

app.get('/', async (c) => {
  const session = await spotauth.session(c.req.raw);
  return c.html(
    page(
      'Home',
      session
        ? html`<p>Logged in as ${session.account}.</p><p><a href="/me">Your top tracks</a></p>${logout(session)}`
        : html`<p><a href="/auth/spotify/login">Log in with Spotify</a></p><p><a href="/me">Your top tracks</a></p>`,
    ),
  );
});

app.get('/me', requireLogin, async (c) => {
  const api = await spotauth.api(c.req.raw);
  const [me, top] = await Promise.all([api.me(), api.topTracks(5)]);
  const tracks = (top?.items ?? []).map((t) => html`<li>${t.name} — ${t.artists?.[0]?.name}</li>`);
  return c.html(
    page(
      me?.display_name ?? 'Profile',
      html`<h2>Your top tracks</h2><ol>${tracks}</ol>${logout(c.get('session'))}`,
    ),
  );
});

// Errors of the app's own routes (an expired grant, Spotify down…) get a page a person understands.
app.onError((error, c) => spotauth.errorResponse(c.req.raw, error));

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
  console.log(`hono example listening on http://127.0.0.1:${port}`),
);

function logout(session) {
  return html`<form method="post" action="/auth/spotify/logout"><input type="hidden" name="csrf" value="${session.csrfToken}"><button>Log out</button></form>`;
}

function page(title, body) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}
