#!/usr/bin/env node
// A static server for the single-page app in this folder, on 127.0.0.1 (Spotify accepts loopback IP
// literals, never `localhost`, in redirect URIs). It serves the page, the built spotauth/browser module
// (dist-browser/index.js, as /spotauth-browser.js) and /config.json from the same environment variables as
// the rest of spotauth, with a strict Content-Security-Policy (the best defence for tokens in a browser is
// no XSS in the first place). The tests and the browser-refresh benchmark use it too.
//
//   node examples/spa/serve.mjs              # http://127.0.0.1:5173 ; PORT=… to change
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
export const BROWSER_MODULE = join(ROOT, 'dist-browser', 'index.js');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

function isLoopbackHttp(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && ['127.0.0.1', '[::1]'].includes(parsed.hostname);
  } catch {
    return false;
  }
}

/** The app's settings, as /config.json serves them. */
export function spaConfig(env = process.env, port = 5173) {
  const accountsUrl = env.SPOTAUTH_ACCOUNTS_URL || 'https://accounts.spotify.com';
  const apiUrl = env.SPOTAUTH_API_URL || 'https://api.spotify.com/v1';
  return {
    clientId: env.SPOTIFY_CLIENT_ID || '',
    redirectUri: env.SPOTIFY_REDIRECT_URI || `http://127.0.0.1:${port}/`,
    accountsUrl,
    apiUrl,
    allowInsecureHttp: isLoopbackHttp(accountsUrl) || isLoopbackHttp(apiUrl),
    // Unset: spotauth/browser's default (IndexedDB).
    storage: env.SPOTAUTH_BROWSER_STORAGE || undefined,
  };
}

function securityHeaders(config) {
  const accounts = new URL(config.accountsUrl).origin;
  const api = new URL(config.apiUrl).origin;
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src 'self' ${accounts} ${api}`,
      // Profile pictures: Spotify's image CDN, or the emulator's own /images.
      `img-src 'self' data: https://i.scdn.co ${api}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/**
 * Starts the server. `mounts` adds folders under URL prefixes (the tests' harness pages), `files` single
 * files ({'/sdk.js': path}), `config` overrides /config.json fields. Resolves to { url, port, close() }.
 */
export async function startSpaServer({
  port = 0,
  config = {},
  mounts = {},
  files = {},
  env = process.env,
} = {}) {
  if (!existsSync(BROWSER_MODULE)) {
    throw new Error(`${BROWSER_MODULE} is missing: run "npm run build" first.`);
  }
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = server.address().port;
  const settings = { ...spaConfig(env, actualPort), ...config };
  const headers = securityHeaders(settings);
  const routes = { '/spotauth-browser.js': BROWSER_MODULE, ...files };
  const folders = [...Object.entries(mounts), ['/', HERE]];

  server.on('request', async (req, res) => {
    const send = (status, body, type) => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'Bad request', 'text/plain');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method not allowed', 'text/plain');
    if (path === '/config.json') return send(200, JSON.stringify(settings), TYPES['.json']);
    let file = routes[path];
    if (!file) {
      for (const [prefix, dir] of folders) {
        if (!path.startsWith(prefix)) continue;
        const base = resolve(dir);
        const candidate = resolve(base, `./${path.slice(prefix.length) || 'index.html'}`);
        // Never outside the folder (`..`, encoded or not, was decoded above and is resolved here).
        if (candidate.startsWith(base + sep)) file = candidate;
        break;
      }
    }
    if (!file || file.endsWith('.mjs') || file.endsWith('.d.mts'))
      return send(404, 'Not found', 'text/plain');
    try {
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'Not found', 'text/plain');
    }
  });
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    config: settings,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const port = Number(process.env.PORT ?? 5173);
  const settings = spaConfig(process.env, port);
  if (!settings.clientId) {
    console.error(
      'Set SPOTIFY_CLIENT_ID (and, for the emulator, SPOTAUTH_ACCOUNTS_URL and SPOTAUTH_API_URL); see README, "The SPA example".',
    );
    process.exit(2);
  }
  try {
    const running = await startSpaServer({ port });
    console.log(`SPA example on ${running.url}  (redirect URI ${running.config.redirectUri})`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
