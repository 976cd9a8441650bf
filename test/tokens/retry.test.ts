/** The retry loop under the refresh lease, on a simulated clock: it never runs past its deadline or its lease. */
import { describe, expect, it } from 'vitest';
import { SpotauthError } from '../../src/core/errors.js';
import { DEFAULT_RETRY, MIN_ATTEMPT_MS, withRetries } from '../../src/tokens/retry.js';

const transient = () => new SpotauthError('SPOTIFY_UNAVAILABLE', 'down', { transient: true });

/** A clock that only moves when the code under test sleeps or an attempt "takes time". */
function simulated() {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    spend: (ms: number) => {
      now += ms;
    },
  };
}

describe('withRetries', () => {
  it('gives each attempt the time left before the deadline as its timeout', async () => {
    const clock = simulated();
    const deadline = clock.now() + 30_000;
    const timeouts: number[] = [];
    await expect(
      withRetries(
        async (timeLeftMs) => {
          timeouts.push(timeLeftMs);
          clock.spend(Math.min(12_000, timeLeftMs)); // an attempt that hangs until it times out
          throw transient();
        },
        { ...DEFAULT_RETRY, maxAttempts: 10 },
        deadline,
        clock.now,
        clock.sleep,
      ),
    ).rejects.toMatchObject({ code: 'SPOTIFY_UNAVAILABLE' });
    expect(timeouts[0]).toBe(30_000);
    // No attempt started with less than MIN_ATTEMPT_MS left, and none after the deadline.
    expect(timeouts.every((t) => t >= MIN_ATTEMPT_MS)).toBe(true);
    expect(timeouts.length).toBe(3);
    expect(clock.now()).toBeLessThanOrEqual(deadline);
  });

  it('checks the deadline after sleeping as well as before (a long Retry-After cannot carry it past)', async () => {
    const clock = simulated();
    const deadline = clock.now() + 3_000;
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          clock.spend(1_500);
          throw new SpotauthError('RATE_LIMITED', 'slow down', { transient: true, retryAfterSeconds: 1 });
        },
        { ...DEFAULT_RETRY, maxAttempts: 10 },
        deadline,
        clock.now,
        clock.sleep,
      ),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(attempts).toBe(1);
  });

  it('starts no new attempt once the lease is lost, but never cuts one short', async () => {
    const clock = simulated();
    const lost = new AbortController();
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          lost.abort(); // the lease is lost while this attempt is out; it still completes
          throw transient();
        },
        { ...DEFAULT_RETRY, maxAttempts: 5 },
        clock.now() + 30_000,
        clock.now,
        clock.sleep,
        lost.signal,
      ),
    ).rejects.toMatchObject({ code: 'SPOTIFY_UNAVAILABLE' });
    expect(attempts).toBe(1);
    const result = await withRetries(
      async () => {
        lost.abort();
        return 'answer kept';
      },
      DEFAULT_RETRY,
      clock.now() + 30_000,
      clock.now,
      clock.sleep,
      new AbortController().signal,
    );
    expect(result).toBe('answer kept');
  });

  it('retries transient failures with backoff, up to maxAttempts', async () => {
    const clock = simulated();
    let attempts = 0;
    const value = await withRetries(
      async () => {
        if (++attempts < 3) throw transient();
        return attempts;
      },
      DEFAULT_RETRY,
      clock.now() + 30_000,
      clock.now,
      clock.sleep,
    );
    expect(value).toBe(3);
    expect(clock.now()).toBeGreaterThan(1_000_000);
  });
});
