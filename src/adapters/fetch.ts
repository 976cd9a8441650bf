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
 * // Next.js server component: headers() is enough to find the session
 * const session = await spotauth.session(await headers());
 * if (!session) redirect(spotauth.loginUrl('/me'));
 *
 * // Hono
 * app.all('/auth/spotify/*', (c) => spotauth.fetch(c.req.raw));
 *
 * // Deno.serve: the client address comes with the request's info, not the Request
 * Deno.serve((request, info) => spotauth.fetch(request, { ip: info.remoteAddr.hostname }));
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

export type { LoginOutcome, SessionInfo, SpotauthOptions } from '../auth/handler.js';

/** Options of {@link spotauthFetch} beyond the handler's. */
export interface FetchSpotauthOptions {
  /**
   * The client's address, for the login rate limit. Web requests do not carry it; pass what your runtime
   * knows (e.g. Bun's `server.requestIP(request)`, or the first X-Forwarded-For hop behind your own proxy).
   * Without it there is no per-client limit.
   */
  clientIp?: (request: Request) => string | undefined;
}

/** What the runtime knows about a request beyond the Request itself. */
export interface RequestContext {
  /** The client's address (e.g. Deno.serve's `info.remoteAddr.hostname`); overrides the `clientIp` option. */
  ip?: string | undefined;
}

/**
 * A Request, or just its headers — all the session lookup needs. Server components (Next.js `headers()`)
 * and middlewares that hold only headers can pass those.
 */
export type RequestOrHeaders = Request | Pick<Headers, 'get'>;

/** What {@link spotauthFetch} returns. */
export interface FetchSpotauth {
  /** The login handler underneath. */
  handler: SpotauthHandler;
  /**
   * Answers an auth route, or null when the request is not one (let the app handle it). Ready at once,
   * not a promise, when nothing needs the store (a cached token): `await` it, or return it from a route.
   */
  handle(request: Request, context?: RequestContext): Response | null | Promise<Response | null>;
  /** Like handle, with a 404 for other paths: for a route file that only holds the auth routes. */
  fetch(request: Request, context?: RequestContext): Response | Promise<Response>;
  /** The logged-in user of this request, or null. */
  session(request: RequestOrHeaders): Promise<SessionInfo | null>;
  /** A valid access token for the request's user (throws `NOT_LOGGED_IN` / `REAUTH_REQUIRED`). */
  accessToken(request: RequestOrHeaders): Promise<AccessToken>;
  /** A Web API client acting as the request's user (throws `NOT_LOGGED_IN`). */
  api(request: RequestOrHeaders): Promise<SpotifyApi>;
  /** `{base}/login`, returning to `returnTo` afterwards (for a redirect of the app's own). */
  loginUrl(returnTo?: string): string;
  /** The session, or the response to send instead (a redirect to login that comes back here, or 401 JSON). */
  requireLogin(request: Request): Promise<
    | {
        /** The logged-in user. */
        session: SessionInfo;
        /** Absent: go on. */
        response?: undefined;
      }
    | {
        /** Absent: nobody is logged in. */
        session?: undefined;
        /** Send this instead of the page. */
        response: Response;
      }
  >;
  /** The page or JSON a person understands for an error thrown in the app's own routes. */
  errorResponse(request: Request, error: unknown): Response;
}

/** The handler's response as a Web `Response` (cookies as separate `set-cookie` headers). */
export function toResponse(answer: AuthResponse): Response {
  const empty = answer.status === 204 || answer.status === 304 || answer.body === '';
  // Plain headers when there is no cookie: runtimes with a fast path for them (@hono/node-server's
  // Response) write them straight out instead of iterating a Headers object.
  let headers: Record<string, string> | Headers = answer.headers;
  if (answer.cookies.length > 0) {
    headers = new Headers(answer.headers);
    for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
  }
  return new Response(empty ? null : answer.body, { status: answer.status, headers });
}

