import { isSpotauthError } from '../core/errors.js';

// Runtime-neutral (no node: imports): the browser client and the Web API fetch retry with these too.

/**
 * How transient failures (Spotify 5xx, timeouts, network errors, 429) are retried. Terminal failures
 * (e.g. `INVALID_GRANT`) are never retried.
 */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** First backoff, ms; doubles each time, with full jitter in [50%, 100%]. */
  baseDelayMs: number;
  /** Ceiling of one backoff, ms. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is surfaced instead. */
  maxRetryAfterMs: number;
}

/**
 * 3 attempts; backoff from 200 ms, at most 2 s; a Retry-After of more than 5 s is surfaced, not waited out.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 5_000,
};

/** Random integer in [min, max], from the CSPRNG (Math.random is banned project-wide). */
export function jitter(min: number, max: number): number {
  if (max <= min) return min;
  // Rejection sampling over 32-bit values, so every integer in the range is equally likely.
  const range = max - min + 1;
  const limit = 2 ** 32 - (2 ** 32 % range);
  const word = new Uint32Array(1);
  let value: number;
  do value = crypto.getRandomValues(word)[0] ?? limit;
  while (value >= limit);
  return min + (value % range);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff for the given attempt (1-based), with jitter in [50%, 100%] of the ceiling. */
export function backoffDelay(policy: { baseDelayMs: number; maxDelayMs: number }, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return jitter(Math.floor(ceiling / 2), ceiling);
}

/**
 * An attempt started with less time than this before the deadline could hardly finish; it is not started.
 * (A quarter of the whole budget when that is shorter, so short timeouts still allow retries.)
 */
export const MIN_ATTEMPT_MS = 1_000;

/**
 * Runs `attempt`, retrying only transient SpotauthErrors (5xx, timeout, network, 429), with jittered
 * exponential backoff, honouring Retry-After up to the cap. `deadline` (epoch ms on the caller's clock
 * `now`) bounds the whole run, attempts included: each attempt is given the time left as its timeout, and
 * no retry starts (or sleeps) past the deadline, nor once `stop` is aborted (the caller lost its lock).
 * An attempt already under way is never cut short by `stop`: its answer may carry a rotated refresh token.
 */
export async function withRetries<T>(
  attempt: (timeLeftMs: number) => Promise<T>,
  policy: RetryPolicy,
  deadline: number,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
  stop?: AbortSignal,
): Promise<T> {
  const minAttemptMs = Math.min(MIN_ATTEMPT_MS, Math.max(0, deadline - now()) / 4);
  for (let index = 1; ; index++) {
    try {
      return await attempt(Math.max(1, deadline - now()));
    } catch (error) {
      if (!isSpotauthError(error) || !error.transient || index >= policy.maxAttempts) throw error;
      if (stop?.aborted) throw error;
      let wait: number;
      if (error.retryAfter !== undefined) {
        wait = error.retryAfter * 1000;
        if (wait > policy.maxRetryAfterMs) throw error;
      } else {
        wait = backoffDelay(policy, index);
      }
      if (now() + wait + minAttemptMs > deadline) throw error;
      await sleep(wait);
      if (stop?.aborted || now() + minAttemptMs > deadline) throw error;
    }
  }
}
