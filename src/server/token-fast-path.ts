import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenManager } from '../tokens/token-manager.js';
import type { SessionStore } from './sessions.js';
import { tokenResponse } from './token-response.js';

/**
 * `GET /token` is the server's hot path: browser code (e.g. the Web Playback SDK) asks for the token
 * again and again. When the request carries a live session and this process has that user's valid token
 * cached, it is answered straight from node:http — the same session check, the same headers and the same
 * JSON as the Fastify route, without the framework's per-request pipeline. Anything else (no or unknown
 * session, a token to read from the store or refresh, any other request) returns false and goes through
 * Fastify, where the full route handles it.
 */
export function createTokenFastPath(options: {
  sessions: SessionStore;
  tokens: TokenManager;
  sessionCookie: string;
  /** The headers every response of the app carries (baseHeaders). */
  baseHeaders: Readonly<Record<string, string>>;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { sessions, tokens, sessionCookie } = options;
  const jsonHeaders: Readonly<Record<string, string>> = {
    ...options.baseHeaders,
    'cache-control': 'no-store',
    'content-type': 'application/json; charset=utf-8',
  };
  const prefix = `${sessionCookie}=`;
  // The body only changes with the token or the second (expires_in): serialise it, and build its headers,
  // once per second per user. (Building the headers per request by spreading an object cost microseconds.)
  const responses = new Map<
    string,
    { accessToken: string; second: number; body: string; headers: Record<string, string> }
  >();
  return (req, res) => {
    if (req.url !== '/token' || req.method !== 'GET') return false;
    const sessionId = readCookie(req.headers.cookie, prefix);
    const session = sessionId === undefined ? undefined : sessions.getSession(sessionId);
    if (!session) return false;
    const token = tokens.peekToken(session.userKey);
    if (!token) return false;
    const second = Math.floor(Date.now() / 1000);
    let cached = responses.get(session.userKey);
    if (!cached || cached.second !== second || cached.accessToken !== token.accessToken) {
      if (responses.size >= 10_000) responses.clear();
      const body = JSON.stringify(tokenResponse(token));
      const headers = { ...jsonHeaders, 'content-length': String(Buffer.byteLength(body)) };
      cached = { accessToken: token.accessToken, second, body, headers };
      responses.set(session.userKey, cached);
    }
    res.writeHead(200, cached.headers);
    res.end(cached.body);
    return true;
  };
}

/**
 * The value of one cookie, or undefined (also when the name appears twice: let the full path decide).
 * A scan rather than split/trim: no array or substrings per request.
 */
function readCookie(header: string | undefined, prefix: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    let nameStart = start;
    while (header.charCodeAt(nameStart) === 32 || header.charCodeAt(nameStart) === 9) nameStart++;
    if (header.startsWith(prefix, nameStart)) {
      if (found !== undefined) return undefined;
      found = header.slice(nameStart + prefix.length, end).trimEnd();
    }
    start = end + 1;
  }
  return found;
}
