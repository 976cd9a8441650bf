import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpotifyApi as SpotifySdk } from '@spotify/web-api-ts-sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fetchCurrentUser,
  RateLimitCooldown,
  SpotifyApi,
  TokenManagerAuthStrategy,
} from '../../src/api/index.js';
import type { SpotifyAuth } from '../../src/core/index.js';
import { type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/index.js';
import { TokenManager } from '../../src/tokens/index.js';
import { control, emulatorAuth, login, startTestEmulator, tokenRequests } from '../support/emulator.js';
import { caught } from '../support/errors.js';
import { must } from '../support/must.js';

/**
 * The Web API client against the emulator over HTTP: real SpotifyAuth, TokenManager and MemoryStore.
 * Every behaviour is checked through its side effects on the emulator's counters.
 */

const SCOPES = [
  'user-read-private',
  'user-read-email',
  'user-top-read',
  'user-read-currently-playing',
  'playlist-read-private',
  'playlist-read-collaborative',
];
const FAST_RETRY = { baseDelayMs: 10, maxDelayMs: 20 };

async function apiRequests(emulator: RunningEmulator): Promise<Record<string, number>> {
  const response = await fetch(`${emulator.url}/_emulator/stats`);
  return ((await response.json()) as { api_requests: Record<string, number> }).api_requests;
}

async function reset(emulator: RunningEmulator): Promise<void> {
  await fetch(`${emulator.url}/_emulator/api-faults`, { method: 'DELETE' });
  await control(emulator, 'config', { allowlist: null });
  await control(emulator, 'stats/reset', {});
}

/** Logs `userId` in for real (code exchange), reads /v1/me and stores the grant under its account id. */
async function loggedIn(auth: SpotifyAuth, manager: TokenManager, scopes = SCOPES) {
  const { tokens } = await login(auth, scopes);
  const profile = await fetchCurrentUser(auth.config.apiUrl.href, tokens.accessToken);
  const record = await manager.saveGrant(tokens, profile);
  return { profile, record, user: profile.account_id ?? profile.id };
}

let emulator: RunningEmulator;
let auth: SpotifyAuth;
let manager: TokenManager;
let user: string;
let api: SpotifyApi;

beforeAll(async () => {
  // The full /me (email etc.), which development-mode apps no longer get since 2026.
  emulator = await startTestEmulator({ autoApprove: 'alice', devModeProfile: false });
  auth = emulatorAuth(emulator);
});
afterAll(() => emulator.stop());

beforeEach(async () => {
  await reset(emulator);
  manager = new TokenManager({ auth, store: new MemoryStore(), retry: FAST_RETRY });
  ({ user } = await loggedIn(auth, manager));
  await control(emulator, 'stats/reset', {});
  // A cooldown per test: the process-wide default would carry one test's 429 into the next.
  api = new SpotifyApi({ tokens: manager, user, retry: FAST_RETRY, cooldown: new RateLimitCooldown() });
});

describe('SpotifyApi against the emulator', () => {
  it('the profile: GET /v1/me once, account_id as the user key', async () => {
    const me = await api.me();
    expect(me).toMatchObject({
      id: 'alice',
      account_id: 'acct_alice_7f3a9c2e41d8',
      email: 'alice@example.com',
    });
    expect(user).toBe('acct_alice_7f3a9c2e41d8');
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 1 });
  });

  it('access token expired mid-session: exactly one refresh, one retry, success', async () => {
    await api.me();
    await control(emulator, 'expire', {});
    await control(emulator, 'stats/reset', {});
    const me = await api.me();
    expect(me?.id).toBe('alice');
    expect((await tokenRequests(emulator)).refresh_token).toBe(1);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 2 });
    // The refreshed token is used from now on: no more refreshes.
    await api.me();
    expect((await tokenRequests(emulator)).refresh_token).toBe(1);
  });

  it('a fetch that tees bodies (Next.js patches fetch so): the 401 → refresh → retry path still finishes', async () => {
    // Like a cache that keeps its branch of every body and never reads it: cancelling the other branch
    // settles only when both are cancelled, so awaiting that cancel would wait for ever.
    const kept: ReadableStream<Uint8Array>[] = [];
    const teeing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!response.body) return response;
      const [ours, cached] = response.body.tee();
      kept.push(cached);
      return new Response(ours, { status: response.status, headers: response.headers });
    };
    const teeApi = new SpotifyApi({ tokens: manager, user, retry: FAST_RETRY, fetch: teeing });
    await control(emulator, 'expire', {});
    expect((await teeApi.me())?.id).toBe('alice');
    expect((await tokenRequests(emulator)).refresh_token).toBe(1);
    expect(kept.length).toBe(2);
  });

  it('grant revoked: REAUTH_REQUIRED after at most one refresh attempt, and no loop afterwards', async () => {
    await control(emulator, 'revoke', { user_id: 'alice' });
    const error = await caught(api.me());
    expect(error.code).toBe('REAUTH_REQUIRED');
    expect((await tokenRequests(emulator)).refresh_token).toBe(1);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 1 });
    expect((await manager.getGrant(user))?.status).toBe('reauth_required');
    // A second call fails without asking Spotify anything.
    expect((await caught(api.me())).code).toBe('REAUTH_REQUIRED');
    expect((await tokenRequests(emulator)).refresh_token).toBe(1);
    expect((await apiRequests(emulator))['GET /v1/me']).toBeLessThanOrEqual(2);
  });

  it('429 with Retry-After below the cap: waits it out and succeeds (2 requests)', async () => {
    await control(emulator, 'api-faults', { kind: 'rate_limit', retry_after: 1 });
    const started = Date.now();
    expect((await api.me())?.id).toBe('alice');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 2 });
  });

  it('429 with Retry-After above the cap: RATE_LIMITED (retryAfterSeconds 60) after 1 request; the cooldown is shared', async () => {
    // A fresh emulator, so the process-wide cooldown for its URL starts empty and dies with it.
    const other = await startTestEmulator({ autoApprove: 'alice' });
    try {
      const otherAuth = emulatorAuth(other);
      const otherManager = new TokenManager({ auth: otherAuth, store: new MemoryStore(), retry: FAST_RETRY });
      const { user: otherUser } = await loggedIn(otherAuth, otherManager);
      await control(other, 'stats/reset', {});
      await control(other, 'api-faults', { kind: 'rate_limit', retry_after: 60 });
      const first = new SpotifyApi({ tokens: otherManager, user: otherUser });
      const error = await caught(first.me());
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterSeconds).toBe(60);
      expect(error.status).toBe(429);
      expect(await apiRequests(other)).toEqual({ 'GET /v1/me': 1 });
      // Another client for the same API (default cooldown), even for the app token: fails fast, no request.
      const second = new SpotifyApi({ tokens: otherManager });
      const again = await caught(
        second.client.GET('/tracks/{id}', { params: { path: { id: must(TRACKS[0], 'TRACKS[0]').id } } }),
      );
      expect(again.code).toBe('RATE_LIMITED');
      expect(again.retryAfterSeconds).toBeGreaterThan(55);
      expect(await apiRequests(other)).toEqual({ 'GET /v1/me': 1 });
    } finally {
      await other.stop();
    }
  });

  it('quota 429: RATE_LIMITED with reason QUOTA_EXCEEDED and a message about the quota', async () => {
    await control(emulator, 'api-faults', {
      kind: 'rate_limit',
      retry_after: 3600,
      reason: 'QUOTA_EXCEEDED',
    });
    const error = await caught(api.me());
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.reason).toBe('QUOTA_EXCEEDED');
    expect(error.retryAfterSeconds).toBe(3600);
    expect(error.message).toMatch(/quota/i);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 1 });
  });

  it('5xx then success: a GET is retried with bounded backoff', async () => {
    await control(emulator, 'api-faults', { kind: 'server_error', status: 502, count: 2 });
    expect((await api.me())?.id).toBe('alice');
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 3 });
  });

  it('5xx beyond the attempt budget: SPOTIFY_UNAVAILABLE after maxAttempts requests', async () => {
    await control(emulator, 'api-faults', { kind: 'server_error', status: 503, body: 'json', count: 5 });
    const error = await caught(api.me());
    expect(error.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 3 });
  });

  it('204 No Content → null from currentlyPlaying(); 200 once something plays', async () => {
    expect(await api.currentlyPlaying()).toBeNull();
    await control(emulator, 'player', {
      user_id: 'alice',
      track_id: must(TRACKS[3], 'TRACKS[3]').id,
      is_playing: true,
    });
    const playing = await api.currentlyPlaying();
    expect(playing?.item?.id).toBe(must(TRACKS[3], 'TRACKS[3]').id);
    await control(emulator, 'player', { user_id: 'alice', track_id: null });
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me/player/currently-playing': 2 });
  });

  it('missing scope → MISSING_SCOPE naming the endpoint’s scope; no refresh, no retry', async () => {
    const narrow = new TokenManager({ auth, store: new MemoryStore(), retry: FAST_RETRY });
    const { user: narrowUser } = await loggedIn(auth, narrow, ['user-read-email']);
    await control(emulator, 'stats/reset', {});
    const client = new SpotifyApi({ tokens: narrow, user: narrowUser, cooldown: new RateLimitCooldown() });
    const error = await caught(client.topTracks());
    expect(error.code).toBe('MISSING_SCOPE');
    expect(error.requiredScopes).toEqual(['user-top-read']);
    expect(error.status).toBe(403);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me/top/{type}': 1 });
    expect((await tokenRequests(emulator)).refresh_token).toBe(0);
  });

  it('plain-text allowlist 403 → USER_NOT_ALLOWLISTED', async () => {
    await control(emulator, 'config', { allowlist: ['bob'] });
    const error = await caught(api.me());
    expect(error.code).toBe('USER_NOT_ALLOWLISTED');
    expect(error.status).toBe(403);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 1 });
  });

  it('an app owner without Premium: API_ERROR saying so, as JSON or as text, never USER_NOT_ALLOWLISTED', async () => {
    const clientId = auth.config.clientId;
    try {
      await control(emulator, 'apps/mode', { client_id: clientId, owner_premium: false });
      for (const body of ['json', 'text']) {
        await control(emulator, 'config', { owner_premium_body: body });
        const error = await caught(api.me());
        expect(error.code).toBe('API_ERROR');
        expect(error.status).toBe(403);
        expect(error.message).toMatch(/owner's account has no active Premium subscription/);
      }
    } finally {
      await control(emulator, 'apps/mode', { client_id: clientId, owner_premium: true });
      await control(emulator, 'config', { owner_premium_body: 'json' });
    }
  });

  it('paginate(): all 25 playlists across pages, one request per page', async () => {
    const first = await api.data(api.client.GET('/me/playlists', { params: { query: { limit: 10 } } }));
    const names: string[] = [];
    for await (const playlist of api.paginate(first)) names.push(playlist.name ?? '');
    expect(names).toHaveLength(25);
    expect(new Set(names).size).toBe(25);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me/playlists': 3 });
  });

  it('top items: typed helpers', async () => {
    const tracks = await api.topTracks(5);
    expect(tracks?.items).toHaveLength(5);
    const artists = await api.topArtists(3);
    expect(artists?.items?.map((a) => a.type)).toEqual(['artist', 'artist', 'artist']);
  });

  it('array query parameters are comma-separated, as Spotify expects (search type=track,artist)', async () => {
    const catalogue = new SpotifyApi({ tokens: manager, cooldown: new RateLimitCooldown() });
    const { data } = await catalogue.client.GET('/search', {
      params: { query: { q: 'velvet', type: ['track', 'artist'], limit: 2 } },
    });
    expect(data?.artists?.items).toHaveLength(2);
    expect(data?.tracks?.items).toHaveLength(2);
    expect(data?.artists?.href).toContain('type=track%2Cartist');
  });

  it('app token: a catalogue call without a user uses client credentials once', async () => {
    const catalogue = new SpotifyApi({ tokens: manager, cooldown: new RateLimitCooldown() });
    const track = must(TRACKS[11], 'TRACKS[11]');
    const { data } = await catalogue.client.GET('/tracks/{id}', { params: { path: { id: track.id } } });
    expect(data).toMatchObject({ id: track.id, name: track.name });
    await catalogue.client.GET('/tracks/{id}', { params: { path: { id: track.id } } });
    expect((await tokenRequests(emulator)).client_credentials).toBe(1);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/tracks/{id}': 2 });
    const missing = await caught(
      catalogue.client.GET('/tracks/{id}', { params: { path: { id: '0000000000000000000000' } } }),
    );
    expect(missing.code).toBe('API_ERROR');
    expect(missing.status).toBe(404);
  });

  it('the official SDK (@spotify/web-api-ts-sdk) through TokenManagerAuthStrategy', async () => {
    const sdk = new SpotifySdk(new TokenManagerAuthStrategy(manager, user), {
      fetch: (url, init) =>
        fetch(String(url).replace('https://api.spotify.com/v1', `${emulator.url}/v1`), init),
    });
    const profile = await sdk.currentUser.profile();
    expect(profile.id).toBe('alice');
    const track = await sdk.tracks.get(must(TRACKS[5], 'TRACKS[5]').id);
    expect(track.name).toBe(must(TRACKS[5], 'TRACKS[5]').name);
    expect(await apiRequests(emulator)).toEqual({ 'GET /v1/me': 1, 'GET /v1/tracks/{id}': 1 });
    expect((await tokenRequests(emulator)).refresh_token).toBe(0);
  });
});

describe('idempotency: a POST is never retried (tiny local server)', () => {
  let server: Server;
  let hits: { method: string; url: string }[];
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push({ method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><body>503 Service Temporarily Unavailable</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    hits = [];
  });
  beforeEach(() => {
    hits = [];
  });

  it('POST /me/playlists → SPOTIFY_UNAVAILABLE after exactly 1 request; a GET is tried 3 times', async () => {
    const client = new SpotifyApi({
      tokens: manager,
      user,
      apiUrl: base,
      retry: FAST_RETRY,
      cooldown: new RateLimitCooldown(),
    });
    const post = await caught(client.client.POST('/me/playlists', { body: { name: 'New playlist' } }));
    expect(post.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(hits).toEqual([{ method: 'POST', url: '/v1/me/playlists' }]);
    hits = [];
    const get = await caught(client.me());
    expect(get.code).toBe('SPOTIFY_UNAVAILABLE');
    expect(hits.map((h) => h.method)).toEqual(['GET', 'GET', 'GET']);
  });
});
