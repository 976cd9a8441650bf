/**
 * The Web API proxy behind `ANY /api/v1/users/{id}/spotify/{path}`: the user's token on a request to a path
 * under the configured Web API base, and Spotify's answer passed back.
 *
 * - Paths: only plain paths under the base. Absolute URLs, `..` and `.` (raw or percent-encoded, also
 *   double-encoded), encoded slashes and backslashes, empty segments and characters outside RFC 3986's
 *   `pchar` are refused with 400 `invalid_proxy_path` before anything is sent; the URL is built by string
 *   concatenation and checked again after parsing (origin and path unchanged), so no normalisation by the
 *   URL parser can move it elsewhere.
 * - The api client's semantics (src/api/authorized-fetch.ts), adapted to a pass-through: a 401 → one forced
 *   refresh and one retry (a second 401 is passed through); a 429 is passed through with its Retry-After and
 *   starts the process-wide cooldown of the api client, during which requests are answered 429 here without
 *   calling Spotify; a 5xx or a network failure on an idempotent method → the client's jittered backoff, up
 *   to its attempt limit, then the last answer is passed through (a network failure or timeout becomes 503).
 * - Passed through: status, body, Content-Type, Retry-After, ETag. Every answer carries
 *   `x-spotauth-source: spotify` (Spotify's answer) or `broker` (the broker's own refusal).
 * - Bodies: the request body is buffered, up to `maxRequestBytes` (413 beyond), because a retry after a 401
 *   or 5xx must send it again — Spotify's request bodies are small JSON documents or a ≤ 256 KB image. A
 *   response body of up to 64 KiB (nearly every Web API answer) is read whole and sent in one piece with its
 *   Content-Length; a longer one is streamed. Past `maxResponseBytes` it is refused (502 up front when
 *   Content-Length says so; otherwise the connection is closed mid-body, since the status has been sent).
 * - Every attempt has a timeout (`timeoutMs`, covering the body too), and a client that goes away
 *   (`ProxyClient.leave`) aborts the upstream request.
 */
import { Readable, Transform } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ApiRetryOptions,
  DEFAULT_API_RETRY,
  type RateLimitCooldown,
  sharedCooldown,
  WEB_API,
} from '../api/authorized-fetch.js';
import { SpotauthError } from '../core/errors.js';
import { networkError } from '../core/network-error.js';
import { parseRetryAfter } from '../core/retry-after.js';
import { backoffDelay } from '../tokens/retry.js';
import type { TokenManager } from '../tokens/token-manager.js';
import { refuse } from './errors.js';
import { fetchUpstream, nodeUpstream, type UpstreamResponse, type UpstreamTransport } from './upstream.js';

export interface ProxyLimits {
  /** Request bodies above this get 413. Default 1 MiB. */
  maxRequestBytes: number;
  /** Response bodies above this are refused (502) or cut off. Default 10 MiB. */
  maxResponseBytes: number;
  /** Per upstream attempt, body included. Default 30 s. */
  timeoutMs: number;
}

export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
};

export interface ProxyOptions extends Partial<ProxyLimits> {
  tokens: TokenManager;
  /** The Web API base. Default: the token manager's configured apiUrl. */
  apiUrl?: string;
  retry?: Partial<ApiRetryOptions>;
  /** Default: the api client's process-wide cooldown for this API URL. */
  cooldown?: RateLimitCooldown;
  /** How requests go upstream. Default: node:http(s) over a keep-alive agent (upstream.ts). */
  upstream?: UpstreamTransport;
  /** Send upstream through this fetch instead (ignored when `upstream` is given). */
  fetch?: typeof fetch;
}

export interface ProxyRequest {
  method: string;
  /** The grant's store key, `user:<account>`. */
  user: string;
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer | undefined;
  /** The client that asked (its leaving stops the upstream request). */
  client: ProxyClient;
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  /** null: no body (HEAD, 204, 304). */
  body: Readable | Buffer | string | null;
}

