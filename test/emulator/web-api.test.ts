import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorOptionsFrom } from '../../src/cli/commands/emulator.js';
import {
  ARTISTS,
  createEmulatorState,
  type RunningEmulator,
  spotifyId,
  TRACKS,
} from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  authorizeCode,
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  exchange,
  postToken,
  start,
} from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start({ autoApprove: 'alice' });
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await control(emulator, 'api-faults', undefined, 'DELETE');
  await control(emulator, 'stats/reset');
  await control(emulator, 'config', {
    dev_mode_profile: false,
    allowlist: null,
    unauthorized_messages: '2026',
  });
});

const ALL_SCOPES = [
  'user-read-private',
  'user-read-email',
  'user-top-read',
  'user-read-currently-playing',
  'user-read-recently-played',
  'playlist-read-private',
  'playlist-read-collaborative',
];

/** A user token straight from the emulator's state (the token endpoint is tested elsewhere). */
function userToken(user = 'alice', scopes: string[] = ALL_SCOPES): string {
  return emulator.state.issueAccessToken(CLIENT_ID, user, scopes, null);
}

async function appToken(): Promise<string> {
  const result = await postToken(
    emulator,
    { grant_type: 'client_credentials' },
    { auth: basic(CLIENT_ID, CLIENT_SECRET) },
  );
  return must(result.json, 'a JSON body')['access_token'] as string;
}

