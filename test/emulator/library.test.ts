import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALBUMS, ARTISTS, type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { start } from './helpers.js';
import { call, controlCall, type Json, tokenFor } from './state-helpers.js';

let emulator: RunningEmulator;
let alice: string;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await controlCall(emulator, 'POST', 'reset', { clear_seed: true });
  alice = tokenFor(emulator, 'alice');
});

const FORBIDDEN_RAW = '{"error": {"status": 403, "message": "Forbidden" }}';
const track = (i: number) => TRACKS[i]?.id;
const SHOW = '5CfCWKI5pZ28U0uOzXkDHe';
const EPISODE = '512ojhOuo1ktJprKbVcKyQ';
const AUDIOBOOK = '7iHfbu1YPACw6oZPAFJtqe';

describe('/me/library (2026)', () => {
  it('saves and follows of every type, reflected in contains and the GET /me/... lists', async () => {
    const uris = [
      `spotify:track:${track(0)}`,
      `spotify:album:${ALBUMS[0]?.id}`,
      `spotify:episode:${EPISODE}`,
      `spotify:show:${SHOW}`,
      `spotify:audiobook:${AUDIOBOOK}`,
      `spotify:artist:${ARTISTS[0]?.id}`,
      'spotify:user:bob',
    ];
    const before = await call(emulator, 'GET', `/v1/me/library/contains?uris=${uris.join(',')}`, alice);
    expect(before.json).toEqual(uris.map(() => false));
    const saved = await call(emulator, 'PUT', `/v1/me/library?uris=${uris.join(',')}`, alice);
    expect(saved.status).toBe(200);
    expect(saved.text).toBe('');
    const after = await call(emulator, 'GET', `/v1/me/library/contains?uris=${uris.join(',')}`, alice);
    expect(after.json).toEqual(uris.map(() => true));

    const tracks = (await call(emulator, 'GET', '/v1/me/tracks', alice)).json;
    expect(tracks).toMatchObject({ total: 1, limit: 20, offset: 0 });
    expect(tracks.items[0].track).toMatchObject({ id: track(0), type: 'track' });
    expect(Date.parse(tracks.items[0].added_at)).toBeGreaterThan(0);
    for (const [path, key, id] of [
      ['albums', 'album', ALBUMS[0]?.id],
      ['episodes', 'episode', EPISODE],
      ['shows', 'show', SHOW],
      ['audiobooks', 'audiobook', AUDIOBOOK],
    ] as const) {
      const page = (await call(emulator, 'GET', `/v1/me/${path}`, alice)).json;
      expect(
        page.items.map((i: Json) => i[key].id),
        path,
      ).toEqual([id]);
    }
    const following = (await call(emulator, 'GET', '/v1/me/following?type=artist', alice)).json;
    expect(following.artists).toMatchObject({ total: 1, next: null });
    expect(following.artists.cursors).toEqual({});
    expect(following.artists.items[0].id).toBe(ARTISTS[0]?.id);

    const removed = await call(
      emulator,
      'DELETE',
      `/v1/me/library?uris=${uris.slice(0, 3).join(',')}`,
      alice,
    );
    expect(removed.status).toBe(200);
    const last = await call(emulator, 'GET', `/v1/me/library/contains?uris=${uris.join(',')}`, alice);
    expect(last.json).toEqual([false, false, false, true, true, true, true]);
  });

  it('newest first; saving again keeps the first added_at; /me/following pages with after=', async () => {
    for (let i = 0; i < 3; i++) {
      await call(emulator, 'PUT', `/v1/me/library?uris=spotify:track:${track(i)}`, alice);
      await controlCall(emulator, 'POST', 'clock', { advance_seconds: 60 });
    }
    const first = (await call(emulator, 'GET', '/v1/me/tracks', alice)).json.items;
    await call(emulator, 'PUT', `/v1/me/library?uris=spotify:track:${track(0)}`, alice);
    const again = (await call(emulator, 'GET', '/v1/me/tracks', alice)).json.items;
    expect(again.map((i: Json) => i.track.id)).toEqual([track(2), track(1), track(0)]);
    expect(again).toEqual(first);
    const artists = ARTISTS.slice(0, 5).map((a) => `spotify:artist:${a.id}`);
    await call(emulator, 'PUT', `/v1/me/library?uris=${artists.join(',')}`, alice);
    const page1 = (await call(emulator, 'GET', '/v1/me/following?type=artist&limit=2', alice)).json.artists;
    expect(page1.items).toHaveLength(2);
    expect(page1.total).toBe(5);
    const page2 = (await call(emulator, 'GET', page1.next, alice)).json.artists;
    expect(page2.items[0].id).not.toBe(page1.items[1].id);
    expect(new Set([...page1.items, ...page2.items].map((a: Json) => a.id)).size).toBe(4);
  });

  it('`uris` must be in the query (≤ 40, well-formed, a supported type); each type needs its scope', async () => {
    const body = await call(emulator, 'PUT', '/v1/me/library', alice, {
      uris: [`spotify:track:${track(0)}`],
    });
    expect(body.status).toBe(400);
    expect(body.json.error.message).toBe('Missing required field: uris');
    const many = Array.from({ length: 41 }, (_, i) => `spotify:track:${track(i)}`).join(',');
    expect((await call(emulator, 'PUT', `/v1/me/library?uris=${many}`, alice)).status).toBe(400);
    expect((await call(emulator, 'PUT', '/v1/me/library?uris=spotify:track:short', alice)).status).toBe(400);
    expect((await call(emulator, 'PUT', `/v1/me/library?uris=${track(0)}`, alice)).status).toBe(400);
    const chapter = await call(emulator, 'PUT', `/v1/me/library?uris=spotify:chapter:${track(0)}`, alice);
    expect(chapter.json.error.message).toContain('Unsupported');
    const libraryOnly = tokenFor(emulator, 'alice', { scopes: ['user-library-modify'] });
    const artist = `spotify:artist:${ARTISTS[0]?.id}`;
    const refused = await call(emulator, 'PUT', `/v1/me/library?uris=${artist}`, libraryOnly);
    expect(refused.json).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    expect(
      (await call(emulator, 'PUT', `/v1/me/library?uris=spotify:track:${track(0)}`, libraryOnly)).status,
    ).toBe(200);
    await controlCall(emulator, 'POST', 'catalogue/missing', { uris: [`spotify:album:${ALBUMS[1]?.id}`] });
    const missing = await call(emulator, 'PUT', `/v1/me/library?uris=spotify:album:${ALBUMS[1]?.id}`, alice);
    expect(missing.json.error.message).toBe('Payload contains a non-existing ID');
    await controlCall(emulator, 'DELETE', 'catalogue/missing');
  });

  it('following a playlist lists it in /me/playlists; unfollowing your own removes it', async () => {
    const created = (await call(emulator, 'POST', '/v1/me/playlists', alice, { name: 'Gone soon' })).json;
    const carols = (await controlCall(emulator, 'GET', 'state?user_id=carol')).json.playlists;
    const publicOne = carols.find((p: Json) => p.public);
    await call(emulator, 'PUT', `/v1/me/library?uris=spotify:playlist:${publicOne.id}`, alice);
    const list = (await call(emulator, 'GET', '/v1/me/playlists?limit=2', alice)).json;
    expect(list.items.map((p: Json) => p.id)).toEqual([publicOne.id, created.id]);
    expect(list.total).toBe(27);
    await call(emulator, 'DELETE', `/v1/me/library?uris=spotify:playlist:${created.id}`, alice);
    expect((await call(emulator, 'GET', '/v1/me/playlists', alice)).json.total).toBe(26);
  });
});

