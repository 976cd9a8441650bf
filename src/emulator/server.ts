import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { authorizeRoutes } from './authorize.js';
import { controlRoutes } from './control.js';
import { stateControlRoutes } from './control-state.js';
import { answerPreflight, corsKind, setCorsHeaders } from './cors.js';
import { homeRoutes } from './home-page.js';
import { type HostPolicy, isLoopbackAddress, isTrustedHost } from './host-check.js';
import { sendApiError, sendJson } from './http.js';
import { quotaRoutes } from './quota-control.js';
import { quotaHook } from './quotas.js';
import { matchRoute, type Route } from './routes.js';
import type { EmulatorState } from './state.js';
import { tokenRoutes } from './token.js';
import { playlistImageRoutes } from './web-api/playlists.js';
import { imageRoutes, webApiRoutesWith } from './web-api.js';

/** The /v1 dispatcher as the emulator serves it: with its quota check. */
export const SERVED_WEB_API_ROUTES: readonly Route[] = webApiRoutesWith({ quota: quotaHook });

/** Every route table: the accounts service, the control API, the /v1 Web API slice and its images. */
export const ROUTES: readonly Route[] = [
  ...homeRoutes,
  ...authorizeRoutes,
  ...tokenRoutes,
  ...controlRoutes,
  ...quotaRoutes,
  ...stateControlRoutes,
  ...SERVED_WEB_API_ROUTES,
  ...imageRoutes,
  ...playlistImageRoutes,
];

/**
 * The control API changes state on a plain POST, so a web page the developer happens to visit must not be
 * able to drive it: refuse any browser request that says it comes from another origin.
 */
function isCrossSiteBrowserRequest(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return true;
  return req.headers['sec-fetch-site'] === 'cross-site';
}

export interface EmulatorServerOptions {
  routes?: readonly Route[];
  /** Default 127.0.0.1: only loopback Host headers are accepted anywhere. */
  hostPolicy?: HostPolicy;
}

export function createEmulatorServer(
  state: EmulatorState,
  getBaseUrl: () => string,
  options: EmulatorServerOptions = {},
): Server {
  const routes = options.routes ?? ROUTES;
  const hostPolicy = options.hostPolicy ?? { boundHost: '127.0.0.1' };
  // Bound to a non-loopback address (--host 0.0.0.0 in a container, say), the accounts service and the
  // Web API answer whatever name the client used; the control API never does.
  const checkHostEverywhere = isLoopbackAddress(hostPolicy.boundHost);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator.invalid');
    } catch {
      return sendApiError(res, 400, 'Bad request');
    }
    const control = url.pathname.startsWith('/_emulator/');
    if (
      (control || checkHostEverywhere) &&
      !isTrustedHost(req.headers.host, req.socket.localPort, hostPolicy)
    ) {
      return sendApiError(
        res,
        403,
        'The emulator only answers requests addressed to 127.0.0.1, [::1] or localhost on its own port',
      );
    }
    if (control && isCrossSiteBrowserRequest(req)) {
      return sendApiError(res, 403, 'The emulator control API only accepts same-origin requests');
    }
    const cors = corsKind(url.pathname);
    if (cors !== null) {
      if (req.method === 'OPTIONS') {
        state.stats.cors_preflights[cors]++;
        return answerPreflight(res, cors);
      }
      setCorsHeaders(req, res, cors, state.config.cors);
    }
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (match === null) return sendApiError(res, 404, 'Service not found');
    if ('allowed' in match) {
      res.setHeader('Allow', match.allowed.join(', '));
      return sendApiError(res, 405, 'Method not allowed');
    }
    await match.route.handler({ req, res, url, params: match.params, state, baseUrl: getBaseUrl() });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only the error's type reaches the log: messages could echo request data.
      if (!state.config.quiet) {
        const name = error instanceof Error ? error.name : typeof error;
        process.stderr.write(
          `spotify emulator: internal error (${name}) on ${req.method} ${req.url?.split('?')[0]}\n`,
        );
      }
      if (!res.headersSent)
        sendJson(res, 500, { error: { status: 500, message: 'Internal emulator error' } });
      else res.destroy();
    });
  });
  // Malformed HTTP must never take the process down: answer 400 and drop the socket.
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
