// The SPA example: login, profile, top tracks and logout with spotauth/browser, no build step.
// Everything is rendered with textContent (never innerHTML): what Spotify returns is data, not markup.
import { BrowserAuth, webApiFetch } from '/spotauth-browser.js';

const config = await (await fetch('/config.json')).json();
const auth = new BrowserAuth({
  clientId: config.clientId,
  redirectUri: config.redirectUri,
  accountsUrl: config.accountsUrl,
  apiUrl: config.apiUrl,
  allowInsecureHttp: config.allowInsecureHttp,
  storage: config.storage,
  scope: ['user-read-private', 'user-top-read'],
});
// fetch for the Web API with this login's tokens (401 → refresh and retry, 429 → Retry-After).
const spotify = webApiFetch(auth);

const $ = (id) => document.getElementById(id);
const views = ['loading', 'signed-out', 'reauth', 'profile'];

function show(view) {
  for (const id of views) $(id).hidden = id !== view;
  $('logout').hidden = view !== 'profile' && view !== 'reauth';
}

function showError(error) {
  const box = $('error');
  box.textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ''}` : '';
  box.hidden = !error;
}

async function render(session) {
  if (session === null) return show('signed-out');
  if (session.status === 'reauth_required') {
    $('reauth-reason').textContent =
      session.reauthReason === 'expired'
        ? 'Spotify logins last 6 months; this one has run out.'
        : 'Access to your Spotify account was removed.';
    return show('reauth');
  }
  try {
    const [me, top] = await Promise.all([
      spotify('/me').then((r) => r.json()),
      spotify('/me/top/tracks?limit=10').then((r) => r.json()),
    ]);
    $('name').textContent = me.display_name ?? me.id;
    $('account').textContent = `Spotify account ${me.id}`;
    const avatar = $('avatar');
    const image = me.images?.[0]?.url;
    avatar.hidden = !image;
    if (image) avatar.src = image;
    const list = $('top-tracks');
    list.replaceChildren(
      ...(top.items ?? []).map((track) => {
        const item = document.createElement('li');
        item.textContent = `${track.name} — ${(track.artists ?? []).map((a) => a.name).join(', ')}`;
        return item;
      }),
    );
    const fresh = await auth.session();
    const expiry = $('expiry');
    expiry.dateTime = new Date(fresh?.accessTokenExpiresAt ?? 0).toISOString();
    expiry.textContent = new Date(fresh?.accessTokenExpiresAt ?? 0).toLocaleTimeString();
    show('profile');
  } catch (error) {
    // The grant died (revoked, expired) or is gone: show what the login's state now says.
    if (error?.code === 'REAUTH_REQUIRED' || error?.code === 'NOT_LOGGED_IN')
      return render(await auth.session());
    showError(error);
  }
}

for (const id of ['login', 'login-again']) {
  $(id).addEventListener('click', () => {
    showError(null);
    auth.login().catch(showError);
  });
}
$('logout').addEventListener('click', () => auth.logout());

try {
  const result = await auth.handleRedirect();
  if (result && result.returnTo !== location.pathname) history.replaceState(null, '', result.returnTo);
} catch (error) {
  showError(error);
}
await render(await auth.session());
// From now on, follow logins and logouts in other tabs (and a grant that dies).
auth.onChange((session) => render(session));