/** `/path?query` of an absolute URL that a Request already normalised (cheaper than new URL() per request). */
function pathAndQuery(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const hash = url.indexOf('#', start);
  return hash === -1 ? url.slice(start) : url.slice(start, hash);
}

/**
 * The login handler as a `(Request) => Promise<Response>` function, for Hono, Next.js route handlers,
 * Bun.serve, Deno.serve and anything else on Web-standard requests.
 *
 * @param options - The handler's options (or `{ handler }`), plus {@link FetchSpotauthOptions}.
 * @throws `SpotauthError` `INVALID_CONFIG` / `INVALID_SCOPE` for bad options.
 *
 * @example
 * ```ts
 * const spotauth = spotauthFetch({ auth, store });
 * // Hono: the auth routes, then a protected page
 * app.all('/auth/spotify/*', (c) => spotauth.fetch(c.req.raw));
 * app.get('/me', async (c) => {
 *   const { response } = await spotauth.requireLogin(c.req.raw);
 *   if (response) return response;
 *   return c.json(await (await spotauth.api(c.req.raw)).me());
 * });
 * ```
 */
export function spotauthFetch(
  options: (SpotauthOptions | { handler: SpotauthHandler }) & FetchSpotauthOptions,
): FetchSpotauth {
  const handler = 'handler' in options ? options.handler : createSpotauth(options);
  const fromRequest = (request: Request, context?: RequestContext): AuthRequest => {
    return {
      method: request.method,
      url: pathAndQuery(request.url),
      header: (name) => request.headers.get(name) ?? undefined,
      ip: context?.ip ?? options.clientIp?.(request),
      form: async () =>
        request.body ? readForm(request.headers.get('content-type') ?? undefined, request.body) : null,
    };
  };
  const headersOf = (request: RequestOrHeaders): Pick<AuthRequest, 'header'> => {
    // Duck-typed: frameworks have their own Request and Headers classes (Next.js's headers() object has a
    // `headers` field of its own, a plain object).
    const own = (request as Partial<Request>).headers;
    const headers = typeof own?.get === 'function' ? own : (request as Pick<Headers, 'get'>);
    return { header: (name) => headers.get(name) ?? undefined };
  };
  const tooLarge = (error: unknown): Response => {
    if (!(error instanceof BodyTooLarge)) throw error;
    return toResponse(
      handler.respond.error(
        { status: 413, error: 'too_large', title: 'Request rejected', message: 'The request is too large.' },
        true,
      ),
    );
  };
  const notFound = (request: Request): Response =>
    toResponse(
      handler.respond.error(
        { status: 404, error: 'not_found', title: 'Not found', message: 'There is nothing at this address.' },
        (request.headers.get('accept') ?? '').includes('application/json'),
      ),
    );
  // A ready answer (a cached token) stays ready: see SpotauthHandler.handle.
  const handle = (request: Request, context?: RequestContext): Response | null | Promise<Response | null> => {
    const answer = handler.handle(fromRequest(request, context));
    return answer instanceof Promise
      ? answer.then((ready) => ready && toResponse(ready), tooLarge)
      : answer && toResponse(answer);
  };
  return {
    handler,
    handle,
    fetch: (request, context) => {
      const answer = handle(request, context);
      return answer instanceof Promise
        ? answer.then((ready) => ready ?? notFound(request))
        : (answer ?? notFound(request));
    },
    session: (request) => handler.getSession(headersOf(request)),
    accessToken: (request) => handler.getAccessToken(headersOf(request)),
    api: (request) => handler.getApi(headersOf(request)),
    loginUrl: (returnTo) => handler.loginUrl(returnTo),
    requireLogin: async (request) => {
      const outcome = await handler.requireLogin(fromRequest(request));
      return outcome.response ? { response: toResponse(outcome.response) } : { session: outcome.session };
    },
    errorResponse: (request, error) => toResponse(handler.errorResponse(fromRequest(request), error)),
  };
}

export default spotauthFetch;
