/**
 * `spotauth/fastify`: the login handler as a Fastify plugin. It serves the auth routes under the handler's
 * base path and decorates the instance with `spotauth` (session, token, Web API client, requireLogin) for
 * the app's own routes. The standalone server (`spotauth serve`) is built from this plugin.
 *
 * @example
 * const app = Fastify();
 * await app.register(spotauthFastify, { auth, store, basePath: '/auth/spotify', scope: ['user-top-read'] });
 * app.get('/top', { preHandler: app.spotauth.requireLogin }, async (request) =>
 *   (await app.spotauth.api(request)).topTracks(5));
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpotifyApi } from '../api/client.js';
import {
  createSpotauth,
  type SessionInfo,
  type SpotauthHandler,
  type SpotauthOptions,
} from '../auth/handler.js';
import { type AuthRequest, type AuthResponse, BodyTooLarge, MAX_FORM_BYTES } from '../auth/http.js';
import type { AccessToken } from '../tokens/token-manager.js';

export type { LoginOutcome, SessionInfo, SpotauthOptions } from '../auth/handler.js';

/** What the plugin decorates the Fastify instance with, as `app.spotauth`. */
export interface FastifySpotauth {
  /** The login handler underneath. */
  handler: SpotauthHandler;
  /** The logged-in user of this request, or null. */
  session(request: FastifyRequest): Promise<SessionInfo | null>;
  /** A valid access token for the request's user (throws NOT_LOGGED_IN / REAUTH_REQUIRED). */
  accessToken(request: FastifyRequest): Promise<AccessToken>;
  /** A Web API client acting as the request's user. */
  api(request: FastifyRequest): Promise<SpotifyApi>;
  /** preHandler: logged in → `request.spotauthSession` is set; otherwise redirected to login (or 401 JSON). */
  requireLogin(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * Sends the page or JSON a person understands for an error of the app's own routes; made for
   * `app.setErrorHandler((error, request, reply) => app.spotauth.sendError(request, reply, error))`.
   */
  sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply;
}

declare module 'fastify' {
  interface FastifyInstance {
    spotauth: FastifySpotauth;
  }
  interface FastifyRequest {
    spotauthSession: SessionInfo | null;
  }
}

/** The handler's options, or a handler already made (shared with other adapters). */
export type FastifySpotauthOptions =
  | SpotauthOptions
  | {
      /** A handler made with `createSpotauth`. */
      handler: SpotauthHandler;
    };

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const AUTH_ROUTES = ['/login', '/callback', '/token', '/session', '/refresh', '/logout'];

/** Fastify's request, seen by the handler. */
export function fromFastify(request: FastifyRequest): AuthRequest {
  return {
    method: request.method,
    url: request.url,
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    ip: request.ip,
    form: async () => {
      const body = request.body as unknown;
      if (body instanceof URLSearchParams) return body;
      if (body && typeof body === 'object') {
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(body))
          if (typeof value === 'string') form.append(key, value);
        return form;
      }
      return null;
    },
  };
}

/** Writes the handler's response (status, headers, cookies, body) to a Fastify reply. */
export function sendToFastify(reply: FastifyReply, response: AuthResponse): FastifyReply {
  reply.code(response.status).headers(response.headers);
  if (response.cookies.length > 0) reply.header('set-cookie', response.cookies);
  return reply.send(response.body);
}

/** The plugin function itself (see {@link spotauthFastify}). */
async function plugin(app: FastifyInstance, options: FastifySpotauthOptions): Promise<void> {
  const handler = 'handler' in options ? options.handler : createSpotauth(options);
  const spotauth: FastifySpotauth = {
    handler,
    session: (request) => handler.getSession(fromFastify(request)),
    accessToken: (request) => handler.getAccessToken(fromFastify(request)),
    api: (request) => handler.getApi(fromFastify(request)),
    requireLogin: async (request, reply) => {
      const outcome = await handler.requireLogin(fromFastify(request));
      if (outcome.response) {
        await sendToFastify(reply, outcome.response);
        return;
      }
      request.spotauthSession = outcome.session;
    },
    sendError: (request, reply, error) =>
      sendToFastify(reply, handler.errorResponse(fromFastify(request), error)),
  };
  app.decorate('spotauth', spotauth);
  app.decorateRequest('spotauthSession', null);
  app.addHook('onClose', async () => handler.close());
  // The routes live in their own context: the form parser they need does not leak into the host app.
  await app.register(async (routes) => {
    if (!routes.hasContentTypeParser('application/x-www-form-urlencoded')) {
      routes.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: MAX_FORM_BYTES },
        (_request, body, done) => done(null, new URLSearchParams(body as string)),
      );
    }
    for (const route of AUTH_ROUTES) {
      routes.route({
        method: [...METHODS],
        url: `${handler.basePath}${route}`,
        handler: async (request, reply) => {
          let answer: AuthResponse | null;
          try {
            answer = await handler.handle(fromFastify(request));
          } catch (error) {
            if (error instanceof BodyTooLarge)
              throw Object.assign(new Error('too large'), { statusCode: 413 });
            throw error;
          }
          // Every listed route is the handler's, so it answers; a null would mean "not mine": Fastify's 404.
          return answer === null ? reply.callNotFound() : sendToFastify(reply, answer);
        },
      });
    }
  });
}

// Decorations must reach the host app (what fastify-plugin does, without the dependency).
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'spotauth';

/**
 * The Fastify plugin: `app.register(spotauthFastify, options)`. It serves the auth routes under the
 * handler's base path (with their own form parser, which does not leak into the app), decorates the
 * instance with {@link FastifySpotauth} and the request with `spotauthSession`, and stops the handler's
 * cleanup on close.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` / `INVALID_SCOPE` at registration, for bad options.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(spotauthFastify, { auth, store, scope: ['user-top-read'] });
 * app.get('/top', { preHandler: app.spotauth.requireLogin }, async (request) =>
 *   (await app.spotauth.api(request)).topTracks(5),
 * );
 * ```
 */
export const spotauthFastify = plugin;
export default plugin;
