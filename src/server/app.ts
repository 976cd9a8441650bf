/**
 * The standalone server (`spotauth serve`, `npm start`): Fastify with the spotauth plugin mounted at the
 * root, the app's own pages, health and metrics, and the token broker. Everything that concerns logging in
 * is the handler's (src/auth); this file only wires it.
 */
import { createServer } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { fromFastify, sendToFastify, spotauthFastify } from '../adapters/fastify.js';
import { createSpotauth } from '../auth/handler.js';
import { pathOf } from '../auth/http.js';
import { baseHeaders, isOwnHost, pageHeaderSet } from '../auth/security.js';
import { type BrokerOptions, brokerRoutes } from '../broker/routes.js';
import type { SpotifyAuth } from '../core/spotify-auth.js';
import type { TokenStore } from '../stores/types.js';
import type { TokenManager } from '../tokens/token-manager.js';
import type { ServerConfig } from './config.js';
import { installErrorHandling, malformedHttp, routerRefusal, sendView } from './errors.js';
import { loggerOptions } from './logging.js';
import type { ServerMetrics } from './metrics.js';
import { errorPage, layout } from './pages.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerPages } from './routes/pages.js';
import { createTokenFastPath } from './token-fast-path.js';

/** What {@link buildApp} wires together; {@link startServer} makes them from the environment. */
export interface AppDependencies {
  /** The server's settings ({@link loadServerConfig}). */
  config: ServerConfig;
  /** The Spotify app. */
  auth: SpotifyAuth;
  /** The token manager on `store`. */
  tokens: TokenManager;
  /** Where grants, sessions, broker keys and webhook events live. */
  store: TokenStore;
  /** The instance's Prometheus metrics. */
  metrics: ServerMetrics;
  /** Extra origins profile images may come from (the sandbox emulator). */
  imageOrigins?: string[];
  /** Supply a logger (tests capture it); default: pino to stdout at config.logLevel. */
  logger?: Logger;
  /** Broker settings beyond the configuration: proxy limits, key cache, hooks (the webhook outbox). */
  broker?: Partial<Omit<BrokerOptions, 'handler' | 'tokens' | 'bootstrapKeys'>>;
}

const BODY_LIMIT = 16 * 1024;
const SPOTIFY_IMAGE_ORIGINS = ['https://i.scdn.co', 'https://*.scdn.co', 'https://*.spotifycdn.com'];
/** Routes that answer whatever Host they are asked by: health checks and scrapers address the bare IP. */
const ANY_HOST_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The standalone server as a Fastify instance, not yet listening: the login routes at the root, the
 * app's pages, `/healthz`, `/readyz`, `/metrics` and the token broker (`/api/…`). For embedding or
 * testing it (`app.inject`); {@link startServer} also listens.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for inconsistent settings (see `createSpotauth`).
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, auth, tokens, store, metrics } = deps;
  const headers = baseHeaders(config.publicUrl);
  const htmlHeaders = pageHeaderSet([...SPOTIFY_IMAGE_ORIGINS, ...(deps.imageOrigins ?? [])]);

  const logger = deps.logger ?? pino(loggerOptions(config.logLevel));
  const spotauth = createSpotauth({
    auth,
    store,
    tokens,
    basePath: '',
    scope: config.scope,
    loginRateLimit: config.loginRateLimit,
    logger,
    pages: { error: (view) => layout(view.title, errorPage(view), { sandbox: config.sandbox }) },
    pageHeaders: htmlHeaders,
    onLogin: (outcome) => metrics.logins.inc({ outcome }),
  });
  const fastPath = createTokenFastPath({
    sessions: spotauth.sessions,
    tokens,
    sessionCookie: spotauth.cookies.session,
    baseHeaders: headers,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
  });
  const app = Fastify({
    serverFactory: (route) => {
      const server = createServer((req, res) => fastPath(req, res) || route(req, res));
      server.keepAliveTimeout = 72_000; // what Fastify sets on servers it creates itself
      return server;
    },
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    requestIdHeader: false,
    frameworkErrors: routerRefusal(spotauth, headers),
    clientErrorHandler: malformedHttp(headers),
    // A child logger per request costs pino's redaction setup every time; below `info` nothing per-request
    // is logged anyway, so requests share the root logger (their warnings then carry no request id).
    childLoggerFactory: (parent, bindings, options) =>
      (parent as unknown as Logger).isLevelEnabled('info') ? parent.child(bindings, options) : parent,
  }) as unknown as FastifyInstance;

  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    // A request target in absolute-form (`GET http://other.example/ HTTP/1.1`, meant for proxies) or `*`
    // names its host in the target, which the router would ignore and the Host check below never sees:
    // this server is no proxy, so only paths are accepted.
    if (request.raw.url?.[0] !== '/') {
      void sendView(spotauth, request, reply, {
        status: 400,
        error: 'bad_request',
        title: 'Bad request',
        message: 'This server accepts only a path as the request target (e.g. GET /login), not a full URL.',
      });
      return;
    }
    if (!isOwnHost(request.host, config.publicUrl) && !ANY_HOST_ROUTES.has(pathOf(request.url))) {
      request.log.warn({ event: 'wrong_host' }, 'security: request for another host refused');
      void sendView(spotauth, request, reply, {
        status: 421,
        error: 'wrong_host',
        title: 'Wrong address',
        message: `This server answers as ${config.publicUrl.origin}; open it there (or set SPOTAUTH_PUBLIC_URL).`,
      });
      return;
    }
    done();
  });
  installErrorHandling(app, spotauth);

  await app.register(spotauthFastify, { handler: spotauth });
  // The name earlier versions used for "Refresh now"; the handler's is /refresh.
  app.post('/refresh_token', async (request, reply) => {
    const answer = await spotauth.handle({ ...fromFastify(request), url: '/refresh' });
    return answer === null ? reply.callNotFound() : sendToFastify(reply, answer);
  });
  registerPages(app, { handler: spotauth, scope: config.scope, sandbox: config.sandbox, htmlHeaders });
  registerHealthRoutes(app, { handler: spotauth, auth, store, metrics, metricsToken: config.metricsToken });
  await app.register(brokerRoutes, {
    ...deps.broker,
    handler: spotauth,
    tokens,
    bootstrapKeys: config.brokerKeys,
    publicUrl: config.publicUrl,
  });

  tokens.on('quarantined', ({ key, code, location }) =>
    app.log.warn(
      { event: 'record_quarantined', user: key, code, location },
      'an unreadable stored login was moved aside and replaced by a new login',
    ),
  );
  return app;
}
