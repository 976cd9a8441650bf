/**
 * `spotauth/express`: the login handler as Express 5 middleware. Mount it once; it answers the auth routes
 * under the handler's base path and passes everything else on, and its helpers serve the app's own routes.
 *
 * @example
 * const spotauth = spotauthExpress({ auth, store, scope: ['user-top-read'] });
 * app.use(spotauth);
 * app.get('/top', spotauth.requireLogin, async (req, res) =>
 *   res.json(await (await spotauth.api(req)).topTracks(5)));
 */
import type { ServerResponse } from 'node:http';
import type { SpotifyApi } from '../api/client.js';
import {
  createSpotauth,
  type SessionInfo,
  type SpotauthHandler,
  type SpotauthOptions,
} from '../auth/handler.js';
import { BodyTooLarge } from '../auth/http.js';
import type { AccessToken } from '../tokens/token-manager.js';
import { fromNode, type NodeRequest, sendToNode } from './node-http.js';

export type { LoginOutcome, SessionInfo, SpotauthOptions } from '../auth/handler.js';

type Next = (error?: unknown) => void;

/** The middleware {@link spotauthExpress} returns, with helpers for the app's own routes. */
export interface ExpressSpotauth {
  /** Answers the auth routes; passes every other request on with `next()`. */
  (req: NodeRequest, res: ServerResponse, next: Next): void;
  /** The login handler underneath. */
  handler: SpotauthHandler;
  /** The logged-in user of this request, or null. */
  session(req: NodeRequest): Promise<SessionInfo | null>;
  /** A valid access token for the request's user (throws NOT_LOGGED_IN / REAUTH_REQUIRED). */
  accessToken(req: NodeRequest): Promise<AccessToken>;
  /** A Web API client acting as the request's user. */
  api(req: NodeRequest): Promise<SpotifyApi>;
  /** Middleware: logged in → `req.spotauth` is the session; otherwise redirected to login (or 401 JSON). */
  requireLogin(req: NodeRequest & { spotauth?: SessionInfo }, res: ServerResponse, next: Next): void;
  /** Sends the page or JSON a person understands for an error thrown in the app's own routes. */
  sendError(req: NodeRequest, res: ServerResponse, error: unknown): void;
}

/**
 * The login handler as Express 5 middleware (also plain `node:http`: it needs only `req` and `res`).
 *
 * @param options - The handler's options, or `{ handler }` to share one made with `createSpotauth`.
 * @throws `SpotauthError` `INVALID_CONFIG` / `INVALID_SCOPE` for bad options.
 *
 * @example
 * ```ts
 * const spotauth = spotauthExpress({ auth, store, scope: ['user-top-read'] });
 * app.use(spotauth);
 * app.get('/top', spotauth.requireLogin, async (req, res) => {
 *   res.json(await (await spotauth.api(req)).topTracks(5));
 * });
 * app.use((error, req, res, next) => spotauth.sendError(req, res, error));
 * ```
 */
export function spotauthExpress(options: SpotauthOptions | { handler: SpotauthHandler }): ExpressSpotauth {
  const handler = 'handler' in options ? options.handler : createSpotauth(options);
  const middleware = ((req, res, next) => {
    Promise.resolve(handler.handle(fromNode(req))).then(
      (answer) => (answer ? sendToNode(res, answer) : next()),
      (error: unknown) =>
        error instanceof BodyTooLarge
          ? sendToNode(
              res,
              handler.respond.error(
                {
                  status: 413,
                  error: 'too_large',
                  title: 'Request rejected',
                  message: 'The request is too large.',
                },
                true,
              ),
            )
          : next(error),
    );
  }) as ExpressSpotauth;
  middleware.handler = handler;
  middleware.session = (req) => handler.getSession(fromNode(req));
  middleware.accessToken = (req) => handler.getAccessToken(fromNode(req));
  middleware.api = (req) => handler.getApi(fromNode(req));
  middleware.requireLogin = (req, res, next) => {
    handler.requireLogin(fromNode(req)).then((outcome) => {
      if (outcome.response) return sendToNode(res, outcome.response);
      req.spotauth = outcome.session;
      next();
    }, next);
  };
  middleware.sendError = (req, res, error) => sendToNode(res, handler.errorResponse(fromNode(req), error));
  return middleware;
}

export default spotauthExpress;
