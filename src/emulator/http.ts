import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies above this get 413: no legitimate accounts-service request comes close. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Beyond this we stop draining and drop the connection instead of reading an attacker's upload. */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/** Reads the whole body, refusing (but draining, so the client sees the 413) anything over the cap. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
      resolve({ ok: false, reason: 'too_large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        if (size > MAX_DRAIN_BYTES) {
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(tooLarge ? { ok: false, reason: 'too_large' } : { ok: true, body: Buffer.concat(chunks) }),
    );
    req.on('error', () => resolve({ ok: false, reason: tooLarge ? 'too_large' : 'aborted' }));
    req.on('close', () => {
      if (!req.complete) resolve({ ok: false, reason: tooLarge ? 'too_large' : 'aborted' });
    });
  });
}

/** Sends a body once; every response goes through here so headers stay consistent. */
export function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string | number | string[]> = {},
): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  // A string goes out as it is: node:http writes the head and a string body in one write, where a Buffer
  // would first be a copy of the body and then a second chunk.
  const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  res.writeHead(status, { 'Content-Length': length, ...headers });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string | number | string[]> = {},
): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

/** The Web API error object (FACTS §3.3), also used for the emulator's own 404/405. */
export function sendApiError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { status, message } });
}

export function redirect(
  res: ServerResponse,
  status: 302 | 303,
  location: string,
  headers: Record<string, string | string[]> = {},
): void {
  send(res, status, '', { Location: location, 'Cache-Control': 'no-store', ...headers });
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header || header.length > 8192) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Content-Type without parameters, lower-cased. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Form fields, or null when a field repeats (RFC 6749 §3.2: parameters MUST NOT be included more than once). */
export function parseForm(body: Buffer | string): Map<string, string> | null {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body.toString())) {
    if (fields.has(key)) return null;
    fields.set(key, value);
  }
  return fields;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
