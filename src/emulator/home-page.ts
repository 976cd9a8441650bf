import { escapeHtml } from './http.js';
import { sendPage } from './page.js';
import type { Route } from './routes.js';
import { SANDBOX_APP } from './seed.js';

/** For a human who opens the emulator's URL in a browser. */
export const homeRoutes: Route[] = [
  {
    // Browsers ask for it on every page; answering 204 keeps their consoles free of 404 noise.
    method: 'GET',
    path: '/favicon.ico',
    handler: ({ res }) => {
      res.writeHead(204, { 'cache-control': 'public, max-age=86400' });
      res.end();
    },
  },
  {
    method: 'GET',
    path: '/',
    handler: (ctx) => {
      const rows: [string, string][] = [
        ['GET /authorize', 'authorization endpoint (consent page with test users)'],
        ['POST /api/token', 'token endpoint: authorization_code, refresh_token, client_credentials'],
        ['GET /_emulator/health', 'liveness'],
        ['GET /_emulator/stats, POST /_emulator/stats/reset', 'request counters'],
        ['GET|POST /_emulator/users, GET|POST /_emulator/apps', 'test users and registered apps'],
        ['POST /_emulator/revoke, POST /_emulator/expire', 'revoke grants, expire access tokens'],
        ['GET|POST|DELETE /_emulator/faults', 'inject token-endpoint faults'],
        ['GET|POST /_emulator/config, GET|POST /_emulator/clock', 'runtime settings and clock'],
      ];
      const list = rows
        .map(([path, what]) => `<li><code>${escapeHtml(path)}</code> &mdash; ${escapeHtml(what)}</li>`)
        .join('\n');
      const redirects = SANDBOX_APP.redirectUris.map((u) => `<code>${escapeHtml(u)}</code>`).join(', ');
      sendPage(
        ctx.res,
        'spotauth Spotify emulator',
        `<h1>spotauth Spotify emulator</h1>
<p>A local stand-in for <code>accounts.spotify.com</code>, for development and tests. It is not Spotify.</p>
<p>Sandbox app: client id <code>${escapeHtml(SANDBOX_APP.clientId)}</code>, secret <code>${escapeHtml(SANDBOX_APP.clientSecret)}</code>, redirect URIs ${redirects}.</p>
<h2>Endpoints</h2>
<ul>
${list}
</ul>`,
      );
    },
  },
];
