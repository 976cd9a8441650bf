import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS as api.spotify.com and accounts.spotify.com send it (WEB-API-2026.md §4).
 *
 * - `/v1/…`: the same headers on every response, and `OPTIONS` (any /v1 path) → 200 with an empty body.
 *   The browser does the refusing: a request header missing from Allow-Headers (e.g. `Cache-Control`)
 *   fails its preflight, exactly as at Spotify (spotify/web-api#9).
 * - `/api/token`: the CORS-simple form POST gets `Access-Control-Allow-Origin`. Every preflight gets 204
 *   *without* it, so the browser blocks the request: captured for preflights asking for `authorization` or
 *   `cache-control` (spotify/web-api#586, #616); no capture of any preflight that succeeds, so we fail them all.
 */

export const API_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS, PUT, DELETE, PATCH',
  'Access-Control-Allow-Credentials': 'true',
  'Access-Control-Max-Age': '604800',
  'Access-Control-Allow-Headers':
    'Accept, App-Platform, Authorization, Content-Type, Origin, Retry-After, Spotify-App-Version, X-Cloud-Trace-Context, client-token, content-access-token',
});

const API_CORS_ENTRIES = Object.entries(API_CORS_HEADERS);

export interface CorsConfig {
  /**
   * Access-Control-Expose-Headers on /v1 responses. Spotify's captures show none, so browser code cannot
   * read `Retry-After` (§4, [UNCONF]); default empty. Set e.g. ["Retry-After"] to emulate the other answer.
   */
  exposeHeaders: string[];
  /**
   * The Access-Control-Allow-Origin value on /api/token responses: "*" or "echo" (the request's Origin, with
   * `Vary: Origin` and Allow-Credentials). Spotify's value is unknown (§4, [UNCONF]); "*" is our pick.
   */
  tokenOrigin: '*' | 'echo';
}

export const DEFAULT_CORS: CorsConfig = { exposeHeaders: [], tokenOrigin: '*' };

export type CorsKind = 'api' | 'token' | null;

export function corsKind(pathname: string): CorsKind {
  if (pathname === '/v1' || pathname.startsWith('/v1/')) return 'api';
  if (pathname === '/api/token') return 'token';
  return null;
}

/** Sets the CORS headers of a normal (non-preflight) response. */
export function setCorsHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  kind: CorsKind,
  config: CorsConfig,
) {
  if (kind === 'api') {
    for (const [name, value] of API_CORS_ENTRIES) res.setHeader(name, value);
    if (config.exposeHeaders.length > 0)
      res.setHeader('Access-Control-Expose-Headers', config.exposeHeaders.join(', '));
  } else if (kind === 'token') {
    const origin = req.headers.origin;
    if (config.tokenOrigin === 'echo' && origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    } else {
      res.setHeader('Access-Control-Allow-Origin', '*');
    }
  }
}

/** Answers an OPTIONS request on a CORS path. */
export function answerPreflight(res: ServerResponse, kind: 'api' | 'token'): void {
  if (kind === 'api') {
    res.writeHead(200, {
      ...API_CORS_HEADERS,
      'Content-Length': '0',
      server: 'envoy',
      via: 'HTTP/2 edgeproxy, 1.1 google',
    });
  } else {
    res.writeHead(204, { 'Cache-Control': 'no-store' });
  }
  res.end();
}
