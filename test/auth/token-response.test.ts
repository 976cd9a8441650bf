import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenBodies } from '../../src/auth/token-response.js';

const token = (accessToken: string, expiresAt: number) => ({
  accessToken,
  expiresAt,
  scope: ['user-read-private', 'user-top-read'],
});

describe('TokenBodies: the token JSON, serialised once per second per user', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the same body within a second; a new token or the next second gives a new one at once', () => {
    vi.useFakeTimers({ now: Date.UTC(2030, 0, 1, 12, 0, 0, 100) });
    const bodies = new TokenBodies();
    const first = token('BQ-first', Date.now() + 3_600_000);
    const body = bodies.get('user:a', first);
    expect(JSON.parse(body)).toEqual({
      access_token: 'BQ-first',
      token_type: 'Bearer',
      expires_at: new Date(first.expiresAt).toISOString(),
      expires_in: 3600,
      scope: 'user-read-private user-top-read',
    });
    vi.advanceTimersByTime(800);
    expect(bodies.get('user:a', first)).toBe(body);
    // A refresh in the same second: the new token is handed out straight away.
    const second = token('BQ-second', Date.now() + 3_600_000);
    expect(JSON.parse(bodies.get('user:a', second)).access_token).toBe('BQ-second');
    vi.advanceTimersByTime(200);
    expect(JSON.parse(bodies.get('user:a', second)).expires_in).toBe(3599);
    // Users never share a body.
    expect(JSON.parse(bodies.get('user:b', first)).access_token).toBe('BQ-first');
  });
});
