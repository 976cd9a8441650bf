import { createServer } from 'node:http';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { fetchCurrentUser } from '../api/profile.js';
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import { safeEqual } from '../core/safe-equal.js';
import { parseScopes } from '../core/scopes.js';
import type { SpotifyAuth } from '../core/spotify-auth.js';
import type { TokenStore } from '../stores/types.js';
import type { TokenManager } from '../tokens/token-manager.js';
import { SCRIPT, STYLESHEET } from './assets.js';
import { registerBrokerApi } from './broker-api.js';
import type { ServerConfig } from './config.js';
import { FailureLimiter } from './failure-limiter.js';
import { loggerOptions } from './logging.js';
import type { ServerMetrics } from './metrics.js';
import { errorPage, homePage, layout } from './pages.js';
import { renderProfile } from './profile-view.js';
import {
  baseHeaders,
  cookieNames,
  cookieOptions,
  csrfTokenMatches,
  isOwnHost,
  isSameOriginRequest,
  pageHeaderSet,
  safeReturnTo,
} from './security.js';
import { LOGIN_TTL_MS, type Session, SessionStore } from './sessions.js';
import { createTokenFastPath } from './token-fast-path.js';
import { tokenResponse } from './token-response.js';

export interface AppDependencies {
  config: ServerConfig;
  auth: SpotifyAuth;
  tokens: TokenManager;
  store: TokenStore;
  metrics: ServerMetrics;
  /** Extra origins profile images may come from (the sandbox emulator). */
  imageOrigins?: string[];
  /** Supply a logger (tests capture it); default: pino to stdout at config.logLevel. */
  logger?: Logger;
  sessions?: SessionStore;
}

