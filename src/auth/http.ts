/**
 * The handler's view of HTTP, with no framework in it: each adapter turns its framework's request into an
 * `AuthRequest` and writes the `AuthResponse` back. Small on purpose, so an adapter is a few lines and the
 * hot path allocates little.
 */

export interface AuthRequest {
  /** Upper-case method. */
  method: string;
  /** Path and query as the client sent them, e.g. `/auth/spotify/callback?code=…&state=…`. */
  url: string;
  /** A request header by lower-case name (the first value if repeated). */
  header(name: string): string | undefined;
  /** The client's address as the framework determined it (its trust-proxy setting applies), if known. */
  ip?: string | undefined;
  /** The urlencoded form body of a POST, or null when there is none (read at most once, size-capped). */
  form(): Promise<URLSearchParams | null>;
}

/** The handler's answer, for an adapter to write out in its framework's terms. */
export interface AuthResponse {
  /** The HTTP status. */
  status: number;
  /** Response headers (lower-case names), cookies excepted. */
  headers: Record<string, string>;
  /** Set-Cookie header values. */
  cookies: string[];
  /** The body: HTML, JSON or empty. */
  body: string;
}

/** Bodies above this are refused with 413 (SECURITY §7.2: ≤16 KiB on auth routes). */
export const MAX_FORM_BYTES = 16 * 1024;

export class BodyTooLarge extends Error {}

/** The path of a request URL: what comes before the query. */
export function pathOf(url: string): string {
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

export function response(
  status: number,
  body: string,
  headers: Record<string, string>,
  cookies: string[] = [],
): AuthResponse {
  return { status, headers, cookies, body };
}

/**
 * The value of one cookie, or undefined — also when the name appears twice (a planted duplicate must not
 * decide which value wins). A scan rather than split/trim: nothing allocated per cookie.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const prefix = `${name}=`;
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

export interface CookieAttributes {
  secure: boolean;
  /** Seconds; 0 deletes the cookie; undefined = a browser-session cookie. */
  maxAgeSeconds?: number | undefined;
}

/** `Path=/; HttpOnly; SameSite=Lax` always (SECURITY §3.1); values are our own base64url ids. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  let cookie = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`;
  if (attributes.secure) cookie += '; Secure';
  if (attributes.maxAgeSeconds !== undefined) {
    cookie += `; Max-Age=${Math.floor(attributes.maxAgeSeconds)}`;
    if (attributes.maxAgeSeconds <= 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  return cookie;
}

/** Reads a urlencoded body from a byte stream, refusing (BodyTooLarge) beyond MAX_FORM_BYTES. */
export async function readForm(
  contentType: string | undefined,
  chunks: AsyncIterable<Uint8Array | string>,
): Promise<URLSearchParams | null> {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return null;
  const parts: Uint8Array[] = [];
  let size = 0;
  const encoder = new TextEncoder();
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_FORM_BYTES) throw new BodyTooLarge('form body too large');
    parts.push(bytes);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return new URLSearchParams(new TextDecoder().decode(all));
}
