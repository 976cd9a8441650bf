import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { start } from './helpers.js';
import { call, controlCall, type Json, tokenFor } from './state-helpers.js';

let emulator: RunningEmulator;
let alice: string;
let bob: string;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await controlCall(emulator, 'POST', 'reset', { clear_seed: true });
  alice = tokenFor(emulator, 'alice');
  bob = tokenFor(emulator, 'bob');
});

const uri = (i: number) => `spotify:track:${TRACKS[i]?.id}`;
const FORBIDDEN_RAW = '{"error": {"status": 403, "message": "Forbidden" }}';

async function createPlaylist(token: string, body: Record<string, unknown> = { name: 'Test list' }) {
  const created = await call(emulator, 'POST', '/v1/me/playlists', token, body);
  expect(created.status).toBe(201);
  return created.json as Json;
}

async function itemUris(token: string, id: string): Promise<string[]> {
  const page = await call(emulator, 'GET', `/v1/playlists/${id}/items?limit=50`, token);
  expect(page.status).toBe(200);
  return page.json.items.map((i: Json) => i.item.uri);
}

describe('create → add → reorder → replace → remove, with snapshot ids', () => {
  it('each write answers its status with a new snapshot_id, and the items follow', async () => {
    const playlist = await createPlaylist(alice, { name: 'Road', description: 'd', public: false });
    expect(playlist).toMatchObject({
      name: 'Road',
      description: 'd',
      public: false,
      collaborative: false,
      owner: { id: 'alice', display_name: 'Alice Example' },
      primary_color: null,
      items: { total: 0, items: [] },
      followers: { total: 0 },
      type: 'playlist',
    });
    const snapshots = [playlist.snapshot_id];
    const added = await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, alice, {
      uris: [uri(0), uri(1), uri(2)],
    });
    expect(added.status).toBe(201);
    snapshots.push(added.json.snapshot_id);
    // Query `uris` wins over the body; position inserts.
    const inserted = await call(
      emulator,
      'POST',
      `/v1/playlists/${playlist.id}/items?uris=${uri(3)}&position=1`,
      alice,
      { uris: [uri(9)] },
    );
    expect(inserted.status).toBe(201);
    snapshots.push(inserted.json.snapshot_id);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(0), uri(3), uri(1), uri(2)]);

    const reordered = await call(emulator, 'PUT', `/v1/playlists/${playlist.id}/items`, alice, {
      range_start: 0,
      insert_before: 4,
    });
    expect(reordered.status).toBe(200);
    snapshots.push(reordered.json.snapshot_id);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(3), uri(1), uri(2), uri(0)]);

    const removed = await call(emulator, 'DELETE', `/v1/playlists/${playlist.id}/items`, alice, {
      items: [{ uri: uri(1) }],
    });
    expect(removed.status).toBe(200);
    snapshots.push(removed.json.snapshot_id);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(3), uri(2), uri(0)]);

    const replaced = await call(emulator, 'PUT', `/v1/playlists/${playlist.id}/items`, alice, {
      uris: [uri(5), uri(6)],
    });
    expect(replaced.status).toBe(200);
    snapshots.push(replaced.json.snapshot_id);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(5), uri(6)]);
    expect(new Set(snapshots).size).toBe(snapshots.length);

    const full = (await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, alice)).json;
    expect(full.snapshot_id).toBe(snapshots.at(-1));
    expect(full.items.total).toBe(2);
    const entry = full.items.items[0];
    expect(entry).toMatchObject({
      added_by: { id: 'alice' },
      is_local: false,
      primary_color: null,
      video_thumbnail: { url: null },
      item: { uri: uri(5), type: 'track' },
      track: { uri: uri(5) },
    });
    // Newest playlist first in /me/playlists, with both `items` and `tracks` links.
    const mine = (await call(emulator, 'GET', '/v1/me/playlists?limit=1', alice)).json;
    expect(mine.items[0]).toMatchObject({ id: playlist.id, items: { total: 2 }, tracks: { total: 2 } });
  });

  it('a stale snapshot: positions are read in that version and later additions stay', async () => {
    const playlist = await createPlaylist(alice);
    const v1 = (
      await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, alice, {
        uris: [uri(0), uri(1), uri(2), uri(1)],
      })
    ).json.snapshot_id;
    // Since v1: another uri(1) at the front.
    await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items?position=0`, alice, { uris: [uri(1)] });
    // Position 3 of v1 is the second uri(1); the one added later is untouched.
    const removed = await call(emulator, 'DELETE', `/v1/playlists/${playlist.id}/items`, alice, {
      items: [{ uri: uri(1), positions: [3] }],
      snapshot_id: v1,
    });
    expect(removed.status).toBe(200);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(1), uri(0), uri(1), uri(2)]);
    // Without positions, a stale snapshot removes every occurrence that version had, not the later one.
    await call(emulator, 'DELETE', `/v1/playlists/${playlist.id}/items`, alice, {
      items: [{ uri: uri(1) }],
      snapshot_id: v1,
    });
    expect(await itemUris(alice, playlist.id)).toEqual([uri(1), uri(0), uri(2)]);
    // A position whose item in that version is another track: refused.
    const wrong = await call(emulator, 'DELETE', `/v1/playlists/${playlist.id}/items`, alice, {
      items: [{ uri: uri(2), positions: [0] }],
      snapshot_id: v1,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.message).toBe('Could not remove tracks, please check parameters.');
    // Reorder against v1: move v1's first item (uri(0)) to the end.
    await call(emulator, 'PUT', `/v1/playlists/${playlist.id}/items`, alice, {
      range_start: 0,
      insert_before: 4,
      snapshot_id: v1,
    });
    expect(await itemUris(alice, playlist.id)).toEqual([uri(1), uri(2), uri(0)]);
    // Not a snapshot of this playlist: 400.
    for (const snapshot_id of ['bogus', playlist.snapshot_id.replace(/.$/, 'x'), 'MTIzLGFiYw==']) {
      const bad = await call(emulator, 'DELETE', `/v1/playlists/${playlist.id}/items`, alice, {
        items: [{ uri: uri(0) }],
        snapshot_id,
      });
      expect(bad.status).toBe(400);
    }
    const other = await createPlaylist(alice);
    const foreign = await call(emulator, 'DELETE', `/v1/playlists/${other.id}/items`, alice, {
      items: [{ uri: uri(0) }],
      snapshot_id: v1,
    });
    expect(foreign.json).toEqual({ error: { status: 400, message: 'Invalid snapshot id' } });
  });

  it('bad input → 400s with Spotify-style messages', async () => {
    const playlist = await createPlaylist(alice);
    const path = `/v1/playlists/${playlist.id}/items`;
    const cases: [string, unknown, string][] = [
      ['POST', {}, 'Missing required field: uris'],
      ['POST', { uris: ['spotify:album:0000000000000000000000'] }, 'Invalid track uri'],
      ['POST', { uris: Array.from({ length: 101 }, () => uri(0)) }, 'maximum of 100'],
      ['POST', { uris: [uri(0)], position: 5 }, 'Index out of bounds'],
      ['PUT', { insert_before: 0 }, 'Missing required field: range_start'],
      ['PUT', { uris: [uri(0)], range_start: 0, insert_before: 1 }, 'cannot be combined'],
      ['DELETE', {}, 'Missing required field: items'],
    ];
    for (const [method, body, message] of cases) {
      const result = await call(emulator, method, path, alice, body);
      expect(result.status, `${method} ${JSON.stringify(body).slice(0, 60)}`).toBe(400);
      expect(result.json.error.message).toContain(message);
    }
    expect((await call(emulator, 'POST', '/v1/me/playlists', alice, {})).json.error.message).toBe(
      'Missing required field: name',
    );
    expect((await call(emulator, 'GET', '/v1/playlists/short', alice)).json.error.message).toBe('invalid id');
    expect((await call(emulator, 'GET', '/v1/playlists/0000000000000000000000', alice)).status).toBe(404);
    // An id declared missing cannot be added.
    const missing = 'spotify:track:1111111111111111111111';
    await controlCall(emulator, 'POST', 'catalogue/missing', { uris: [missing] });
    const refused = await call(emulator, 'POST', path, alice, { uris: [missing] });
    expect(refused.json.error.message).toBe('Payload contains a non-existing ID');
    await controlCall(emulator, 'DELETE', 'catalogue/missing');
  });
});

describe('ownership, collaboration and flags', () => {
  it('another user reads the metadata but not the items (403, captured body); extended apps read both', async () => {
    const playlist = await createPlaylist(alice);
    await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, alice, { uris: [uri(0)] });
    const meta = await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, bob);
    expect(meta.status).toBe(200);
    expect(meta.json).toMatchObject({ id: playlist.id, items: { total: 1, items: [] } });
    const items = await call(emulator, 'GET', `/v1/playlists/${playlist.id}/items`, bob);
    expect(items.status).toBe(403);
    expect(items.text).toBe(FORBIDDEN_RAW);
    const extended = tokenFor(emulator, 'bob', { extended: true });
    const allowed = await call(emulator, 'GET', `/v1/playlists/${playlist.id}/items`, extended);
    expect(allowed.status).toBe(200);
    expect(allowed.json.items).toHaveLength(1);
    // Writes stay the owner's (and collaborators') whatever the mode.
    for (const token of [bob, extended]) {
      expect(
        (await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, token, { uris: [uri(1)] }))
          .status,
      ).toBe(403);
      expect((await call(emulator, 'PUT', `/v1/playlists/${playlist.id}`, token, { name: 'x' })).status).toBe(
        403,
      );
    }
  });

  it('a collaborative playlist: followers read and add items; only the owner changes details', async () => {
    const playlist = await createPlaylist(alice, { name: 'Shared', collaborative: true, public: false });
    expect(playlist).toMatchObject({ collaborative: true, public: false });
    expect((await call(emulator, 'GET', `/v1/playlists/${playlist.id}/items`, bob)).status).toBe(403);
    const follow = await call(emulator, 'PUT', `/v1/me/library?uris=spotify:playlist:${playlist.id}`, bob);
    expect(follow.status).toBe(200);
    expect((await call(emulator, 'GET', `/v1/playlists/${playlist.id}/items`, bob)).status).toBe(200);
    const added = await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, bob, { uris: [uri(4)] });
    expect(added.status).toBe(201);
    const items = (await call(emulator, 'GET', `/v1/playlists/${playlist.id}/items`, alice)).json.items;
    expect(items[0].added_by.id).toBe('bob');
    expect((await call(emulator, 'PUT', `/v1/playlists/${playlist.id}`, bob, { name: 'Mine' })).status).toBe(
      403,
    );
    // Followers count, and the follow shows in bob's /me/playlists.
    expect((await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, alice)).json.followers.total).toBe(1);
    const bobs = (await call(emulator, 'GET', '/v1/me/playlists?limit=1', bob)).json.items[0];
    expect(bobs).toMatchObject({ id: playlist.id, owner: { id: 'alice' } });
    // Without playlist-read-collaborative it is left out of the list.
    const narrow = tokenFor(emulator, 'bob', { scopes: ['playlist-read-private'] });
    const list = (await call(emulator, 'GET', '/v1/me/playlists?limit=50', narrow)).json.items;
    expect(list.some((p: Json) => p.id === playlist.id)).toBe(false);
  });

  it('change details: name, description, public; collaborative + public → 400; the modify scope must match', async () => {
    const playlist = await createPlaylist(alice);
    expect(playlist.public).toBe(true);
    const changed = await call(emulator, 'PUT', `/v1/playlists/${playlist.id}`, alice, {
      name: 'Renamed',
      description: 'New words',
      public: false,
    });
    expect(changed.status).toBe(200);
    expect(changed.text).toBe('');
    const after = (await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, alice)).json;
    expect(after).toMatchObject({ name: 'Renamed', description: 'New words', public: false });
    expect(after.snapshot_id).not.toBe(playlist.snapshot_id);
    const both = await call(emulator, 'PUT', `/v1/playlists/${playlist.id}`, alice, {
      collaborative: true,
      public: true,
    });
    expect(both.status).toBe(400);
    // A private playlist needs playlist-modify-private.
    const publicOnly = tokenFor(emulator, 'alice', { scopes: ['playlist-modify-public'] });
    const refused = await call(emulator, 'PUT', `/v1/playlists/${playlist.id}`, publicOnly, { name: 'x' });
    expect(refused.json).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
  });

  it('cover upload: 202, served back byte for byte; not a JPEG → 400; needs ugc-image-upload', async () => {
    const playlist = await createPlaylist(alice);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);
    const upload = await call(
      emulator,
      'PUT',
      `/v1/playlists/${playlist.id}/images`,
      alice,
      undefined,
      jpeg.toString('base64'),
    );
    expect(upload.status).toBe(202);
    const images = (await call(emulator, 'GET', `/v1/playlists/${playlist.id}/images`, alice)).json;
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ height: null, width: null });
    const served = await fetch(images[0].url);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(jpeg);
    expect((await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, bob)).json.images[0].url).toBe(
      images[0].url,
    );
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    expect(
      (await call(emulator, 'PUT', `/v1/playlists/${playlist.id}/images`, alice, undefined, png)).status,
    ).toBe(400);
    expect(
      (await call(emulator, 'PUT', `/v1/playlists/${playlist.id}/images`, alice, undefined, 'not base64!'))
        .status,
    ).toBe(400);
    const noScope = tokenFor(emulator, 'alice', { scopes: ['playlist-modify-public'] });
    expect(
      (
        await call(
          emulator,
          'PUT',
          `/v1/playlists/${playlist.id}/images`,
          noScope,
          undefined,
          jpeg.toString('base64'),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await call(
          emulator,
          'PUT',
          `/v1/playlists/${playlist.id}/images`,
          bob,
          undefined,
          jpeg.toString('base64'),
        )
      ).status,
    ).toBe(403);
  });
});

describe('legacy /tracks and /users/{id}/playlists', () => {
  it('development mode: 403 captured body; extended mode: served, /tracks items carry `track`', async () => {
    const playlist = await createPlaylist(alice);
    const path = `/v1/playlists/${playlist.id}/tracks`;
    const dev = await call(emulator, 'POST', path, alice, { uris: [uri(0)] });
    expect(dev.status).toBe(403);
    expect(dev.text).toBe(FORBIDDEN_RAW);
    const extended = tokenFor(emulator, 'alice', { extended: true });
    expect((await call(emulator, 'POST', path, extended, { uris: [uri(0), uri(1)] })).status).toBe(201);
    const page = (await call(emulator, 'GET', `${path}?limit=100`, extended)).json;
    expect(page.items.map((i: Json) => i.track.uri)).toEqual([uri(0), uri(1)]);
    expect((await call(emulator, 'DELETE', path, extended, { tracks: [{ uri: uri(0) }] })).status).toBe(200);
    expect(await itemUris(alice, playlist.id)).toEqual([uri(1)]);
    const created = await call(emulator, 'POST', '/v1/users/alice/playlists', extended, { name: 'Old way' });
    expect(created.status).toBe(201);
    expect((await call(emulator, 'POST', '/v1/users/bob/playlists', extended, { name: 'x' })).status).toBe(
      403,
    );
    const theirs = (
      await call(
        emulator,
        'GET',
        '/v1/users/alice/playlists?limit=50',
        tokenFor(emulator, 'bob', { extended: true }),
      )
    ).json;
    expect(theirs.items.every((p: Json) => p.public)).toBe(true);
    expect(theirs.items.some((p: Json) => p.id === created.json.id)).toBe(true);
  });

  it('default playlists exist by id before their owner is touched, with items', async () => {
    const carols = (await controlCall(emulator, 'GET', 'state?user_id=carol')).json.playlists;
    expect(carols).toHaveLength(25);
    await controlCall(emulator, 'POST', 'reset', { clear_seed: true });
    const extended = tokenFor(emulator, 'alice', { extended: true });
    const got = await call(emulator, 'GET', `/v1/playlists/${carols[0].id}/items`, extended);
    expect(got.status).toBe(200);
    expect(got.json.total).toBe(carols[0].items.length);
  });
});

describe('the fields filter (GET /playlists/{id}, /items, legacy /tracks)', () => {
  async function filled() {
    const playlist = await createPlaylist(alice, { name: 'Filtered', description: 'only some' });
    await call(emulator, 'POST', `/v1/playlists/${playlist.id}/items`, alice, { uris: [uri(0), uri(1)] });
    const full = (await call(emulator, 'GET', `/v1/playlists/${playlist.id}`, alice)).json;
    return { id: playlist.id as string, full };
  }
  const get = (path: string, fields: string, token = alice) =>
    call(
      emulator,
      'GET',
      `${path}${path.includes('?') ? '&' : '?'}fields=${encodeURIComponent(fields)}`,
      token,
    );

  it('the spec’s forms: a list, a.b, a(b,c), nested, over every element of an array', async () => {
    const { id, full } = await filled();
    const tracks = full.items.items.map((i: Json) => i.track);
    expect((await get(`/v1/playlists/${id}`, 'description,uri')).json).toEqual({
      description: 'only some',
      uri: `spotify:playlist:${id}`,
    });
    expect((await get(`/v1/playlists/${id}`, 'name,tracks.items(track(name,id))')).json).toEqual({
      name: 'Filtered',
      tracks: { items: tracks.map((t: Json) => ({ track: { name: t.name, id: t.id } })) },
    });
    expect((await get(`/v1/playlists/${id}`, 'owner.id,items.items(added_by.id),items.total')).json).toEqual({
      items: { items: [{ added_by: { id: 'alice' } }, { added_by: { id: 'alice' } }], total: 2 },
      owner: { id: 'alice' },
    });
    const items = await get(`/v1/playlists/${id}/items`, 'items(added_at,track(name,album(name,href)))');
    expect(items.status).toBe(200);
    expect(items.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(items.json).toEqual({
      items: full.items.items.map((i: Json) => ({
        added_at: i.added_at,
        track: { album: { href: i.track.album.href, name: i.track.album.name }, name: i.track.name },
      })),
    });
    expect((await get(`/v1/playlists/${id}/items?limit=5`, 'total,limit')).json).toEqual({
      limit: 5,
      total: 2,
    });
    expect((await get(`/v1/playlists/${id}/items`, 'items(track(name))')).json).toEqual({
      items: tracks.map((t: Json) => ({ track: { name: t.name } })),
    });
    const ext = tokenFor(emulator, 'alice', { extended: true });
    expect((await get(`/v1/playlists/${id}/tracks`, 'items(track(uri))', ext)).json).toEqual({
      items: tracks.map((t: Json) => ({ track: { uri: t.uri } })),
    });
  });

  it('"!" leaves fields out; unknown fields are absent; a sub-selection of a non-object keeps it', async () => {
    const { id, full } = await filled();
    const album = full.items.items[0].track.album;
    const picked = await get(`/v1/playlists/${id}/items`, 'items.track.album(!external_urls,images)');
    expect(picked.json.items[0]).toEqual({ track: { album: { images: album.images } } });
    const dropped = await get(`/v1/playlists/${id}/items`, 'items(track(album(!images,!external_urls)))');
    const { images: _images, external_urls: _urls, ...rest } = album;
    expect(dropped.json.items[0]).toEqual({ track: { album: rest } });
    expect((await get(`/v1/playlists/${id}`, 'name,bogus,owner(nope),name(x)')).json).toEqual({
      name: 'Filtered',
      owner: {},
    });
    expect((await get(`/v1/playlists/${id}`, 'nothing')).json).toEqual({});
    // Repeated and overlapping selections merge; asking for the whole field wins.
    expect((await get(`/v1/playlists/${id}`, 'owner.id,owner(display_name),owner.id')).json).toEqual({
      owner: { display_name: 'Alice Example', id: 'alice' },
    });
    expect((await get(`/v1/playlists/${id}`, 'owner.id,owner')).json).toEqual({ owner: full.owner });
    // Without `fields` (or empty), everything.
    expect((await get(`/v1/playlists/${id}`, '')).json).toEqual(full);
  });

  it('a malformed filter → 400 "Invalid fields" in Spotify’s error shape, on each endpoint', async () => {
    const { id } = await filled();
    for (const fields of [
      'name,',
      ',name',
      'items(track(name)',
      'items()',
      'name)',
      '!owner.id',
      '!owner(id)',
      'owner..id',
      '(name)',
      'items(track(na me))',
      'name;uri',
      `${'a('.repeat(40)}b${')'.repeat(40)}`,
    ]) {
      const result = await get(`/v1/playlists/${id}`, fields);
      expect([result.status, result.json], fields).toEqual([
        400,
        { error: { status: 400, message: 'Invalid fields' } },
      ]);
      expect((await get(`/v1/playlists/${id}/items`, fields)).status, fields).toBe(400);
    }
  });
});