describe('legacy type-specific endpoints', () => {
  it('development mode: the captured 403; extended mode: served, and shared with /me/library', async () => {
    const dev = await call(emulator, 'PUT', `/v1/me/tracks?ids=${track(0)}`, alice);
    expect(dev.status).toBe(403);
    expect(dev.text).toBe(FORBIDDEN_RAW);
    const ext = tokenFor(emulator, 'alice', { extended: true });
    const saved = await call(emulator, 'PUT', `/v1/me/tracks?ids=${track(0)},${track(1)}`, ext);
    expect(saved.status).toBe(200);
    expect(saved.text).toBe('');
    expect(saved.headers.get('content-type')).toContain('text/plain');
    // A trailing slash, as spotipy sends.
    expect((await call(emulator, 'PUT', `/v1/me/albums/?ids=${ALBUMS[0]?.id}`, ext)).status).toBe(200);
    const contains = await call(emulator, 'GET', `/v1/me/tracks/contains?ids=${track(0)},${track(2)}`, ext);
    expect(contains.json).toEqual([true, false]);
    const generic = await call(
      emulator,
      'GET',
      `/v1/me/library/contains?uris=spotify:track:${track(1)},spotify:album:${ALBUMS[0]?.id}`,
      alice,
    );
    expect(generic.json).toEqual([true, true]);
    // The ids in a JSON body; timestamped_ids set added_at.
    const stamped = await call(emulator, 'PUT', '/v1/me/tracks', ext, {
      timestamped_ids: [{ id: track(5), added_at: '2020-01-02T03:04:05Z' }],
    });
    expect(stamped.status).toBe(200);
    const items = (await call(emulator, 'GET', '/v1/me/tracks?limit=50', alice)).json.items;
    expect(items.find((i: Json) => i.track.id === track(5)).added_at).toBe('2020-01-02T03:04:05.000Z');
    // The spec takes the ids in the query or in a JSON body {"ids": [...]}.
    expect((await call(emulator, 'DELETE', '/v1/me/tracks', ext, { ids: [track(0)] })).status).toBe(200);
    expect((await call(emulator, 'GET', `/v1/me/tracks/contains?ids=${track(0)}`, ext)).json).toEqual([
      false,
    ]);
    expect((await call(emulator, 'DELETE', `/v1/me/tracks?ids=${track(1)}`, ext)).status).toBe(200);
    expect((await call(emulator, 'GET', `/v1/me/tracks/contains?ids=${track(1)}`, ext)).json).toEqual([
      false,
    ]);
    for (const kind of ['episodes', 'shows', 'audiobooks']) {
      expect((await call(emulator, 'PUT', `/v1/me/${kind}?ids=${SHOW}`, ext)).status, kind).toBe(200);
      expect((await call(emulator, 'GET', `/v1/me/${kind}/contains?ids=${SHOW}`, ext)).json, kind).toEqual([
        true,
      ]);
    }
    expect((await call(emulator, 'PUT', '/v1/me/tracks?ids=nope', ext)).json.error.message).toBe(
      'invalid id',
    );
    const tooMany = Array.from({ length: 51 }, (_, i) => track(i)).join(',');
    expect((await call(emulator, 'PUT', `/v1/me/tracks?ids=${tooMany}`, ext)).status).toBe(400);
  });

  it('ids in a JSON body {"ids": [...]} wherever the spec gives the write one; the query wins', async () => {
    const ext = tokenFor(emulator, 'alice', { extended: true });
    const contains = async (kind: string, ids: readonly (string | undefined)[]) =>
      (await call(emulator, 'GET', `/v1/me/${kind}/contains?ids=${ids.join(',')}`, ext)).json;
    for (const [kind, id] of [
      ['tracks', track(0)],
      ['albums', ALBUMS[0]?.id],
      ['episodes', EPISODE],
      ['shows', SHOW],
    ] as const) {
      const saved = await call(emulator, 'PUT', `/v1/me/${kind}`, ext, { ids: [id] });
      expect([saved.status, saved.text], kind).toEqual([200, '']);
      expect(await contains(kind, [id]), kind).toEqual([true]);
      expect((await call(emulator, 'DELETE', `/v1/me/${kind}`, ext, { ids: [id] })).status, kind).toBe(200);
      expect(await contains(kind, [id]), kind).toEqual([false]);
    }
    // "If the ids parameter is present in the query string, any IDs listed here in the body will be
    // ignored" (OAS).
    await call(emulator, 'PUT', `/v1/me/albums?ids=${ALBUMS[1]?.id}`, ext, { ids: [ALBUMS[2]?.id] });
    expect(await contains('albums', [ALBUMS[1]?.id, ALBUMS[2]?.id])).toEqual([true, false]);
    // PUT /me/tracks: timestamped_ids win over the query's ids and the body's (OAS).
    await call(emulator, 'PUT', `/v1/me/tracks?ids=${track(1)}`, ext, {
      ids: [track(3)],
      timestamped_ids: [{ id: track(2), added_at: '2021-05-06T07:08:09Z' }],
    });
    expect(await contains('tracks', [track(1), track(2), track(3)])).toEqual([false, true, false]);
    // Follows: the ids in the body, the type in the query (as the official SDK sends them).
    const artist = ARTISTS[5]?.id;
    const follow = await call(emulator, 'PUT', '/v1/me/following?type=artist', ext, { ids: [artist] });
    expect(follow.status).toBe(204);
    const follows = async () =>
      (await call(emulator, 'GET', `/v1/me/following/contains?type=artist&ids=${artist}`, ext)).json;
    expect(await follows()).toEqual([true]);
    const unfollow = await call(emulator, 'DELETE', '/v1/me/following?type=artist', ext, { ids: [artist] });
    expect(unfollow.status).toBe(204);
    expect(await follows()).toEqual([false]);
  });

  it('ids in neither place, or a bare JSON array: 400 "Missing required field: ids" as captured', async () => {
    const ext = tokenFor(emulator, 'alice', { extended: true });
    const MISSING_IDS = '{"error": {"status": 400, "message": "Missing required field: ids" } }';
    for (const [method, path, body] of [
      ['PUT', '/v1/me/tracks', [track(0)]],
      ['DELETE', '/v1/me/tracks', [track(0)]],
      ['PUT', '/v1/me/albums', [ALBUMS[0]?.id]],
      ['PUT', '/v1/me/episodes', { ids: [] }],
      ['PUT', '/v1/me/shows', undefined],
      ['PUT', '/v1/me/following?type=artist', { ids: 'not-an-array' }],
    ] as const) {
      const result = await call(emulator, method, path, ext, body);
      expect([result.status, result.text], `${method} ${path}`).toEqual([400, MISSING_IDS]);
    }
    expect((await call(emulator, 'GET', `/v1/me/tracks/contains?ids=${track(0)}`, ext)).json).toEqual([
      false,
    ]);
    // The spec gives the audiobook writes no body: their ids belong in the query.
    const book = await call(emulator, 'PUT', '/v1/me/audiobooks', ext, { ids: [AUDIOBOOK] });
    expect(book.json).toEqual({ error: { status: 400, message: 'Missing required field: ids' } });
    expect((await call(emulator, 'PUT', `/v1/me/audiobooks?ids=${AUDIOBOOK}`, ext)).status).toBe(200);
  });

  it('follows: /me/following (204) and /playlists/{id}/followers (200), with contains', async () => {
    const ext = tokenFor(emulator, 'alice', { extended: true });
    const artist = ARTISTS[3]?.id;
    const followed = await call(emulator, 'PUT', `/v1/me/following?type=artist&ids=${artist}`, ext);
    expect(followed.status).toBe(204);
    expect((await call(emulator, 'PUT', '/v1/me/following?type=user&ids=carol', ext)).status).toBe(204);
    const check = await call(
      emulator,
      'GET',
      `/v1/me/following/contains?type=artist&ids=${artist},${ARTISTS[4]?.id}`,
      ext,
    );
    expect(check.json).toEqual([true, false]);
    expect((await call(emulator, 'GET', '/v1/me/following/contains?type=user&ids=carol', ext)).json).toEqual([
      true,
    ]);
    expect((await call(emulator, 'DELETE', `/v1/me/following?type=artist&ids=${artist}`, ext)).status).toBe(
      204,
    );
    expect((await call(emulator, 'GET', '/v1/me/following?type=artist', alice)).json.artists.total).toBe(0);

    const carols = (await controlCall(emulator, 'GET', 'state?user_id=carol')).json.playlists;
    const id = carols[0].id;
    expect((await call(emulator, 'PUT', `/v1/playlists/${id}/followers`, ext, { public: true })).status).toBe(
      200,
    );
    expect((await call(emulator, 'GET', `/v1/playlists/${id}/followers/contains`, ext)).json).toEqual([true]);
    expect(
      (await call(emulator, 'GET', `/v1/playlists/${id}/followers/contains?ids=alice,bob`, ext)).json,
    ).toEqual([true, false]);
    expect(
      (await call(emulator, 'GET', `/v1/me/library/contains?uris=spotify:playlist:${id}`, alice)).json,
    ).toEqual([true]);
    expect((await call(emulator, 'DELETE', `/v1/playlists/${id}/followers`, ext)).status).toBe(200);
    expect((await call(emulator, 'GET', `/v1/playlists/${id}/followers/contains`, ext)).json).toEqual([
      false,
    ]);
    const dev = await call(emulator, 'PUT', `/v1/playlists/${id}/followers`, alice);
    expect(dev.text).toBe(FORBIDDEN_RAW);
  });
});