/** pchar of RFC 3986 (unreserved, pct-encoded, sub-delims, ":" and "@"). */
const SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE_DECODED = /[/\\\u0000-\u001f\u007f]|%(2f|5c|2e)/i;
const MAX_PATH = 2048;
const MAX_QUERY = 8192;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'accept-language', 'if-none-match'];
const PASSED_RESPONSE_HEADERS = ['content-type', 'retry-after', 'etag'];
const MAX_RATE_LIMIT_BODY = 4096;
/** Answers up to this size are read whole and sent in one piece; longer ones are streamed. */
const BUFFERED_BYTES = 64 * 1024;

export class WebApiProxy {
  readonly base: URL;
  readonly limits: ProxyLimits;
  readonly #tokens: TokenManager;
  readonly #retry: ApiRetryOptions;
  readonly #cooldown: RateLimitCooldown;
  readonly #upstream: UpstreamTransport;
  readonly #baseHref: string;

  constructor(options: ProxyOptions) {
    this.#tokens = options.tokens;
    this.#baseHref = (options.apiUrl ?? options.tokens.auth.config.apiUrl.href).replace(/\/+$/, '');
    this.base = new URL(this.#baseHref);
    this.limits = {
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_PROXY_LIMITS.maxRequestBytes,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_PROXY_LIMITS.maxResponseBytes,
      timeoutMs: options.timeoutMs ?? DEFAULT_PROXY_LIMITS.timeoutMs,
    };
    this.#retry = { ...DEFAULT_API_RETRY, ...options.retry };
    this.#cooldown = options.cooldown ?? sharedCooldown(this.#baseHref);
    this.#upstream = options.upstream ?? (options.fetch ? fetchUpstream(options.fetch) : nodeUpstream());
  }

  /**
   * The upstream URL for a raw (still percent-encoded) path and query as the client sent them, and the path
   * relative to the API base (for the scope check). Throws 400 `invalid_proxy_path`.
   */
  target(rawPath: string, rawQuery: string | undefined): { url: string; apiPath: string } {
    const invalid = (why: string) =>
      refuse('invalid_proxy_path', `The Web API path is refused: ${why}. Nothing was sent to Spotify.`);
    if (rawPath === '') throw invalid('it is empty (name a path such as me/top/tracks)');
    if (rawPath.length > MAX_PATH) throw invalid(`it is longer than ${MAX_PATH} characters`);
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(rawPath)) throw invalid('it is an absolute URL');
    if (rawPath.includes('\\')) throw invalid('it contains a backslash');
    for (const segment of rawPath.split('/')) {
      if (segment === '') throw invalid('it has an empty segment ("//" or a trailing "/")');
      if (!SEGMENT.test(segment) || BAD_ESCAPE.test(segment))
        throw invalid('it contains characters that are not allowed in a path');
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw invalid('it contains a malformed percent-escape');
      }
      if (decoded === '.' || decoded === '..') throw invalid('it contains a "." or ".." segment');
      if (UNSAFE_DECODED.test(decoded))
        throw invalid('it contains an encoded slash, backslash, dot escape or control character');
    }
    if (rawQuery !== undefined && rawQuery.length > MAX_QUERY)
      throw refuse('bad_request', `The query string is longer than ${MAX_QUERY} characters.`);
    const path = `${this.base.pathname.replace(/\/+$/, '')}/${rawPath}`;
    const url = `${this.#baseHref}/${rawPath}${rawQuery ? `?${rawQuery}` : ''}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid('it does not form a URL');
    }
    if (parsed.origin !== this.base.origin || parsed.pathname !== path)
      throw invalid('it would leave the Web API');
    return { url: parsed.href, apiPath: `/${rawPath}` };
  }

  async send(request: ProxyRequest): Promise<ProxyAnswer> {
    const method = request.method.toUpperCase();
    const idempotent = IDEMPOTENT.has(method);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const body = method === 'GET' || method === 'HEAD' ? undefined : request.body;
    let refreshed = false;
    let forceRefresh = false;
    for (let attempt = 1; ; attempt++) {
      const wait = this.#cooldown.remainingMs();
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        throw new SpotauthError(
          'RATE_LIMITED',
          `Spotify is rate limiting this app; try again in ${seconds} s (answered by the broker without calling Spotify).`,
          { status: 429, transient: true, retryAfterSeconds: seconds },
        );
      }
      const token = forceRefresh
        ? (await this.#tokens.refreshNow(request.user)).accessToken
        : await this.#tokens.getAccessToken(request.user);
      forceRefresh = false;
      const deadline = attemptDeadline(request.client, this.limits.timeoutMs);
      // A body still being read (streamed to the client, or drained after a 401 or 5xx) keeps the
      // attempt's deadline until it closes, so a body that stalls is still cut off in time.
      let openBody: Readable | null = null;
      try {
        let response: UpstreamResponse;
        try {
          response = await this.#upstream(request.url, {
            method,
            headers: { ...headers, authorization: `Bearer ${token}` },
            body,
            signal: deadline.signal,
          });
        } catch (error) {
          if (request.client.gone) throw error;
          if (idempotent && attempt < this.#retry.maxAttempts) {
            await delay(backoffDelay(this.#retry, attempt));
            continue;
          }
          throw networkError(error, WEB_API);
        }
        if (response.status === 401 && !refreshed) {
          openBody = discard(response);
          refreshed = true;
          forceRefresh = true;
          continue;
        }
        if (response.status >= 500 && idempotent && attempt < this.#retry.maxAttempts) {
          openBody = discard(response);
          await delay(backoffDelay(this.#retry, attempt));
          continue;
        }
        if (response.status === 429) return await this.#rateLimited(response);
        const answer = await this.#answer(response, method, request.client, deadline.signal);
        if (answer.body instanceof Readable) openBody = answer.body;
        return answer;
      } finally {
        if (openBody && !openBody.closed) openBody.once('close', deadline.release);
        else deadline.release();
      }
    }
  }

  /** A 429 is passed through whole (it is small), after its Retry-After has started the cooldown. */
  async #rateLimited(response: UpstreamResponse): Promise<ProxyAnswer> {
    const text = await readText(response.body, MAX_RATE_LIMIT_BODY).catch(() => '');
    const retryAfter = parseRetryAfter(response.header('retry-after') ?? null) ?? 1;
    this.#cooldown.extend(Date.now() + retryAfter * 1000, rateLimitReason(text));
    const headers = passedHeaders(response);
    headers['retry-after'] ??= String(Math.ceil(retryAfter));
    return { status: 429, headers, body: text };
  }

  async #answer(
    response: UpstreamResponse,
    method: string,
    client: ProxyClient,
    attemptSignal: AbortSignal,
  ): Promise<ProxyAnswer> {
    const headers = passedHeaders(response);
    const status = response.status;
    const body = response.body;
    if (!body || method === 'HEAD' || status === 204 || status === 304) {
      discard(response);
      return { status, headers, body: null };
    }
    const cap = this.limits.maxResponseBytes;
    const length = Number(response.header('content-length') ?? Number.NaN);
    if (length > cap) {
      body.destroy();
      throw refuse(
        'upstream_too_large',
        `Spotify's answer (${length} bytes) is larger than the proxy's limit of ${cap} bytes.`,
      );
    }
    // Most Web API answers are small JSON documents: read whole, each goes out in one write with its
    // Content-Length (a stream costs a chunked encoding, its extra write and the stream machinery, which
    // was most of the proxy's cost per request). Anything longer is streamed: what was read, then the rest.
    let head: { chunks: Buffer[]; bytes: number; done: boolean };
    try {
      head = await readUpTo(body, Math.min(BUFFERED_BYTES, cap));
    } catch (error) {
      if (client.gone) throw error;
      // The body stopped coming: a timeout when the attempt's time ran out (the stream's own error only
      // says it was destroyed), otherwise a network failure.
      throw networkError(attemptSignal.aborted ? attemptSignal.reason : error, WEB_API);
    }
    if (head.done) return { status, headers, body: Buffer.concat(head.chunks, head.bytes) };
    if (head.bytes > cap) {
      // Known before anything was sent: a clear refusal rather than a cut-off answer.
      body.destroy();
      throw refuse(
        'upstream_too_large',
        `Spotify's answer is larger than the proxy's limit of ${cap} bytes.`,
      );
    }
    let seen = 0;
    const capped = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > cap) done(new ResponseTooLarge(cap));
        else done(null, chunk);
      },
    });
    for (const chunk of head.chunks) {
      seen += chunk.length;
      capped.push(chunk);
    }
    body.on('error', (error) => capped.destroy(error));
    capped.on('close', () => body.destroy());
    return { status, headers, body: body.pipe(capped) };
  }
}

/**
 * The client of one proxied request: the route calls `leave` when it goes away, and the attempt under way
 * stops. A plain flag and one listener, not an AbortSignal: signals (EventTargets) cost the broker several
 * microseconds each to make and to listen to, and a proxied call needed three.
 */
export class ProxyClient {
  gone = false;
  #listener: (() => void) | undefined;

  leave(): void {
    if (this.gone) return;
    this.gone = true;
    this.#listener?.();
  }

  /** One listener at a time (attempts follow each other), called at once if already gone; returns its removal. */
  onLeave(listener: () => void): () => void {
    if (this.gone) {
      listener();
      return () => {};
    }
    this.#listener = listener;
    return () => {
      if (this.#listener === listener) this.#listener = undefined;
    };
  }
}

/**
 * One attempt's signal (what the upstream transport takes): aborted when the client goes away or when
 * `timeoutMs` have passed, until released. One controller and one timer, instead of AbortSignal.any over
 * AbortSignal.timeout, whose weak references and finalizers showed in the broker's profile.
 */
function attemptDeadline(client: ProxyClient, timeoutMs: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const stopListening = client.onLeave(() =>
    controller.abort(new DOMException('The client went away.', 'AbortError')),
  );
  const timer = setTimeout(
    () => controller.abort(new DOMException('The Web API did not answer in time.', 'TimeoutError')),
    timeoutMs,
  );
  timer.unref();
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      stopListening();
    },
  };
}

/**
 * Reads a stream until it ends or more than `limit` bytes have come, then leaves it paused. Resolves with
 * what was read and whether the stream ended; rejects when it fails or is destroyed first.
 */
function readUpTo(
  stream: Readable,
  limit: number,
): Promise<{ chunks: Buffer[]; bytes: number; done: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > limit) {
        stop();
        stream.pause();
        resolve({ chunks, bytes, done: false });
      }
    };
    const onEnd = () => {
      stop();
      resolve({ chunks, bytes, done: true });
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    // Destroyed without an error (an abort): the read must not hang.
    const onClose = () =>
      onError(Object.assign(new Error('The answer was cut off.'), { name: 'AbortError' }));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** The body as text, at most `max` bytes of it (the rest is dropped). */
async function readText(body: Readable | null, max: number): Promise<string> {
  if (!body) return '';
  const { chunks, bytes, done } = await readUpTo(body, max);
  if (!done) body.destroy();
  return Buffer.concat(chunks, bytes).toString('utf8').slice(0, max);
}

/**
 * An answer that is not passed on: its body is drained, so its keep-alive connection can be reused.
 * Returns the body being drained (null when there is none).
 */
function discard(response: UpstreamResponse): Readable | null {
  return response.body?.resume() ?? null;
}

/** Raised inside the response stream when Spotify's body passes the cap (the connection is then closed). */
export class ResponseTooLarge extends Error {
  constructor(readonly cap: number) {
    super(`Spotify's answer passed the proxy's limit of ${cap} bytes and was cut off.`);
    this.name = 'ResponseTooLarge';
  }
}

function passedHeaders(response: UpstreamResponse): Record<string, string> {
  const headers: Record<string, string> = { 'x-spotauth-source': 'spotify' };
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = response.header(name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

function rateLimitReason(text: string): string | undefined {
  try {
    const reason = (JSON.parse(text) as { error?: { reason?: unknown } }).error?.reason;
    return typeof reason === 'string' ? reason.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
