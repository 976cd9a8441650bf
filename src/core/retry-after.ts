/**
 * Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or undefined when there is
 * none or it does not parse.
 *
 * @param now - The clock for HTTP dates, epoch milliseconds. Default `Date.now()`.
 * @see [RFC 9110 §10.2.3 (Retry-After)](https://www.rfc-editor.org/rfc/rfc9110.html#section-10.2.3)
 * @see [Spotify: Rate limits](https://developer.spotify.com/documentation/web-api/concepts/rate-limits)
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
