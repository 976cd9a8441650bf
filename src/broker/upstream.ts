/**
 * How the Web API proxy sends a request upstream. The default is node:http(s) over a keep-alive agent:
 * the proxy's answer is a Node stream either way, and the global fetch (undici's WHATWG layer, its web
 * streams and their conversion back to a Node stream) cost about as much CPU per proxied call as the rest
 * of the broker together. A `fetch` can still be given (instrumentation, a custom dispatcher).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface UpstreamRequest {
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Aborts the request, and the body while it is read. */
  signal: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  /** One response header (lower-case name), or undefined. */
  header(name: string): string | undefined;
  /** null: the answer has no body to read. */
  body: Readable | null;
}

/** Sends one request; rejects on a network failure or an abort (the error's name tells which). */
export type UpstreamTransport = (url: string, request: UpstreamRequest) => Promise<UpstreamResponse>;

/**
 * node:http or node:https per URL, each over one keep-alive agent for the process' lifetime. The URL must be
 * absolute and normalised (as `WebApiProxy.target` makes it: `new URL(…).href`).
 */
export function nodeUpstream(): UpstreamTransport {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' }),
  };
  // Every call goes to the same origin (the Web API base): its parts are parsed once, and each request
  // names only its path, rather than a URL parsed, and turned back into options, per call.
  const origins = new Map<string, { protocol: string; hostname: string; port: string }>();
  const originOf = (origin: string) => {
    let parts = origins.get(origin);
    if (!parts) {
      const { protocol, hostname, port } = new URL(origin);
      // http.request wants an IPv6 literal without its brackets.
      parts = { protocol, hostname: hostname.replace(/^\[(.*)\]$/, '$1'), port };
      if (origins.size >= 16) origins.clear();
      origins.set(origin, parts);
    }
    return parts;
  };
  return (url, init) =>
    new Promise((resolve, reject) => {
      const pathAt = url.indexOf('/', url.indexOf('//') + 2);
      const { protocol, hostname, port } = originOf(pathAt === -1 ? url : url.slice(0, pathAt));
      const hashAt = url.indexOf('#'); // a fragment is never sent
      const send = protocol === 'https:' ? httpsRequest : httpRequest;
      const agent = protocol === 'https:' ? agents['https:'] : agents['http:'];
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = String(init.body.byteLength);
      const req = send(
        {
          protocol,
          hostname,
          port,
          path: pathAt === -1 ? '/' : url.slice(pathAt, hashAt === -1 ? undefined : hashAt),
          method: init.method,
          headers,
          agent,
          signal: init.signal,
        },
        (res: IncomingMessage) => {
          resolve({
            status: res.statusCode ?? 502,
            header: (name) => {
              const value = res.headers[name];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            body: res,
          });
        },
      );
      req.once('error', reject);
      req.end(init.body);
    });
}

/** A transport over a WHATWG fetch (redirects are not followed: the proxy passes them through). */
export function fetchUpstream(fetcher: typeof fetch): UpstreamTransport {
  return async (url, init) => {
    const response = await fetcher(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: init.signal,
    });
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      body: response.body
        ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>, {
            signal: init.signal,
          })
        : null,
    };
  };
}
