import { describeScope } from '../core/scopes.js';

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface LayoutOptions {
  sandbox: boolean;
  signedIn?: { name: string; csrfToken: string } | undefined;
}

export function layout(title: string, body: string, options: LayoutOptions): string {
  const logout = options.signedIn
    ? `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${escapeHtml(options.signedIn.csrfToken)}"><button class="secondary" type="submit">Log out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · spotauth</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header class="top">
  <a class="brand" href="/">spot<span>auth</span></a>
  <div class="actions">${options.sandbox ? '<span class="badge" title="The embedded Spotify emulator plays Spotify; no real account is used">Sandbox</span>' : ''}${logout}</div>
</header>
<main id="content">
${body}
</main>
<footer>spotauth — Spotify authorization done properly. Tokens stay on this server; your browser only gets a session cookie.</footer>
<script src="/assets/app.js" defer></script>
</body>
</html>`;
}

export function scopeList(scopes: readonly string[]): string {
  if (scopes.length === 0)
    return '<p class="muted">No extra permissions: public profile information only.</p>';
  return `<ul class="scopes">${scopes.map((s) => `<li><span>${escapeHtml(describeScope(s))} <code>${escapeHtml(s)}</code></span></li>`).join('')}</ul>`;
}

export function homePage(scopes: readonly string[], sandbox: boolean): string {
  return `
<h1>Log in with Spotify, done properly</h1>
<p class="lead">spotauth signs you in with Spotify's authorization-code flow (with PKCE and a checked state), keeps your tokens encrypted on the server and refreshes them before they expire.</p>
${sandbox ? '<div class="card notice"><h2>Sandbox mode</h2><p>No Spotify app is configured, so a local Spotify emulator stands in for Spotify. You will pick one of its test users; nothing leaves this machine.</p></div>' : ''}
<div class="card">
  <h2>This app will ask Spotify for permission to:</h2>
  ${scopeList(scopes)}
  <a class="button" href="/login">Log in with Spotify</a>
</div>`;
}

export interface ProfileView {
  displayName: string | undefined;
  accountId: string;
  spotifyId: string;
  imageUrl: string | undefined;
  fields: [string, string][];
  scopes: string[];
  expiresAt: number;
  csrfToken: string;
  topTracks: string[] | 'no-scope' | 'unavailable';
  topArtists: string[] | 'no-scope' | 'unavailable';
  playing: string | null | 'no-scope' | 'unavailable';
  notice?: string | undefined;
}

function section(title: string, scope: string, value: string[] | 'no-scope' | 'unavailable'): string {
  const content =
    value === 'no-scope'
      ? `<p class="muted">Not granted yet. <a href="/login?scope=${encodeURIComponent(scope)}">Allow “${escapeHtml(describeScope(scope))}”</a>.</p>`
      : value === 'unavailable'
        ? '<p class="muted">Spotify did not answer; try again later.</p>'
        : value.length === 0
          ? '<p class="muted">Nothing yet.</p>'
          : `<ol class="items">${value.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ol>`;
  return `<section class="card"><h2>${escapeHtml(title)}</h2>${content}</section>`;
}

export function profilePage(view: ProfileView): string {
  const name = view.displayName || view.spotifyId;
  const avatar = view.imageUrl
    ? `<img class="avatar" src="${escapeHtml(view.imageUrl)}" alt="Profile picture of ${escapeHtml(name)}" width="96" height="96">`
    : `<div class="avatar" aria-hidden="true">${escapeHtml(name.slice(0, 1).toUpperCase())}</div>`;
  const playing =
    view.playing === 'no-scope'
      ? `<p class="muted">Not granted yet. <a href="/login?scope=user-read-currently-playing">Allow “${escapeHtml(describeScope('user-read-currently-playing'))}”</a>.</p>`
      : view.playing === 'unavailable'
        ? '<p class="muted">Spotify did not answer; try again later.</p>'
        : view.playing === null
          ? '<p>Nothing playing right now.</p>'
          : `<p>${escapeHtml(view.playing)}</p>`;
  return `
${view.notice ? `<div class="card notice" role="status">${escapeHtml(view.notice)}</div>` : ''}
<section class="card profile" aria-label="Your Spotify profile">
  ${avatar}
  <div>
    <h1>${escapeHtml(name)}</h1>
    <dl class="facts">
      <dt>Account id</dt><dd><code>${escapeHtml(view.accountId)}</code></dd>
      ${view.fields.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n      ')}
    </dl>
  </div>
</section>
<div class="grid">
  <section class="card">
    <h2>Access token</h2>
    <p>Expires in <span class="countdown" data-expires-at="${view.expiresAt}">${Math.max(0, Math.round((view.expiresAt - Date.now()) / 60000))} min</span>.</p>
    <div class="actions"><button id="refresh-now" type="button" data-csrf="${escapeHtml(view.csrfToken)}">Refresh now</button></div>
    <p id="refresh-status" class="status muted" role="status" aria-live="polite"></p>
    <p class="muted">The refresh token never leaves the server. Scripts in this page can get the access token from <code>GET /token</code>.</p>
  </section>
  <section class="card">
    <h2>Now playing</h2>
    ${playing}
  </section>
</div>
<div class="grid">
  ${section('Your top tracks', 'user-top-read', view.topTracks)}
  ${section('Your top artists', 'user-top-read', view.topArtists)}
</div>
<section class="card">
  <h2>Granted permissions</h2>
  ${scopeList(view.scopes)}
</section>`;
}

export interface ErrorView {
  title: string;
  message: string;
  action?: { href: string; label: string } | undefined;
}

export function errorPage(view: ErrorView): string {
  return `
<section class="card error" role="alert">
  <h1>${escapeHtml(view.title)}</h1>
  <p>${escapeHtml(view.message)}</p>
  <div class="actions">${view.action ? `<a class="button" href="${escapeHtml(view.action.href)}">${escapeHtml(view.action.label)}</a>` : ''}<a class="button secondary" href="/">Home</a></div>
</section>`;
}
