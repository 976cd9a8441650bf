import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_API_TIMEOUT_MS } from '../../src/api/authorized-fetch.js';
import { SpotifyApi } from '../../src/api/index.js';
import { caught } from '../support/errors.js';

/**
 * Web API calls time out as token calls do: against a real HTTP server that takes every request and never
 * answers, a call fails with TIMEOUT and a message naming the limit, instead of hanging.
 */

let server: Server;
let apiUrl: string;
let received: IncomingMessage[] = [];

beforeAll(async () => {
  // Reads nothing back and never writes a response: the request stays open until the client gives up.
  server = createServer((request) => {
    received.push(request);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
});

const api = (options: { timeoutMs?: number; maxAttempts?: number } = {}) =>
  new SpotifyApi({
    accessToken: async () => 'a-token',
    apiUrl,
    retry: { maxAttempts: options.maxAttempts ?? 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });

describe('Web API timeout', () => {
  it('a server that never answers: TIMEOUT (transient), with the limit in the message', async () => {
    const error = await caught(api({ timeoutMs: 150 }).me());
    expect(error.code).toBe('TIMEOUT');
    expect(error.transient).toBe(true);
    expect(error.message).toBe("Spotify's Web API did not answer within 150 ms (timeoutMs).");
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('/v1/me');
    expect(received[0]?.headers.authorization).toBe('Bearer a-token');
  });

  it('each attempt has its own timeout: an idempotent call is retried, then fails', async () => {
    const error = await caught(api({ timeoutMs: 100, maxAttempts: 3 }).topTracks(5));
    expect(error.code).toBe('TIMEOUT');
    expect(received).toHaveLength(3);
  });

  it('a non-idempotent call that timed out is not sent again', async () => {
    const client = api({ timeoutMs: 100, maxAttempts: 3 });
    const error = await caught(client.client.POST('/me/player/next', {}));
    expect(error.code).toBe('TIMEOUT');
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('POST');
  });

  it("the caller's own abort ends the call: one request, never resent", async () => {
    const aborted = new AbortController();
    const call = api({ timeoutMs: 60_000, maxAttempts: 3 }).client.GET('/me', { signal: aborted.signal });
    await expect.poll(() => received.length).toBe(1);
    aborted.abort();
    await expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(received).toHaveLength(1);
  });

  it('defaults to 30 s, as token requests do; a timeout that is not a positive number is refused', () => {
    expect(DEFAULT_API_TIMEOUT_MS).toBe(30_000);
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => api({ timeoutMs })).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          message: 'timeoutMs must be a positive number of milliseconds.',
        }),
      );
    }
  });
});