async function api(path: string, token: string | null, headers: Record<string, string> = {}) {
  const response = await fetch(path.startsWith('http') ? path : `${emulator.url}${path}`, {
    headers: token === null ? headers : { authorization: `Bearer ${token}`, ...headers },
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { response, status: response.status, text, json, headers: response.headers };
}

// biome-ignore lint/suspicious/noExplicitAny: test-side access to untyped JSON
type Json = any;

async function apiStats(): Promise<Record<string, number>> {
  return ((await control(emulator, 'stats', undefined, 'GET')).json as Json).api_requests;
}

describe('GET /v1/me', () => {
  it('a real login (code exchange) gives a token that works on /v1/me', async () => {
    const code = await authorizeCode(emulator, { scope: 'user-read-email user-read-private' });
    const token = must((await exchange(emulator, code)).json, '(await exchange(emulator, code)).json')[
      'access_token'
    ] as string;
    const me = await api('/v1/me', token);
    expect(me.status).toBe(200);
    expect(me.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(me.json).toMatchObject({
      id: 'alice',
      account_id: 'acct_alice_7f3a9c2e41d8',
      email: 'alice@example.com',
    });
  });

  it('with user-read-private and user-read-email: every field', async () => {
    const me = (await api('/v1/me', userToken())).json as Json;
    expect(me).toEqual({
      account_id: 'acct_alice_7f3a9c2e41d8',
      country: 'SE',
      display_name: 'Alice Example',
      email: 'alice@example.com',
      explicit_content: { filter_enabled: false, filter_locked: false },
      external_urls: { spotify: 'https://open.spotify.com/user/alice' },
      followers: { href: null, total: expect.any(Number) },
      href: `${emulator.url}/v1/users/alice`,
      id: 'alice',
      images: [{ url: `${emulator.url}/images/alice.svg`, height: 300, width: 300 }],
      product: 'premium',
      type: 'user',
      uri: 'spotify:user:alice',
    });
  });

  it('scopes gate fields: no scopes → no email/country/product/explicit_content', async () => {
    const me = (await api('/v1/me', userToken('alice', []))).json as Json;
    for (const field of ['email', 'country', 'product', 'explicit_content'])
      expect(me).not.toHaveProperty(field);
    expect(me.followers).toBeDefined();
    const emailOnly = (await api('/v1/me', userToken('alice', ['user-read-email']))).json as Json;
    expect(emailOnly.email).toBe('alice@example.com');
    expect(emailOnly).not.toHaveProperty('country');
  });

  it('dev_mode_profile strips country, email, explicit_content, followers, product (config and option)', async () => {
    await control(emulator, 'config', { dev_mode_profile: true });
    const me = (await api('/v1/me', userToken())).json as Json;
    expect(Object.keys(me).sort()).toEqual(
      ['account_id', 'display_name', 'external_urls', 'href', 'id', 'images', 'type', 'uri'].sort(),
    );
    expect(
      must(
        (await control(emulator, 'config', undefined, 'GET')).json,
        "(await control(emulator, 'config', undefined, 'GET')).json",
      )['dev_mode_profile'],
    ).toBe(true);
    expect((await control(emulator, 'config', { dev_mode_profile: 'yes' })).status).toBe(400);

    const other = await start({ devModeProfile: true });
    try {
      const token = other.state.issueAccessToken(CLIENT_ID, 'bob', ALL_SCOPES, null);
      const response = await fetch(`${other.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await response.json()) as Json;
      expect(body.id).toBe('bob');
      expect(body).not.toHaveProperty('email');
    } finally {
      await other.stop();
    }
  });

  it('carol has no images; bob has null dimensions; users without accountId have no account_id', async () => {
    expect(((await api('/v1/me', userToken('carol'))).json as Json).images).toEqual([]);
    expect(((await api('/v1/me', userToken('bob'))).json as Json).images).toEqual([
      { url: `${emulator.url}/images/bob.svg`, height: null, width: null },
    ]);
    await control(emulator, 'users', { id: 'dave' });
    const dave = (await api('/v1/me', userToken('dave'))).json as Json;
    expect(dave).not.toHaveProperty('account_id');
    expect(dave.display_name).toBe('dave');
  });

  it('image URLs follow the Host the client used', async () => {
    const token = userToken();
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        `${emulator.url}/v1/me`,
        { headers: { host: `localhost:${emulator.port}`, authorization: `Bearer ${token}` } },
        (res) => {
          let data = '';
          res.on('data', (c) => {
            data += c;
          });
          res.on('end', () => resolve(data));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const me = JSON.parse(body) as Json;
    expect(me.images[0].url).toBe(`http://localhost:${emulator.port}/images/alice.svg`);
    expect(me.href).toBe(`http://localhost:${emulator.port}/v1/users/alice`);
  });
});

describe('images served by the emulator', () => {
  it('GET /images/<user>.svg: a generated SVG avatar with the initial; unknown users 404', async () => {
    const response = await fetch(`${emulator.url}/images/alice.svg`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const svg = await response.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('>A</text>');
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect((await fetch(`${emulator.url}/images/nobody.svg`)).status).toBe(404);
  });

  it('GET /images/cover/<id>.svg: covers for catalogue items', async () => {
    const artist = (
      (await api(`/v1/artists/${must(ARTISTS[0], 'ARTISTS[0]').id}`, await appToken())).json as Json
    ).images[0].url;
    expect(artist).toBe(`${emulator.url}/images/cover/${must(ARTISTS[0], 'ARTISTS[0]').id}.svg`);
    const response = await fetch(artist);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`>${must(ARTISTS[0], 'ARTISTS[0]').name[0]}</text>`);
  });
});

describe('authentication and authorization on /v1', () => {
  // WEB-API-2026.md §4 "401s (2026)": one body message for every token problem; the header tells them apart.
  const UNAUTHORIZED = { error: { status: 401, message: 'Missing/invalid/expired access token' } };

  it('no token → 401 "Missing/invalid/expired access token" with a missing_token challenge', async () => {
    const result = await api('/v1/me', null);
    expect(result.status).toBe(401);
    expect(result.json).toEqual(UNAUTHORIZED);
    expect(result.headers.get('www-authenticate')).toBe(
      // WEB-API-2026.md §4: `missing_token` when there is none.
      'Bearer realm="spotify", error="missing_token", error_description="No token provided"',
    );
  });

  it('a non-Bearer Authorization header → 400 "Only valid bearer authentication supported"', async () => {
    for (const header of [basic('a', 'b'), 'Token abc', 'Bearer a b']) {
      const result = await api('/v1/tracks/x', null, { authorization: header });
      expect(result.status).toBe(400);
      expect(result.json).toEqual({
        error: { status: 400, message: 'Only valid bearer authentication supported' },
      });
    }
  });

  it('an empty bearer → the same 401 as no token (WEB-API-2026.md §4)', async () => {
    for (const header of ['Bearer', 'Bearer ', 'bearer   ']) {
      const result = await api('/v1/me', null, { authorization: header });
      expect(result.status).toBe(401);
      expect(result.json).toEqual(UNAUTHORIZED);
      expect(result.headers.get('www-authenticate')).toContain('error="missing_token"');
    }
  });

  it('expired token → 401 "Missing/invalid/expired access token"; the header says it expired', async () => {
    const token = emulator.state.issueAccessToken(CLIENT_ID, 'bob', [], null);
    expect((await api('/v1/me', token)).status).toBe(200);
    await control(emulator, 'expire', { user_id: 'bob' });
    const result = await api('/v1/me', token);
    expect(result.status).toBe(401);
    expect(result.json).toEqual(UNAUTHORIZED);
    expect(result.headers.get('www-authenticate')).toContain('error_description="The access token expired"');
  });

  it('unknown or revoked token → 401 "Missing/invalid/expired access token" with an invalid_token challenge', async () => {
    const unknown = await api('/v1/me', 'BQnot-a-real-token');
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(UNAUTHORIZED);
    expect(unknown.headers.get('www-authenticate')).toBe(
      'Bearer realm="spotify", error="invalid_token", error_description="Invalid access token"',
    );
    const code = await authorizeCode(emulator, { scope: 'user-top-read' });
    const token = must((await exchange(emulator, code)).json, '(await exchange(emulator, code)).json')[
      'access_token'
    ] as string;
    expect((await api('/v1/me/top/artists', token)).status).toBe(200);
    await control(emulator, 'revoke', { user_id: 'alice' });
    const revoked = await api('/v1/me/top/artists', token);
    expect(revoked.status).toBe(401);
    expect(revoked.json).toEqual(UNAUTHORIZED);
  });

  it('unauthorized_messages "legacy": the older per-problem messages in the body, the same headers', async () => {
    expect((await control(emulator, 'config', { unauthorized_messages: 'legacy' })).json).toMatchObject({
      unauthorized_messages: 'legacy',
    });
    const none = await api('/v1/me', null);
    expect(none.json).toEqual({ error: { status: 401, message: 'No token provided' } });
    expect(none.headers.get('www-authenticate')).toBe(
      'Bearer realm="spotify", error="missing_token", error_description="No token provided"',
    );
    const bogus = await api('/v1/me', 'BQnot-a-real-token');
    expect(bogus.json).toEqual({ error: { status: 401, message: 'Invalid access token' } });
    expect(bogus.headers.get('www-authenticate')).toBe(
      'Bearer realm="spotify", error="invalid_token", error_description="Invalid access token"',
    );
    const token = emulator.state.issueAccessToken(CLIENT_ID, 'carol', [], null);
    await control(emulator, 'expire', { user_id: 'carol' });
    const expired = await api('/v1/me', token);
    expect(expired.json).toEqual({ error: { status: 401, message: 'The access token expired' } });
    expect(expired.headers.get('www-authenticate')).toContain(
      'error="invalid_token", error_description="The access token expired"',
    );
    expect((await control(emulator, 'config', { unauthorized_messages: 'sometimes' })).status).toBe(400);
    await control(emulator, 'config', { unauthorized_messages: '2026' });
    expect((await api('/v1/me', null)).json).toEqual(UNAUTHORIZED);
  });

  it('unauthorizedMessages is an option of the emulator and a flag of `spotauth emulator`', async () => {
    const legacy = await start({ unauthorizedMessages: 'legacy' });
    try {
      expect((await fetch(`${legacy.url}/v1/me`).then((r) => r.json())) as Json).toEqual({
        error: { status: 401, message: 'No token provided' },
      });
      expect((await control(legacy, 'config', undefined, 'GET')).json).toMatchObject({
        unauthorized_messages: 'legacy',
      });
    } finally {
      await legacy.stop();
    }
    expect(() => createEmulatorState({ unauthorizedMessages: 'old' as '2026' })).toThrow(
      /unauthorizedMessages must be "2026" or "legacy"/,
    );
    expect(await emulatorOptionsFrom({ unauthorizedMessages: 'legacy' })).toMatchObject({
      unauthorizedMessages: 'legacy',
    });
    await expect(emulatorOptionsFrom({ unauthorizedMessages: '2024' })).rejects.toThrow(
      /--unauthorized-messages must be "2026" or "legacy"/,
    );
  });

  it('missing scope → 403 "Insufficient client scope" as application/json; charset=utf-8', async () => {
    const token = userToken('alice', ['user-read-email']);
    for (const path of [
      '/v1/me/top/tracks',
      '/v1/me/player/currently-playing',
      '/v1/me/player/recently-played',
    ]) {
      const result = await api(path, token);
      expect(result.status).toBe(403);
      expect(result.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(result.json).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    }
  });

  it('app (client-credentials) tokens: catalogue yes, user endpoints → 403 "Insufficient client scope"', async () => {
    const token = await appToken();
    expect((await api(`/v1/tracks/${must(TRACKS[0], 'TRACKS[0]').id}`, token)).status).toBe(200);
    expect((await api('/v1/search?q=velvet&type=artist', token)).status).toBe(200);
    for (const path of ['/v1/me', '/v1/me/top/artists', '/v1/me/playlists']) {
      const result = await api(path, token);
      expect(result.status).toBe(403);
      expect(result.json).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    }
  });

  it('unknown /v1 path → 404 "Service not found" (before auth); wrong method → 405', async () => {
    const result = await api('/v1/nothing/here', null);
    expect(result.status).toBe(404);
    expect(result.json).toEqual({ error: { status: 404, message: 'Service not found' } });
    expect((await fetch(`${emulator.url}/v1/me`, { method: 'POST' })).status).toBe(405);
  });

  it('allowlist: other users get the plain-text dev-mode 403 on every /v1 call; null = everyone', async () => {
    await control(emulator, 'config', { allowlist: ['alice'] });
    expect((await api('/v1/me', userToken('alice'))).status).toBe(200);
    for (const path of ['/v1/me', '/v1/me/top/artists', `/v1/tracks/${must(TRACKS[1], 'TRACKS[1]').id}`]) {
      const result = await api(path, userToken('bob'));
      expect(result.status).toBe(403);
      expect(result.headers.get('content-type')).toBe('text/plain');
      expect(result.text).toBe(
        'Check settings on developer.spotify.com/dashboard, the user may not be registered.',
      );
    }
    // App tokens have no user, so the allowlist does not apply to them.
    expect((await api(`/v1/tracks/${must(TRACKS[1], 'TRACKS[1]').id}`, await appToken())).status).toBe(200);
    expect((await control(emulator, 'config', { allowlist: 'alice' })).status).toBe(400);
    expect(
      must(
        (await control(emulator, 'config', { allowlist: null })).json,
        "(await control(emulator, 'config', { allowlist: null })).json",
      )['allowlist'],
    ).toBeNull();
    expect((await api('/v1/me', userToken('bob'))).status).toBe(200);
  });
});

describe('GET /v1/me/top/{type}', () => {
  it('artists: paging object with absolute next/previous; following next walks all 40', async () => {
    const token = userToken();
    const first = (await api('/v1/me/top/artists', token)).json as Json;
    expect(first).toMatchObject({ limit: 20, offset: 0, previous: null, total: 40 });
    expect(first.items).toHaveLength(20);
    expect(first.items[0]).toMatchObject({ type: 'artist', uri: `spotify:artist:${first.items[0].id}` });
    expect(first.next).toBe(`${emulator.url}/v1/me/top/artists?time_range=medium_term&offset=20&limit=20`);
    const second = (await api(first.next, token)).json as Json;
    expect(second.items).toHaveLength(20);
    expect(second.next).toBeNull();
    expect(second.previous).toBe(
      `${emulator.url}/v1/me/top/artists?time_range=medium_term&offset=0&limit=20`,
    );
    const ids = new Set([...first.items, ...second.items].map((a: Json) => a.id));
    expect(ids.size).toBe(40);
  });

  it('tracks: limit, offset, time_range; deterministic per user', async () => {
    const token = userToken();
    const page = (await api('/v1/me/top/tracks?limit=5&offset=3', token)).json as Json;
    expect(page).toMatchObject({ limit: 5, offset: 3, total: 50 });
    expect(page.items).toHaveLength(5);
    expect(page.items[0].type).toBe('track');
    const again = (await api('/v1/me/top/tracks?limit=5&offset=3', token)).json as Json;
    expect(again.items.map((t: Json) => t.id)).toEqual(page.items.map((t: Json) => t.id));
    const short = (await api('/v1/me/top/tracks?limit=5&offset=3&time_range=short_term', token)).json as Json;
    expect(short.items.map((t: Json) => t.id)).not.toEqual(page.items.map((t: Json) => t.id));
    const bob = (await api('/v1/me/top/tracks?limit=5&offset=3', userToken('bob'))).json as Json;
    expect(bob.items.map((t: Json) => t.id)).not.toEqual(page.items.map((t: Json) => t.id));
  });

  it('bad parameters → 400', async () => {
    const token = userToken();
    for (const query of ['limit=0', 'limit=51', 'limit=abc', 'offset=-1', 'time_range=forever']) {
      const result = await api(`/v1/me/top/tracks?${query}`, token);
      expect(result.status, query).toBe(400);
      expect((result.json as Json).error.status).toBe(400);
    }
    // The spec has /me/top/artists and /me/top/tracks as separate routes: anything else is no route at all.
    expect((await api('/v1/me/top/podcasts', token)).status).toBe(404);
  });
});

describe('GET /v1/me/player/currently-playing', () => {
  it('idle → 204 with an empty body; set via the control API → 200; null → idle again', async () => {
    const token = userToken('alice', ['user-read-currently-playing']);
    const idle = await api('/v1/me/player/currently-playing', token);
    expect(idle.status).toBe(204);
    expect(idle.text).toBe('');
    const track = must(TRACKS[7], 'TRACKS[7]');
    const set = await control(emulator, 'player', { user_id: 'alice', track_id: track.id, is_playing: true });
    expect(set.json).toMatchObject({ user_id: 'alice', track_id: track.id, is_playing: true });
    const playing = (await api('/v1/me/player/currently-playing', token)).json as Json;
    expect(playing).toMatchObject({
      is_playing: true,
      currently_playing_type: 'track',
      item: { id: track.id, type: 'track' },
      context: { type: 'album' },
    });
    expect(playing.progress_ms).toBeGreaterThanOrEqual(0);
    expect(playing.progress_ms).toBeLessThan(track.durationMs);
    await control(emulator, 'player', {
      user_id: 'alice',
      track_id: track.id,
      is_playing: false,
      progress_ms: 1234,
    });
    const paused = (await api('/v1/me/player/currently-playing', token)).json as Json;
    expect(paused).toMatchObject({ is_playing: false, progress_ms: 1234 });
    // user-read-playback-state is accepted as well.
    expect(
      (await api('/v1/me/player/currently-playing', userToken('alice', ['user-read-playback-state']))).status,
    ).toBe(200);
    await control(emulator, 'player', { user_id: 'alice', track_id: null });
    expect((await api('/v1/me/player/currently-playing', token)).status).toBe(204);
    expect((await control(emulator, 'player?user_id=alice', undefined, 'GET')).json).toMatchObject({
      track_id: null,
    });
  });

  it('the control API validates user and track', async () => {
    expect(
      (await control(emulator, 'player', { user_id: 'nobody', track_id: must(TRACKS[0], 'TRACKS[0]').id }))
        .status,
    ).toBe(400);
    expect((await control(emulator, 'player', { user_id: 'alice', track_id: 'nope' })).status).toBe(400);
    expect(
      (
        await control(emulator, 'player', {
          user_id: 'alice',
          track_id: must(TRACKS[0], 'TRACKS[0]').id,
          is_playing: 'y',
        })
      ).status,
    ).toBe(400);
  });
});

describe('GET /v1/me/player/recently-played', () => {
  it('cursor paging: 50 plays newest first, `next` uses before=, ends with next null', async () => {
    const token = userToken();
    const seen: Json[] = [];
    let url: string | null = '/v1/me/player/recently-played?limit=20';
    let pages = 0;
    while (url) {
      const page = (await api(url, token)).json as Json;
      seen.push(...page.items);
      expect(page.cursors.before).toBe(String(Date.parse(page.items.at(-1).played_at)));
      url = page.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(50);
    const times = seen.map((e) => Date.parse(e.played_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen[0].track.type).toBe('track');
  });

  it('after= returns the plays just after the cursor; before+after or bad values → 400', async () => {
    const token = userToken();
    const all = (await api('/v1/me/player/recently-played?limit=50', token)).json as Json;
    expect(all.items).toHaveLength(50);
    expect(all.next).toBeNull();
    const pivot = Date.parse(all.items[10].played_at);
    const after = (await api(`/v1/me/player/recently-played?after=${pivot}&limit=3`, token)).json as Json;
    expect(after.items.map((e: Json) => e.played_at)).toEqual(
      all.items.slice(7, 10).map((e: Json) => e.played_at),
    );
    expect((await api('/v1/me/player/recently-played?before=1&after=2', token)).status).toBe(400);
    expect((await api('/v1/me/player/recently-played?limit=51', token)).status).toBe(400);
    expect((await api('/v1/me/player/recently-played?before=yesterday', token)).status).toBe(400);
    const empty = (await api('/v1/me/player/recently-played?before=1', token)).json as Json;
    expect(empty).toMatchObject({ items: [], next: null, cursors: null });
  });
});

describe('GET /v1/me/playlists', () => {
  it('25 playlists over pages with playlist-read-private (+collaborative); limit ≤ 50, default 20', async () => {
    const token = userToken();
    const first = (await api('/v1/me/playlists', token)).json as Json;
    expect(first).toMatchObject({ limit: 20, offset: 0, total: 25, previous: null });
    expect(first.next).toBe(`${emulator.url}/v1/me/playlists?offset=20&limit=20`);
    const second = (await api(first.next, token)).json as Json;
    expect(second.items).toHaveLength(5);
    expect(second.next).toBeNull();
    expect(first.items[0]).toMatchObject({
      type: 'playlist',
      owner: { id: 'alice', display_name: 'Alice Example' },
    });
    expect((await api('/v1/me/playlists?limit=51', token)).status).toBe(400);
    expect((await api('/v1/me/playlists?limit=0', token)).status).toBe(400);
  });

  it('without playlist-read-private only public playlists are listed', async () => {
    const all = (await api('/v1/me/playlists?limit=50', userToken())).json as Json;
    const publicOnly = (await api('/v1/me/playlists?limit=50', userToken('alice', []))).json as Json;
    expect(publicOnly.total).toBeLessThan(all.total);
    expect(publicOnly.total).toBe(all.items.filter((p: Json) => p.public).length);
    expect(publicOnly.items.every((p: Json) => p.public)).toBe(true);
  });
});

describe('catalogue: /v1/tracks/{id}, /v1/artists/{id}', () => {
  it('ids are deterministic 22-char base62; 40 artists, 120 tracks', () => {
    expect(ARTISTS).toHaveLength(40);
    expect(TRACKS).toHaveLength(120);
    expect(new Set(TRACKS.map((t) => t.id)).size).toBe(120);
    for (const t of TRACKS) expect(t.id).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(spotifyId('artist:Velvet Foxes')).toBe(must(ARTISTS[0], 'ARTISTS[0]').id);
  });

  it('a track and an artist by id; unknown → 404 "Resource not found"; malformed → 400 "invalid id"', async () => {
    const token = await appToken();
    const track = must(TRACKS[4], 'TRACKS[4]');
    const body = (await api(`/v1/tracks/${track.id}`, token)).json as Json;
    expect(body).toMatchObject({
      id: track.id,
      name: track.name,
      type: 'track',
      uri: `spotify:track:${track.id}`,
      href: `${emulator.url}/v1/tracks/${track.id}`,
      duration_ms: track.durationMs,
      album: { type: 'album', id: track.albumId },
    });
    expect(body.artists.length).toBeGreaterThanOrEqual(1);
    const artist = (await api(`/v1/artists/${must(ARTISTS[3], 'ARTISTS[3]').id}`, token)).json as Json;
    expect(artist).toMatchObject({
      id: must(ARTISTS[3], 'ARTISTS[3]').id,
      name: must(ARTISTS[3], 'ARTISTS[3]').name,
      type: 'artist',
    });
    for (const kind of ['tracks', 'artists']) {
      const missing = await api(`/v1/${kind}/0000000000000000000000`, token);
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({ error: { status: 404, message: 'Resource not found' } });
      const bad = await api(`/v1/${kind}/not-an-id`, token);
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual({ error: { status: 400, message: 'invalid id' } });
    }
  });
});

describe('GET /v1/search', () => {
  it('case-insensitive substring over the catalogue; paging per type; default limit 5, max 10', async () => {
    const token = await appToken();
    const result = (await api('/v1/search?q=VELVET&type=track,artist', token)).json as Json;
    expect(Object.keys(result).sort()).toEqual(['artists', 'tracks']);
    expect(result.artists.total).toBe(5);
    expect(result.artists.items.every((a: Json) => a.name.includes('Velvet'))).toBe(true);
    expect(result.tracks.limit).toBe(5);
    expect(result.tracks.total).toBeGreaterThan(5);
    expect(result.tracks.next).toContain('offset=5');
    const next = (await api(result.tracks.next, token)).json as Json;
    expect(next.tracks.offset).toBe(5);
    const ten = (await api('/v1/search?q=e&type=track&limit=10', token)).json as Json;
    expect(ten.tracks.items).toHaveLength(10);
    const none = (await api('/v1/search?q=zzzz&type=album,playlist', token)).json as Json;
    expect(none.albums).toMatchObject({ total: 0, items: [], next: null });
    expect(none.playlists).toMatchObject({ total: 0, items: [] });
  });

  it('missing q or type, bad type, limit over 10 → 400', async () => {
    const token = await appToken();
    for (const query of [
      'type=track',
      'q=a',
      'q=a&type=song',
      'q=a&type=track&limit=11',
      'q=a&type=track&limit=0',
    ]) {
      const result = await api(`/v1/search?${query}`, token);
      expect(result.status, query).toBe(400);
      expect((result.json as Json).error.status).toBe(400);
    }
  });
});

describe('API faults (POST /_emulator/api-faults)', () => {
  const track = () => `/v1/tracks/${must(TRACKS[0], 'TRACKS[0]').id}`;

  it('rate_limit: 429 "API rate limit exceeded" with Retry-After, `count` times', async () => {
    await control(emulator, 'api-faults', { kind: 'rate_limit', count: 2, retry_after: 7 });
    const token = userToken();
    for (let i = 0; i < 2; i++) {
      const result = await api('/v1/me', token);
      expect(result.status).toBe(429);
      expect(result.headers.get('retry-after')).toBe('7');
      expect(result.json).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    }
    expect((await api('/v1/me', token)).status).toBe(200);
  });

  it('rate_limit with reason: the 2026 quota body', async () => {
    await control(emulator, 'api-faults', {
      kind: 'rate_limit',
      reason: 'QUOTA_EXCEEDED',
      retry_after: 3600,
    });
    const result = await api('/v1/me', userToken());
    expect(result.status).toBe(429);
    expect(result.headers.get('retry-after')).toBe('3600');
    expect(result.json).toEqual({
      error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' },
    });
  });

  it('path restricts a fault to one endpoint (pathname or route pattern)', async () => {
    await control(emulator, 'api-faults', { kind: 'rate_limit', path: '/v1/me' });
    await control(emulator, 'api-faults', { kind: 'server_error', path: '/v1/tracks/{id}' });
    const token = userToken();
    expect((await api('/v1/me/top/artists', token)).status).toBe(200);
    expect((await api(track(), token)).status).toBe(503);
    expect((await api('/v1/me', token)).status).toBe(429);
    expect((await api('/v1/me', token)).status).toBe(200);
    expect((await control(emulator, 'api-faults', undefined, 'GET')).json).toEqual({ faults: [] });
  });

  it('server_error: HTML (default 503) or JSON, status 502/503', async () => {
    await control(emulator, 'api-faults', { kind: 'server_error', status: 502 });
    await control(emulator, 'api-faults', { kind: 'server_error', status: 503, body: 'json' });
    const token = userToken();
    const html = await api(track(), token);
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(html.text).toContain('502 Bad Gateway');
    const json = await api(track(), token);
    expect(json.status).toBe(503);
    expect(json.json).toEqual({ error: { status: 503, message: 'Service Temporarily Unavailable' } });
  });

  it('latency delays the request, then it is served normally', async () => {
    await control(emulator, 'api-faults', { kind: 'latency', latency_ms: 150 });
    const started = Date.now();
    expect((await api(track(), userToken())).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('latency with count N delays each of the next N requests once, not one request N times', async () => {
    await control(emulator, 'api-faults', { kind: 'latency', latency_ms: 1, count: 3 });
    const token = userToken();
    const remaining = async () =>
      ((await control(emulator, 'api-faults', undefined, 'GET')).json as Json).faults.map(
        (f: Json) => f.remaining,
      );
    const delays = async () =>
      ((await control(emulator, 'stats', undefined, 'GET')).json as Json).api_faults.latency;
    for (const [left, delayed] of [
      [[2], 1],
      [[1], 2],
      [[], 3],
    ] as const) {
      expect((await api(track(), token)).status).toBe(200);
      expect(await remaining()).toEqual(left);
      expect(await delays()).toBe(delayed);
    }
    expect((await api(track(), token)).status).toBe(200);
    expect(await delays()).toBe(3);
  });

  it('a latency fault and an answering fault: the request waits once, then gets the answer', async () => {
    await control(emulator, 'api-faults', { kind: 'latency', latency_ms: 1, count: 2 });
    await control(emulator, 'api-faults', { kind: 'rate_limit' });
    const token = userToken();
    expect((await api(track(), token)).status).toBe(429);
    expect((await control(emulator, 'api-faults', undefined, 'GET')).json).toMatchObject({
      faults: [{ kind: 'latency', remaining: 1 }],
    });
    expect((await api(track(), token)).status).toBe(200);
    expect(((await control(emulator, 'stats', undefined, 'GET')).json as Json).api_faults).toEqual({
      latency: 2,
      rate_limit: 1,
    });
  });

  it('not_allowlisted: a plain-text 403', async () => {
    await control(emulator, 'api-faults', { kind: 'not_allowlisted' });
    const result = await api('/v1/me', userToken());
    expect(result.status).toBe(403);
    expect(result.headers.get('content-type')).toBe('text/plain');
    expect(result.text).toBe(
      'Check settings on developer.spotify.com/dashboard, the user may not be registered.',
    );
  });

  it('DELETE clears; bad specs → 400', async () => {
    await control(emulator, 'api-faults', { kind: 'rate_limit', count: 5 });
    expect((await control(emulator, 'api-faults', undefined, 'GET')).json).toMatchObject({
      faults: [{ kind: 'rate_limit', remaining: 5, retry_after: 1, reason: null, path: null }],
    });
    await control(emulator, 'api-faults', undefined, 'DELETE');
    expect((await api('/v1/me', userToken())).status).toBe(200);
    for (const spec of [
      { kind: 'explode' },
      { kind: 'rate_limit', count: 0 },
      { kind: 'rate_limit', path: 'me' },
      { kind: 'rate_limit', reason: 'bad reason!' },
      { kind: 'server_error', reason: 'QUOTA_EXCEEDED' },
      { kind: 'server_error', status: 404 },
      { kind: 'server_error', body: 'xml' },
    ]) {
      expect((await control(emulator, 'api-faults', spec)).status, JSON.stringify(spec)).toBe(400);
    }
  });
});

describe('request counters (GET /_emulator/stats → api_requests)', () => {
  it('counts every /v1 request by route pattern, including failures and faults; reset clears', async () => {
    const token = userToken();
    await api('/v1/me', token);
    await api('/v1/me', null);
    await api(`/v1/tracks/${must(TRACKS[0], 'TRACKS[0]').id}`, token);
    await api('/v1/tracks/bad', token);
    await api('/v1/me/top/artists', token);
    await control(emulator, 'api-faults', { kind: 'rate_limit' });
    await api('/v1/search?q=a&type=track', token);
    await api('/v1/nothing', token);
    expect(await apiStats()).toEqual({
      'GET /v1/me': 2,
      'GET /v1/tracks/{id}': 2,
      'GET /v1/me/top/{type}': 1,
      'GET /v1/search': 1,
    });
    expect(((await control(emulator, 'stats', undefined, 'GET')).json as Json).api_faults).toEqual({
      rate_limit: 1,
    });
    await control(emulator, 'stats/reset');
    expect(await apiStats()).toEqual({});
  });
});
