/**
 * Every answer of the standalone server that is not a route's own goes through here: thrown errors, 404 and
 * 405, the router's refusals (a malformed URL, an over-long parameter) and malformed HTTP. Each gets the
 * same pages or JSON and the same security headers as everything else.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromFastify, sendToFastify } from '../adapters/fastify.js';
import type { SpotauthHandler } from '../auth/handler.js';
import { pathOf } from '../auth/http.js';
import { type ErrorView, viewOfRefusal } from '../auth/responses.js';

/** JSON for the API routes and for clients that ask for it; pages for browsers. */
export function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') || (request.headers.accept ?? '').includes('application/json');
}

export function sendView(
  handler: SpotauthHandler,
  request: FastifyRequest,
  reply: FastifyReply,
  view: ErrorView,
  extraHeaders: Record<string, string> = {},
): FastifyReply {
  const answer = handler.respond.error(view, wantsJson(request));
  answer.headers = { ...answer.headers, ...extraHeaders };
  return sendToFastify(reply, answer);
}

export function installErrorHandling(app: FastifyInstance, handler: SpotauthHandler): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500 && !('transient' in error)) {
      return sendView(handler, request, reply, viewOfRefusal(status));
    }
    return sendToFastify(reply, handler.errorResponse(fromFastify(request), error, wantsJson(request)));
  });

  // Which methods each route path answers, so a wrong method gets 405 with Allow instead of a 404.
  const routeMethods = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const entry = routeMethods.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    routeMethods.set(route.url, entry);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = new Set(
      [...routeMethods.values()]
        .filter((route) => route.pattern.test(path))
        .flatMap((route) => [...route.methods]),
    );
    if (allowed.size > 0) {
      return sendView(
        handler,
        request,
        reply,
        {
          status: 405,
          error: 'method_not_allowed',
          title: 'Method not allowed',
          message: `This address does not accept ${request.method.slice(0, 10)} requests.`,
        },
        { allow: [...allowed].join(', ') },
      );
    }
    return sendView(handler, request, reply, {
      status: 404,
      error: 'not_found',
      title: 'Not found',
      message: 'There is nothing at this address.',
    });
  });
}

/** Fastify's `frameworkErrors`: the router refused the URL before any route or hook ran. */
export function routerRefusal(handler: SpotauthHandler, headers: Readonly<Record<string, string>>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    reply.headers(headers);
    const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
    request.log.info({ code: error.code }, 'request refused by the router');
    void sendView(handler, request, reply, {
      status: tooLong ? 414 : 400,
      error: tooLong ? 'uri_too_long' : 'bad_request',
      title: tooLong ? 'Address too long' : 'Bad address',
      message: tooLong
        ? 'A part of this address is too long.'
        : 'This address is malformed (for example a stray "%").',
    });
  };
}

/** Malformed HTTP never reaches a route: answer it here, still with our headers, and close. */
export function malformedHttp(headers: Readonly<Record<string, string>>) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
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
  };
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
