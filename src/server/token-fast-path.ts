import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenManager } from '../tokens/token-manager.js';
import { BASE_HEADERS } from './security.js';
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
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { sessions, tokens, sessionCookie } = options;
  const prefix = `${sessionCookie}=`;
  // The body only changes with the token or the second (expires_in): serialise it once per second per user.
  const bodies = new Map<string, { accessToken: string; second: number; body: string }>();
  return (req, res) => {
    if (req.url !== '/token' || req.method !== 'GET') return false;
    const sessionId = readCookie(req.headers.cookie, prefix);
    const session = sessionId === undefined ? undefined : sessions.getSession(sessionId);
    if (!session) return false;
    const token = tokens.peekToken(session.userKey);
    if (!token) return false;
    const second = Math.floor(Date.now() / 1000);
    let cached = bodies.get(session.userKey);
    if (!cached || cached.second !== second || cached.accessToken !== token.accessToken) {
      if (bodies.size >= 10_000) bodies.clear();
      cached = { accessToken: token.accessToken, second, body: JSON.stringify(tokenResponse(token)) };
      bodies.set(session.userKey, cached);
    }
    const body = cached.body;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return true;
  };
}

/** The value of one cookie, or undefined (also when the name appears twice: let the full path decide). */
function readCookie(header: string | undefined, prefix: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const trimmed = part.trim();
    if (!trimmed.startsWith(prefix)) continue;
    if (found !== undefined) return undefined;
    found = trimmed.slice(prefix.length);
  }
  return found;
}
