import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCookie } from '../auth/http.js';
import { isOwnHost } from '../auth/security.js';
import type { SessionManager } from '../auth/sessions.js';
import { tokenResponse } from '../auth/token-response.js';
import type { TokenManager } from '../tokens/token-manager.js';

/**
 * `GET /token` is the server's hot path: browser code (e.g. the Web Playback SDK) asks for the token
 * again and again. When this process read the request's session within the session cache time and has
 * that user's valid token cached, it is answered straight from node:http — the same session check, the
 * same headers and the same JSON as the handler's route, without the framework's per-request pipeline.
 * Anything else (no or unknown session, a session or token to read from the store, another Host, any other
 * request) returns false and goes through Fastify, where the full route handles it.
 */
export function createTokenFastPath(options: {
  sessions: SessionManager;
  tokens: TokenManager;
  sessionCookie: string;
  /** The headers every response of the app carries (baseHeaders). */
  baseHeaders: Readonly<Record<string, string>>;
  publicUrl: URL;
  /** Whether X-Forwarded-Host names the host (SPOTAUTH_TRUST_PROXY), as it does for Fastify. */
  trustProxy: boolean;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { sessions, tokens, sessionCookie, publicUrl, trustProxy } = options;
  const jsonHeaders: Readonly<Record<string, string>> = {
    ...options.baseHeaders,
    'cache-control': 'no-store',
    'content-type': 'application/json; charset=utf-8',
  };
  // The body only changes with the token or the second (expires_in): serialise it, and build its headers,
  // once per second per user. (Building the headers per request by spreading an object cost microseconds.)
  const responses = new Map<
    string,
    { accessToken: string; second: number; body: string; headers: Record<string, string> }
  >();
  return (req, res) => {
    if (req.url !== '/token' || req.method !== 'GET') return false;
    // The app's Host check (DNS rebinding), answered the same way: a request this path does not
    // recognise as for this server goes to Fastify, which refuses it or, for a list of forwarded hosts,
    // reads it its own way.
    const forwarded = trustProxy ? req.headers['x-forwarded-host'] : undefined;
    if (Array.isArray(forwarded) || !isOwnHost(forwarded ?? req.headers.host, publicUrl)) return false;
    const session = sessions.peek(readCookie(req.headers.cookie, sessionCookie));
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
