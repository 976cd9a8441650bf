/** Node's http request and response, seen by the handler (Express and Connect sit on these). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthRequest, type AuthResponse, readForm } from '../auth/http.js';

/** A `node:http` request, with what Express adds when it is there. */
export type NodeRequest = IncomingMessage & {
  /** Express's client address (honours its `trust proxy`); else the socket's. */
  ip?: string;
  /** A body some middleware already parsed; the handler reads the stream itself otherwise. */
  body?: unknown;
  /** Express: the URL before a mounted router rewrote `url`. */
  originalUrl?: string;
};

export function fromNode(req: NodeRequest): AuthRequest {
  return {
    method: req.method ?? 'GET',
    // Express rewrites req.url under a mounted router; originalUrl is what the client sent.
    url: req.originalUrl ?? req.url ?? '/',
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    ip: req.ip ?? req.socket.remoteAddress,
    form: async () => {
      // A body parser that ran before us (express.urlencoded) left an object; else read the stream ourselves.
      if (req.body !== undefined && req.body !== null && typeof req.body === 'object') {
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(req.body as Record<string, unknown>))
          if (typeof value === 'string') form.append(key, value);
        return form;
      }
      return readForm(req.headers['content-type'], req);
    },
  };
}

export function sendToNode(res: ServerResponse, response: AuthResponse): void {
  const headers: Record<string, string | string[]> = { ...response.headers };
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
  headers['content-length'] = String(Buffer.byteLength(response.body));
  res.writeHead(response.status, headers);
  res.end(response.body);
}