const BODY_LIMIT = 16 * 1024;
/** How long /readyz reuses its last probe: load balancers poll it, and each probe is an outbound request. */
const READY_PROBE_TTL_MS = 5_000;
/** Routes that answer whatever Host they are asked by: health checks and scrapers address the bare IP. */
const ANY_HOST_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** Codes of a store that holds a record it cannot read, or cannot be reached: our fault, never Spotify's. */
const STORE_ERROR_CODES = new Set(['STORE_CORRUPT', 'DECRYPT_FAILED', 'KEY_UNKNOWN']);
const SPOTIFY_IMAGE_ORIGINS = ['https://i.scdn.co', 'https://*.scdn.co', 'https://*.spotifycdn.com'];

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
    sessionId?: string;
  }
}

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, auth, tokens, store, metrics } = deps;
  const sessions = deps.sessions ?? new SessionStore();
  const origin = config.publicUrl.origin;
  const names = cookieNames(config.publicUrl);
  const htmlHeaders = pageHeaderSet([...SPOTIFY_IMAGE_ORIGINS, ...(deps.imageOrigins ?? [])]);
  const headers = baseHeaders(config.publicUrl);

  const fastPath = createTokenFastPath({
    sessions,
    tokens,
    sessionCookie: names.session,
    baseHeaders: headers,
  });
  // The logger generic differs between a pino instance and options; the app only needs the base type.
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer((req, res) => fastPath(req, res) || handler(req, res));
      server.keepAliveTimeout = 72_000; // what Fastify sets on servers it creates itself
      return server;
    },
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(config.logLevel) }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    requestIdHeader: false,
    // The router's own refusals (a malformed URL, an over-long path parameter) get our pages and headers too.
    frameworkErrors: (error, request, reply) => {
      reply.headers(headers);
      const tooLong = (error as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH';
      request.log.info({ code: (error as { code?: string }).code }, 'request refused by the router');
      void respond(request, reply, tooLong ? 414 : 400, {
        title: tooLong ? 'Address too long' : 'Bad address',
        message: tooLong
          ? 'A part of this address is too long.'
          : 'This address is malformed (for example a stray "%").',
        error: tooLong ? 'uri_too_long' : 'bad_request',
      });
    },
    // Malformed HTTP never reaches a route: answer it here, still with our headers, and close.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const body = JSON.stringify({
        error: tooLarge ? 'headers_too_large' : 'bad_request',
        message: tooLarge ? 'The request headers are too large.' : 'The request was malformed.',
      });
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.end(
        `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
          `${lines.join('')}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
    // A child logger per request costs pino's redaction setup every time; below `info` nothing per-request
    // is logged anyway, so requests share the root logger (their warnings then carry no request id).
    childLoggerFactory: (logger, bindings, options) =>
      (logger as unknown as Logger).isLevelEnabled('info') ? logger.child(bindings, options) : logger,
  }) as unknown as FastifyInstance;

  // Declared up front so requests keep one shape (adding properties per request deoptimises V8).
  app.decorateRequest('session', undefined);
  app.decorateRequest('sessionId', undefined);
  // Which methods each route path answers, so a wrong method gets 405 with Allow instead of a 404.
  const routeMethods = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const entry = routeMethods.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    routeMethods.set(route.url, entry);
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(rateLimit, {
    global: false,
    // Keyed by the socket address unless a trusted proxy is configured (SECURITY §7.1).
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `Too many attempts; try again in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });
  const loginLimit = { rateLimit: { max: config.loginRateLimit, timeWindow: 60_000 } };

  // Callback style rather than async: this runs on every request, and skips a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    if (!isOwnHost(request.host, config.publicUrl) && !ANY_HOST_ROUTES.has(request.url.split('?', 1)[0]!)) {
      request.log.warn({ event: 'wrong_host' }, 'security: request for another host refused');
      void respond(request, reply, 421, {
        title: 'Wrong address',
        message: `This server answers as ${config.publicUrl.origin}; open it there (or set SPOTAUTH_PUBLIC_URL).`,
        error: 'wrong_host',
      });
      return;
    }
    const sessionId = request.cookies[names.session];
    const session = sessions.getSession(sessionId);
    if (session && sessionId) {
      request.session = session;
      request.sessionId = sessionId;
    }
    done();
  });

  // Errors become a page or a JSON body a person understands; never a stack trace.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (isSpotauthError(error)) return sendSpotauthError(request, reply, error);
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500)
      request.log.error({ err: { type: error.name, code: error.code } }, 'unexpected error');
    const message =
      status === 413
        ? 'The request is too large.'
        : status === 429
          ? error.message
          : status === 415
            ? 'Unsupported content type.'
            : status < 500
              ? 'The request was malformed.'
              : 'Something went wrong on our side; try again.';
    return respond(request, reply, status, {
      title: status === 429 ? 'Slow down' : 'Request rejected',
      message,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = [...routeMethods.values()]
      .filter((route) => route.pattern.test(path))
      .flatMap((route) => [...route.methods]);
    if (allowed.length > 0) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return respond(request, reply, 405, {
        title: 'Method not allowed',
        message: `This address does not accept ${request.method.slice(0, 10)} requests.`,
        error: 'method_not_allowed',
      });
    }
    return respond(request, reply, 404, {
      title: 'Not found',
      message: 'There is nothing at this address.',
      error: 'not_found',
    });
  });

  function page(reply: FastifyReply, status: number, title: string, body: string, request: FastifyRequest) {
    reply
      .code(status)
      .headers(htmlHeaders)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store');
    const signedIn = request.session ? { name: '', csrfToken: request.session.csrfToken } : undefined;
    return reply.send(layout(title, body, { sandbox: config.sandbox, signedIn }));
  }

  function wantsJson(request: FastifyRequest): boolean {
    return (
      request.url.startsWith('/api/') ||
      request.url === '/token' ||
      request.url.startsWith('/refresh_token') ||
      (request.headers.accept ?? '').includes('application/json')
    );
  }

  function respond(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    view: {
      title: string;
      message: string;
      action?: { href: string; label: string };
      error?: string;
      code?: string;
    },
  ) {
    if (wantsJson(request)) {
      reply.code(status).header('cache-control', 'no-store');
      return reply.send({
        error: view.error ?? view.title.toLowerCase().replaceAll(' ', '_'),
        message: view.message,
        ...(view.code ? { code: view.code } : {}),
      });
    }
    return page(reply, status, view.title, errorPage(view), request);
  }

  function sendSpotauthError(request: FastifyRequest, reply: FastifyReply, error: SpotauthError) {
    switch (error.code) {
      case 'REAUTH_REQUIRED':
      case 'NOT_LOGGED_IN':
      case 'API_UNAUTHORIZED':
        // The grant is dead: so is every session built on it.
        if (request.session) {
          sessions.destroyUserSessions(request.session.userKey);
          request.session = undefined;
          reply.clearCookie(names.session, cookieOptions(names));
        }
        return respond(request, reply, 401, {
          title: 'Please log in again',
          message: `${error.message.replace(/; log in again\.?$/, '.')} Log in again to continue.`,
          action: { href: '/login', label: 'Log in again' },
          error: 'reauth_required',
        });
      case 'RATE_LIMITED':
        if (error.retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(error.retryAfter)));
        return respond(request, reply, 429, {
          title: 'Spotify is busy',
          message: error.message,
          error: 'rate_limited',
        });
      case 'USER_NOT_ALLOWLISTED':
        return respond(request, reply, 403, {
          title: 'Not on the allowlist',
          message: error.message,
          error: 'user_not_allowlisted',
        });
      case 'INVALID_SCOPE':
      case 'PARAM_TOO_LONG':
      case 'PARAM_DUPLICATED':
        return respond(request, reply, 400, {
          title: 'Bad request',
          message: error.message,
          error: 'bad_request',
        });
      case 'MISSING_SCOPE':
        return respond(request, reply, 403, {
          title: 'Permission needed',
          message: error.message,
          error: 'missing_scope',
        });
      default:
        if (STORE_ERROR_CODES.has(error.code) || error.code === 'STORE_UNAVAILABLE') {
          // The detail (which database, record and key) is for the operator's log, never for the client.
          request.log.error({ code: error.code, detail: error.message }, 'token store error');
          const unavailable = error.code === 'STORE_UNAVAILABLE';
          return respond(request, reply, unavailable ? 503 : 500, {
            title: unavailable ? 'Temporarily unavailable' : 'Something went wrong',
            message: unavailable
              ? 'This app cannot reach its token storage just now; try again in a moment.'
              : 'This app could not read its stored login data. The operator has been told; logging in again may help.',
            error: unavailable ? 'store_unavailable' : 'store_error',
            code: error.code,
          });
        }
        if (error.transient) {
          return respond(request, reply, 503, {
            title: 'Spotify is unreachable',
            message: 'Spotify did not answer properly just now. Your login is safe; try again in a moment.',
            error: 'spotify_unavailable',
            code: error.code,
          });
        }
        request.log.warn({ code: error.code, status: error.status }, 'request failed');
        return respond(request, reply, 502, {
          title: 'Spotify refused the request',
          message: error.message,
          error: 'spotify_error',
          code: error.code,
        });
    }
  }

  function requireSession(request: FastifyRequest): Session {
    if (!request.session) throw new SpotauthError('NOT_LOGGED_IN', 'You are not logged in.');
    return request.session;
  }

  function checkCsrf(request: FastifyRequest, reply: FastifyReply, session: Session): boolean {
    if (isSameOriginRequest(request, origin) && csrfTokenMatches(request, session.csrfToken)) return true;
    request.log.warn(
      { event: 'csrf_refused', route: request.url.split('?', 1)[0], site: request.headers['sec-fetch-site'] },
      'security: cross-site request refused',
    );
    void respond(request, reply, 403, {
      title: 'Request refused',
      message: 'This request did not come from this site; reload the page and try again.',
      error: 'csrf',
    });
    return false;
  }

  app.get('/assets/app.css', (_request, reply) =>
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(STYLESHEET),
  );
  app.get('/assets/app.js', (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(SCRIPT),
  );

  app.get('/favicon.ico', (_request, reply) =>
    reply.code(204).header('cache-control', 'public, max-age=86400').send(),
  );

  app.get('/', async (request, reply) => {
    if (!request.session) return page(reply, 200, 'Log in', homePage(config.scope, config.sandbox), request);
    const body = await renderProfile({ request, tokens, session: request.session, sessions, reply });
    if (body === null) return reply;
    return page(reply, 200, 'Your Spotify', body, request);
  });

  app.get(
    '/login',
    { config: loginLimit },
    async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
      const query = request.query;
      for (const [name, value] of Object.entries(query)) {
        if (Array.isArray(value))
          return respond(request, reply, 400, {
            title: 'Bad login link',
            message: `The parameter "${name.slice(0, 32)}" was given twice.`,
          });
      }
      const scope =
        typeof query['scope'] === 'string'
          ? mergeScopes(config.scope, parseScopes(query['scope']))
          : config.scope;
      const showDialog = query['show_dialog'] === 'true' || query['show_dialog'] === '1';
      const returnTo = safeReturnTo(query['returnTo'], origin);
      const request_ = await auth.createAuthorizationRequest({
        scope,
        ...(showDialog ? { showDialog } : {}),
      });
      const id = sessions.startLogin({
        state: request_.state,
        codeVerifier: request_.codeVerifier,
        redirectUri: request_.redirectUri,
        scope: request_.scope,
        returnTo,
      });
      reply.setCookie(names.login, id, cookieOptions(names, LOGIN_TTL_MS / 1000));
      return reply.code(303).header('cache-control', 'no-store').redirect(request_.url.href, 303);
    },
  );

  app.get('/callback', { config: loginLimit }, async (request, reply) => {
    const transactionId = request.cookies[names.login];
    reply.clearCookie(names.login, cookieOptions(names));
    reply.header('cache-control', 'no-store');
    const transaction = sessions.takeLogin(transactionId);
    if (!transaction) {
      metrics.logins.inc({ outcome: 'expired_or_forged' });
      request.log.warn(
        { event: 'login_rejected', reason: transactionId ? 'unknown_transaction' : 'no_transaction' },
        'security: callback without a live login transaction',
      );
      return respond(request, reply, 400, {
        title: 'Login expired or not started here',
        message:
          'This login link was already used, has expired (after 10 minutes), or was not started from this browser. Nothing was stored.',
        action: { href: '/login', label: 'Log in' },
      });
    }
    const query = new URL(request.url, origin).searchParams;
    let validated: ReturnType<SpotifyAuth['validateCallback']>;
    try {
      validated = auth.validateCallback(query, { state: transaction.state });
    } catch (error) {
      if (isSpotauthError(error, 'ACCESS_DENIED')) {
        metrics.logins.inc({ outcome: 'denied' });
        return respond(request, reply, 403, {
          title: 'Access not granted',
          message:
            'You chose not to give this app access on Spotify, so you are not logged in. You can try again at any time.',
          action: { href: '/login', label: 'Try again' },
        });
      }
      metrics.logins.inc({ outcome: 'rejected' });
      const code = isSpotauthError(error) ? error.code : 'INVALID';
      request.log.warn({ event: 'login_rejected', reason: code }, 'security: login callback rejected');
      return respond(request, reply, 400, {
        title: 'Login attempt rejected',
        message:
          code.startsWith('STATE') || code === 'PARAM_DUPLICATED'
            ? 'This answer from Spotify does not match the login started in this browser (it may have been forged or replayed). Nothing was stored.'
            : 'Spotify sent back an answer this app cannot use. Nothing was stored.',
        action: { href: '/login', label: 'Log in again' },
      });
    }
    let grantKey: string;
    try {
      const tokenSet = await auth.exchangeCode(validated, {
        codeVerifier: transaction.codeVerifier,
        redirectUri: transaction.redirectUri,
        requestedScope: transaction.scope,
      });
      const profile = await fetchCurrentUser(
        auth.config.apiUrl.href,
        tokenSet.accessToken,
        auth.config.fetch,
      );
      const record = await tokens.saveGrant(tokenSet, profile);
      grantKey = record.key;
    } catch (error) {
      metrics.logins.inc({ outcome: 'failed' });
      if (isSpotauthError(error, 'INVALID_GRANT')) {
        return respond(request, reply, 400, {
          title: 'Login expired',
          message:
            'Spotify no longer accepts this login (it took too long or was already used). Please log in again.',
          action: { href: '/login', label: 'Log in again' },
        });
      }
      throw error;
    }
    // A new session id on every login (session fixation, SECURITY §3.2).
    sessions.destroySession(request.cookies[names.session]);
    const { id } = sessions.createSession(grantKey);
    reply.setCookie(names.session, id, cookieOptions(names));
    metrics.logins.inc({ outcome: 'success' });
    request.log.info({ user: grantKey }, 'login');
    return reply.redirect(transaction.returnTo, 303);
  });

  app.get('/token', async (request, reply) => {
    const session = requireSession(request);
    const token = await tokens.getToken(session.userKey);
    reply.header('cache-control', 'no-store');
    return tokenResponse(token);
  });

  app.post('/refresh_token', async (request, reply) => {
    const session = requireSession(request);
    if (!checkCsrf(request, reply, session)) return reply;
    const token = await tokens.refreshNow(session.userKey);
    reply.header('cache-control', 'no-store');
    return { ok: true, ...tokenResponse(token) };
  });

  app.post('/logout', async (request, reply) => {
    const session = request.session;
    if (session && !checkCsrf(request, reply, session)) return reply;
    sessions.destroySession(request.sessionId);
    reply.clearCookie(names.session, cookieOptions(names));
    if (wantsJson(request)) return reply.header('cache-control', 'no-store').send({ ok: true });
    return reply.redirect('/', 303);
  });

  app.get('/healthz', async () => ({ ok: true }));

  // One probe at a time, reused for a few seconds: hammering /readyz never multiplies outbound requests.
  let readiness: { at: number; result: Promise<{ store: boolean; accounts: boolean }> } | undefined;
  const probeReadiness = async () => {
    const checks = { store: false, accounts: false };
    try {
      await store.get('health:probe');
      checks.store = true;
    } catch {}
    try {
      const response = await auth.config.fetch(auth.config.accountsUrl, {
        method: 'HEAD',
        redirect: 'manual',
        signal: AbortSignal.timeout(2_000),
      });
      await response.body?.cancel();
      checks.accounts = true;
    } catch {}
    return checks;
  };
  app.get('/readyz', async (_request, reply) => {
    if (!readiness || Date.now() - readiness.at >= READY_PROBE_TTL_MS)
      readiness = { at: Date.now(), result: probeReadiness() };
    const checks = await readiness.result;
    const ok = checks.store && checks.accounts;
    return reply
      .code(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ ok, checks });
  });

  app.get('/metrics', async (request, reply) => {
    if (config.metricsToken !== undefined) {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!safeEqual(presented, config.metricsToken)) {
        reply.header('www-authenticate', 'Bearer');
        return respond(request, reply, 401, {
          title: 'Unauthorized',
          message: 'The metrics need Authorization: Bearer <SPOTAUTH_METRICS_TOKEN>.',
          error: 'unauthorized',
        });
      }
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  tokens.on('quarantined', ({ key, code, location }) =>
    app.log.warn(
      { event: 'record_quarantined', user: key, code, location },
      'an unreadable stored login was moved aside and replaced by a new login',
    ),
  );

  registerBrokerApi(app, { ...deps, failures: new FailureLimiter(10, 60_000) }, respond);
  return app;
}

/** A Fastify route path (`/a/:id/*`) as a regular expression over request paths. */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) =>
      part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

function mergeScopes(base: readonly string[], extra: readonly string[]): string[] {
  return [...new Set([...base, ...extra])];
}
