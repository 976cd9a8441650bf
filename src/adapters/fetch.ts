/**
 * `spotauth/fetch`: the login handler as a `(Request) => Promise<Response>` function, for anything built on
 * Web-standard requests: Hono, Next.js App Router route handlers, Bun.serve, Deno.serve.
 *
 * @example
 * // Next.js: app/auth/spotify/[...spotauth]/route.ts
 * const spotauth = spotauthFetch({ auth, store });
 * export const GET = spotauth.fetch;
 * export const POST = spotauth.fetch;
 *
 * // Hono
 * app.all('/auth/spotify/*', (c) => spotauth.fetch(c.req.raw));
 */
import type { SpotifyApi } from '../api/client.js';
import {
  createSpotauth,
  type SessionInfo,
  type SpotauthHandler,
  type SpotauthOptions,
} from '../auth/handler.js';
import { type AuthRequest, type AuthResponse, BodyTooLarge, readForm } from '../auth/http.js';
import type { AccessToken } from '../tokens/token-manager.js';

export interface FetchSpotauthOptions {
  /**
   * The client's address, for the login rate limit. Web requests do not carry it; pass what your runtime
   * knows (e.g. Bun's `server.requestIP(request)`, or the first X-Forwarded-For hop behind your own proxy).
   * Without it there is no per-client limit.
   */
  clientIp?: (request: Request) => string | undefined;
}

export interface FetchSpotauth {
  handler: SpotauthHandler;
  /** Answers an auth route, or null when the request is not one (let the app handle it). */
  handle(request: Request): Promise<Response | null>;
  /** Like handle, with a 404 for other paths: for a route file that only holds the auth routes. */
  fetch(request: Request): Promise<Response>;
  session(request: Request): Promise<SessionInfo | null>;
  accessToken(request: Request): Promise<AccessToken>;
  api(request: Request): Promise<SpotifyApi>;
  /** The session, or the response to send instead (a redirect to login that comes back here, or 401 JSON). */
  requireLogin(
    request: Request,
  ): Promise<{ session: SessionInfo; response?: undefined } | { session?: undefined; response: Response }>;
  /** The page or JSON a person understands for an error thrown in the app's own routes. */
  errorResponse(request: Request, error: unknown): Response;
}

export function toResponse(answer: AuthResponse): Response {
  const headers = new Headers(answer.headers);
  for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
  const empty = answer.status === 204 || answer.status === 304 || answer.body === '';
  return new Response(empty ? null : answer.body, { status: answer.status, headers });
}

export function spotauthFetch(
  options: (SpotauthOptions | { handler: SpotauthHandler }) & FetchSpotauthOptions,
): FetchSpotauth {
  const handler = 'handler' in options ? options.handler : createSpotauth(options);
  const fromRequest = (request: Request): AuthRequest => {
    const url = new URL(request.url);
    return {
      method: request.method,
      url: `${url.pathname}${url.search}`,
      header: (name) => request.headers.get(name) ?? undefined,
      ip: options.clientIp?.(request),
      form: async () =>
        request.body ? readForm(request.headers.get('content-type') ?? undefined, request.body) : null,
    };
  };
  const handle = async (request: Request): Promise<Response | null> => {
    try {
      const answer = await handler.handle(fromRequest(request));
      return answer && toResponse(answer);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      return toResponse(
        handler.respond.error(
          {
            status: 413,
            error: 'too_large',
            title: 'Request rejected',
            message: 'The request is too large.',
          },
          true,
        ),
      );
    }
  };
  return {
    handler,
    handle,
    fetch: async (request) =>
      (await handle(request)) ??
      toResponse(
        handler.respond.error(
          {
            status: 404,
            error: 'not_found',
            title: 'Not found',
            message: 'There is nothing at this address.',
          },
          (request.headers.get('accept') ?? '').includes('application/json'),
        ),
      ),
    session: (request) => handler.getSession(fromRequest(request)),
    accessToken: (request) => handler.getAccessToken(fromRequest(request)),
    api: (request) => handler.getApi(fromRequest(request)),
    requireLogin: async (request) => {
      const outcome = await handler.requireLogin(fromRequest(request));
      return outcome.response ? { response: toResponse(outcome.response) } : { session: outcome.session };
    },
    errorResponse: (request, error) => toResponse(handler.errorResponse(fromRequest(request), error)),
  };
}

export default spotauthFetch;
