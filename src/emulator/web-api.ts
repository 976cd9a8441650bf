import type { ServerResponse } from 'node:http';
import { hueOf } from './catalogue.js';
import { escapeHtml, send, sendJson } from './http.js';
import type { Route } from './routes.js';
import { browseEndpoints } from './web-api/browse.js';
import { catalogueEndpoints } from './web-api/catalogue.js';
import type { Endpoint } from './web-api/endpoint.js';
import { libraryEndpoints } from './web-api/library.js';
import { createWebApiRoute, type WebApiHooks } from './web-api/pipeline.js';
import { playerEndpoints } from './web-api/player.js';
import { playlistEndpoints } from './web-api/playlists.js';
import { searchEndpoints } from './web-api/search.js';
import { coverLabel } from './web-api/shapes.js';
import { userEndpoints } from './web-api/users.js';

/**
 * api.spotify.com under /v1, served by the same emulator so that tokens it issued work against it.
 * Every operation of spec/spotify-web-api.openapi.yml has one entry, grouped by resource in web-api/*.ts;
 * web-api/pipeline.ts runs each request through the same checks (see there for the order).
 */

export const WEB_API_ENDPOINTS: readonly Endpoint[] = [
  ...catalogueEndpoints,
  ...searchEndpoints,
  ...userEndpoints,
  ...libraryEndpoints,
  ...playlistEndpoints,
  ...playerEndpoints,
  ...browseEndpoints,
];

/** The /v1 dispatcher; `hooks.quota` plugs a rate-limit/quota check into the pipeline. */
export function webApiRoutesWith(hooks: WebApiHooks = {}): Route[] {
  return [createWebApiRoute(WEB_API_ENDPOINTS, hooks)];
}

export const webApiRoutes: Route[] = webApiRoutesWith();

export { requestOrigin } from './web-api/pipeline.js';
export { playbackPosition } from './web-api/player.js';

// ---- Images served by the emulator itself (no external assets in pages that show them) ----

function sendSvg(res: ServerResponse, label: string, hue: number, size: number): void {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100" role="img" aria-label="${escapeHtml(label)}"><rect width="100" height="100" fill="hsl(${hue} 45% 35%)"/><text x="50" y="50" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" font-size="48" fill="#fff">${escapeHtml(label)}</text></svg>`;
  send(res, 200, svg, {
    'Content-Type': 'image/svg+xml; charset=utf-8',
    'Cache-Control': 'public, max-age=86400',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
}

export const imageRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/images\/([A-Za-z0-9_.-]{1,64})\.svg$/,
    handler: (ctx) => {
      const user = ctx.state.users.get(ctx.params[0] ?? '');
      if (!user) return sendJson(ctx.res, 404, { error: { status: 404, message: 'Resource not found' } });
      const initial = [...(user.displayName || user.id)][0]?.toUpperCase() ?? '?';
      sendSvg(ctx.res, initial, hueOf(user.id), 300);
    },
  },
  {
    method: 'GET',
    path: /^\/images\/cover\/([0-9A-Za-z]{22})\.svg$/,
    handler: (ctx) => {
      const id = ctx.params[0] ?? '';
      sendSvg(ctx.res, coverLabel(ctx.state.catalogue, id), hueOf(id), 640);
    },
  },
];
