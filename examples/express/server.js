// Spotify login in an Express 5 app, with grants and sessions in SQLite.
//   SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… SPOTAUTH_ENCRYPTION_KEYS=… node examples/express/server.js
import express from 'express';
import { authConfigFromEnv, createStore, Keyring, SpotifyAuth } from 'spotauth';
import { spotauthExpress } from 'spotauth/express';

const port = Number(process.env.PORT ?? 3000);
const auth = new SpotifyAuth(
  authConfigFromEnv(process.env, {
    redirectUri: process.env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/auth/spotify/callback`,
  }),
);
const store = await createStore(process.env.SPOTAUTH_STORE ?? 'sqlite:.data/express.sqlite', {
  keyring: Keyring.fromEnv() ?? undefined,
});
const spotauth = spotauthExpress({ auth, store, scope: ['user-top-read'] });

const app = express();
app.use(spotauth); // GET /auth/spotify/login, /callback, /token, /session; POST /refresh, /logout

app.get('/', async (req, res) => {
  const session = await spotauth.session(req);
  res.send(
    page(
      'Home',
      session
        ? `<p>Logged in as ${esc(session.account)}.</p><p><a href="/me">Your top tracks</a></p>${logout(session)}`
        : `<p><a href="/auth/spotify/login">Log in with Spotify</a></p><p><a href="/me">Your top tracks</a></p>`,
    ),
  );
});

app.get('/me', spotauth.requireLogin, async (req, res) => {
  const api = await spotauth.api(req);
  const [me, top] = await Promise.all([api.me(), api.topTracks(5)]);
  const tracks = (top?.items ?? []).map((t) => `<li>${esc(t.name)} — ${esc(t.artists?.[0]?.name)}</li>`);
  res.send(
    page(
      me?.display_name ?? 'Profile',
      `<h2>Your top tracks</h2><ol>${tracks.join('')}</ol>${logout(req.spotauth)}`,
    ),
  );
});

// Errors of the app's own routes (an expired grant, Spotify down…) get a page a person understands.
app.use((error, req, res, _next) => spotauth.sendError(req, res, error));

app.listen(port, '127.0.0.1', () => console.log(`express example listening on http://127.0.0.1:${port}`));

function logout(session) {
  return `<form method="post" action="/auth/spotify/logout"><input type="hidden" name="csrf" value="${esc(session.csrfToken)}"><button>Log out</button></form>`;
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
