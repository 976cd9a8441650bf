import { SpotauthError } from './errors.js';

/**
 * A request that got no answer at all — the token endpoint's, the Web API client's, the broker proxy's —
 * as one transient SpotauthError: TIMEOUT for a timeout or an abort, NETWORK for anything else, with the
 * system's error code (e.g. ECONNREFUSED) when the failure carries one. Runtime-neutral.
 *
 * @param service - Named in the message: "Spotify's accounts service", "Spotify's Web API".
 * @param timeout - The timeout that ran out, for the message (e.g. `150 ms (timeoutMs)`); without it, "in time".
 */
export function networkError(error: unknown, service: string, timeout?: string): SpotauthError {
  if (error instanceof SpotauthError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    const within = name === 'TimeoutError' && timeout ? `within ${timeout}` : 'in time';
    return new SpotauthError('TIMEOUT', `${service} did not answer ${within}.`, { transient: true });
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = cause && typeof cause.code === 'string' ? cause.code : undefined;
  return new SpotauthError('NETWORK', `Could not reach ${service}${code ? ` (${code})` : ''}.`, {
    transient: true,
    cause: code,
  });
}
