import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorOptionsFrom } from '../../src/cli/commands/emulator.js';
import { ALBUMS, ARTISTS, type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { EMULATOR_SCOPES } from '../../src/emulator/scopes.js';
import { must } from '../support/must.js';
import { control, start } from './helpers.js';
import { type Json, SPEC, specOperations } from './spec-schema.js';

/**
 * App modes, legacy endpoints, error shapes, trailing slashes, catalogue determinism, missing ids, search
 * filters and catalogue files, over real HTTP.
 */

const FORBIDDEN = '{"error": {"status": 403, "message": "Forbidden" }}';
const ARBITRARY = '4uLU6hMCjMI75M1A2tKUQC';

let emulator: RunningEmulator;
const token: Record<'dev' | 'ext' | 'legacy', string> = { dev: '', ext: '', legacy: '' };

beforeAll(async () => {
  emulator = await start();
  const scopes = Object.keys(EMULATOR_SCOPES);
  const uris = ['http://127.0.0.1/cb'];
  await control(emulator, 'apps', { client_id: 'm-dev', redirect_uris: uris });
  await control(emulator, 'apps', { client_id: 'm-ext', redirect_uris: uris, mode: 'extended' });
  await control(emulator, 'apps', { client_id: 'm-legacy', redirect_uris: uris, legacy_endpoints: true });
  token.dev = emulator.state.issueAccessToken('m-dev', 'alice', scopes, null);
  token.ext = emulator.state.issueAccessToken('m-ext', 'alice', scopes, null);
  token.legacy = emulator.state.issueAccessToken('m-legacy', 'alice', scopes, null);
});
afterAll(() => emulator.stop());

async function api(path: string, who: keyof typeof token | null = 'dev', init: RequestInit = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (who) headers['authorization'] = `Bearer ${token[who]}`;
  const response = await fetch(`${emulator.url}${path}`, { ...init, headers });
  const text = await response.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

describe('app modes', () => {
  it('apps default to development; mode and legacy_endpoints are shown and validated', async () => {
    const apps = (await control(emulator, 'apps', undefined, 'GET')).json as unknown as Json[];
    const byId = Object.fromEntries(apps.map((a) => [a.client_id, a]));
    expect(byId['m-dev']).toMatchObject({ mode: 'development', legacy_endpoints: false });
    expect(byId['m-ext']).toMatchObject({ mode: 'extended' });
    expect(byId['m-legacy']).toMatchObject({ mode: 'development', legacy_endpoints: true });
    expect(
      (await control(emulator, 'apps', { client_id: 'x', redirect_uris: [], mode: 'turbo' })).status,
    ).toBe(400);
    expect((await control(emulator, 'apps/mode', { client_id: 'nobody', mode: 'extended' })).status).toBe(
      400,
    );
  });

  it('legacy_endpoints serves the February 2026 removals, never the 2024 ones', async () => {
    const track = must(TRACKS[0], 'TRACKS[0]').id;
    const tracks = await api(`/v1/tracks?ids=${track}`, 'legacy');
    expect(tracks.status).toBe(200);
    expect(tracks.json.tracks[0].id).toBe(track);
    expect((await api(`/v1/tracks?ids=${track}`, 'dev')).text).toBe(FORBIDDEN);
    expect((await api(`/v1/audio-features/${track}`, 'legacy')).json).toEqual({ error: { status: 403 } });
    expect((await api(`/v1/recommendations?seed_tracks=${track}`, 'legacy')).status).toBe(404);
    expect((await api(`/v1/recommendations?seed_tracks=${track}`, 'ext')).status).toBe(200);
  });

  it('every operation the spec marks deprecated is refused in development mode and served in extended', () => {
    // The walk (spec-walk.test.ts) checks each answer; this pins that the two sets agree with the spec.
    const deprecated = specOperations().filter((op) => op.deprecated);
    expect(deprecated.length).toBeGreaterThan(40);
    expect(deprecated.every((op) => SPEC.paths[op.path][op.method.toLowerCase()].deprecated)).toBe(true);
  });

  it('/me: development mode leaves out country, email, explicit_content, followers, product', async () => {
    const dev = (await api('/v1/me/', 'dev')).json;
    expect(Object.keys(dev).sort()).toEqual(
      ['account_id', 'display_name', 'external_urls', 'href', 'id', 'images', 'type', 'uri'].sort(),
    );
    const ext = (await api('/v1/me', 'ext')).json;
    expect(ext).toMatchObject({ email: 'alice@example.com', product: 'premium', country: 'SE' });
  });

  it('catalogue fields development mode no longer gets', async () => {
    const id = must(TRACKS[2], 'TRACKS[2]').id;
    const dev = (await api(`/v1/tracks/${id}`, 'dev')).json;
    const ext = (await api(`/v1/tracks/${id}`, 'ext')).json;
    for (const field of ['available_markets', 'popularity']) {
      expect(dev).not.toHaveProperty(field);
      expect(ext).toHaveProperty(field);
    }
    expect(dev.album).not.toHaveProperty('available_markets');
    expect(dev.external_ids.isrc).toBe(ext.external_ids.isrc);
    const artist = (await api(`/v1/artists/${must(ARTISTS[0], 'ARTISTS[0]').id}`, 'dev')).json;
    expect(artist).not.toHaveProperty('followers');
    expect(artist).not.toHaveProperty('popularity');
  });

  it('search: limit 10 in development mode ("Invalid limit", Spotify spacing), 50 in extended', async () => {
    const over = await api('/v1/search?q=e&type=track&limit=11', 'dev');
    expect([over.status, over.text]).toEqual([400, '{"error": {"status": 400, "message": "Invalid limit"}}']);
    expect((await api('/v1/search?q=e&type=track', 'dev')).json.tracks.limit).toBe(5);
    expect((await api('/v1/search?q=e&type=track', 'ext')).json.tracks.limit).toBe(20);
    expect((await api('/v1/search?q=e&type=track&limit=50', 'ext')).status).toBe(200);
    expect((await api('/v1/search?q=e&type=track&limit=51', 'ext')).status).toBe(400);
  });

  it('the CLI: --app-mode and --legacy-endpoints', async () => {
    expect(await emulatorOptionsFrom({ appMode: 'extended', legacyEndpoints: true })).toMatchObject({
      appMode: 'extended',
      legacyEndpoints: true,
    });
    await expect(emulatorOptionsFrom({ appMode: 'turbo' })).rejects.toThrow(/--app-mode/);
    const other = await start({ appMode: 'extended', apps: [{ clientId: 'cli-app', redirectUris: [] }] });
    try {
      expect(other.state.apps.get('cli-app')?.mode).toBe('extended');
      expect(other.state.apps.get('spotauth-sandbox-client')?.mode).toBe('extended');
    } finally {
      await other.stop();
    }
  });
});

describe('an app whose owner has no Premium (WEB-API-2026.md §1)', () => {
  const MESSAGE =
    'Active premium subscription required for the owner of the app. When the subscription status changes, it can take a few hours before requests are allowed again.';
  const scopes = Object.keys(EMULATOR_SCOPES);
  const uris = ['http://127.0.0.1/cb'];

  it('development mode: 403 on every /v1 call, user and app tokens alike; a bad token is still a 401', async () => {
    await control(emulator, 'apps', { client_id: 'm-free', redirect_uris: uris, owner_premium: false });
    await control(emulator, 'apps', {
      client_id: 'm-free-legacy',
      redirect_uris: uris,
      owner_premium: false,
      legacy_endpoints: true,
    });
    const apps = (await control(emulator, 'apps', undefined, 'GET')).json as unknown as Json[];
    const byId = Object.fromEntries(apps.map((a) => [a.client_id, a]));
    expect(byId['m-free']).toMatchObject({ mode: 'development', owner_premium: false });
    expect(byId['m-dev']).toMatchObject({ owner_premium: true });
    const user = emulator.state.issueAccessToken('m-free', 'alice', scopes, null);
    const app = emulator.state.issueAccessToken('m-free', null, [], null);
    const legacy = emulator.state.issueAccessToken('m-free-legacy', 'alice', scopes, null);
    for (const [bearer, path] of [
      [user, '/v1/me'],
      [user, '/v1/me/'],
      [user, `/v1/tracks/${ARBITRARY}`],
      [user, '/v1/me/player/devices'],
      [app, `/v1/albums/${must(ALBUMS[0], 'ALBUMS[0]').id}`],
      [legacy, `/v1/tracks?ids=${ARBITRARY}`],
    ] as const) {
      const result = await fetch(`${emulator.url}${path}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(result.status, path).toBe(403);
      expect(result.headers.get('content-type'), path).toBe('application/json; charset=utf-8');
      expect(await result.json(), path).toEqual({ error: { status: 403, message: MESSAGE } });
    }
    const bogus = await fetch(`${emulator.url}/v1/me`, { headers: { authorization: 'Bearer nope' } });
    expect(bogus.status).toBe(401);
    // Apps of owners with Premium (the default) are not affected.
    expect((await api('/v1/me', 'dev')).status).toBe(200);
  });

  it('extended-quota apps (organisations) are not affected; apps/mode switches it at run time', async () => {
    await control(emulator, 'apps', {
      client_id: 'm-free-ext',
      redirect_uris: uris,
      mode: 'extended',
      owner_premium: false,
    });
    const ext = emulator.state.issueAccessToken('m-free-ext', 'alice', scopes, null);
    const me = (bearer: string) =>
      fetch(`${emulator.url}/v1/me`, { headers: { authorization: `Bearer ${bearer}` } });
    expect((await me(ext)).status).toBe(200);
    await control(emulator, 'apps', { client_id: 'm-later', redirect_uris: uris });
    const later = emulator.state.issueAccessToken('m-later', 'alice', scopes, null);
    expect((await me(later)).status).toBe(200);
    const off = await control(emulator, 'apps/mode', { client_id: 'm-later', owner_premium: false });
    expect(off.json).toMatchObject({ owner_premium: false });
    expect((await me(later)).status).toBe(403);
    await control(emulator, 'apps/mode', { client_id: 'm-later', owner_premium: true });
    expect((await me(later)).status).toBe(200);
    expect((await control(emulator, 'apps/mode', { client_id: 'm-later', owner_premium: 'no' })).status).toBe(
      400,
    );
  });

  it('owner_premium_body "text": the same message as text/plain [UNCONF]', async () => {
    await control(emulator, 'apps', { client_id: 'm-free-text', redirect_uris: uris, owner_premium: false });
    const bearer = emulator.state.issueAccessToken('m-free-text', 'alice', scopes, null);
    expect((await control(emulator, 'config', { owner_premium_body: 'text' })).json).toMatchObject({
      owner_premium_body: 'text',
    });
    try {
      const result = await fetch(`${emulator.url}/v1/me`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(result.status).toBe(403);
      expect(result.headers.get('content-type')).toBe('text/plain');
      expect(await result.text()).toBe(MESSAGE);
    } finally {
      await control(emulator, 'config', { owner_premium_body: 'json' });
    }
    expect((await control(emulator, 'config', { owner_premium_body: 'xml' })).status).toBe(400);
  });

  it('startEmulator({ ownerPremium, ownerPremiumBody }) and --owner-without-premium', async () => {
    expect(await emulatorOptionsFrom({ ownerWithoutPremium: true })).toMatchObject({ ownerPremium: false });
    const other = await start({
      ownerPremium: false,
      ownerPremiumBody: 'text',
      apps: [{ clientId: 'premium-app', redirectUris: [], ownerPremium: true }],
    });
    try {
      expect(other.state.apps.get('spotauth-sandbox-client')?.ownerPremium).toBe(false);
      const sandbox = other.state.issueAccessToken('spotauth-sandbox-client', 'alice', scopes, null);
      const own = other.state.issueAccessToken('premium-app', 'alice', scopes, null);
      const me = (bearer: string) =>
        fetch(`${other.url}/v1/me`, { headers: { authorization: `Bearer ${bearer}` } });
      const refused = await me(sandbox);
      expect([refused.status, await refused.text()]).toEqual([403, MESSAGE]);
      expect((await me(own)).status).toBe(200);
    } finally {
      await other.stop();
    }
    await expect(start({ ownerPremiumBody: 'html' as 'json' })).rejects.toThrow(
      /ownerPremiumBody must be "json" or "text"/,
    );
  });
});

describe('errors in Spotify’s shapes', () => {
  it('invalid id, Resource not found, Missing required field: uris, 401 challenges, scope 403', async () => {
    expect((await api('/v1/albums/not-an-id')).json).toEqual({
      error: { status: 400, message: 'invalid id' },
    });
    await control(emulator, 'catalogue/missing', { uris: [`spotify:album:${ARBITRARY}`] });
    expect((await api(`/v1/albums/${ARBITRARY}`)).json).toEqual({
      error: { status: 404, message: 'Resource not found' },
    });
    expect((await api(`/v1/albums?ids=${ARBITRARY}`, 'ext')).json).toEqual({ albums: [null] });
    expect((await control(emulator, 'catalogue/missing', undefined, 'GET')).json?.['uris']).toContain(
      `spotify:album:${ARBITRARY}`,
    );
    await control(emulator, 'catalogue/missing', undefined, 'DELETE');
    expect((await api(`/v1/albums/${ARBITRARY}`)).status).toBe(200);
    expect((await control(emulator, 'catalogue/missing', { uris: ['spotify:song:x'] })).status).toBe(400);

    const bodyOnly = await api('/v1/me/library', 'dev', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uris: [`spotify:track:${ARBITRARY}`] }),
    });
    expect(bodyOnly.json).toEqual({ error: { status: 400, message: 'Missing required field: uris' } });

    const none = await api('/v1/me', null);
    expect(none.headers.get('www-authenticate')).toContain('error="missing_token"');
    const bogus = await api('/v1/me', null, { headers: { authorization: 'Bearer nope' } });
    expect(bogus.status).toBe(401);
    expect(bogus.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const narrow = emulator.state.issueAccessToken('m-dev', 'alice', [], null);
    const scoped = await fetch(`${emulator.url}/v1/me/tracks`, {
      headers: { authorization: `Bearer ${narrow}` },
    });
    expect(await scoped.json()).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    const bad = await api('/v1/me/playlists', 'dev', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('trailing slashes per route; unknown routes → 404 "Service not found"', async () => {
    expect((await api('/v1/me/')).status).toBe(200);
    expect((await api(`/v1/tracks/?ids=${must(TRACKS[0], 'TRACKS[0]').id}`, 'ext')).status).toBe(200);
    expect((await api(`/v1/tracks/?ids=${must(TRACKS[0], 'TRACKS[0]').id}`, 'dev')).text).toBe(FORBIDDEN);
    expect((await api('/v1/me/player/recently-played?limit=10')).status).toBe(200);
    const slashed = await api('/v1/me/player/recently-played/?limit=10');
    expect([slashed.status, slashed.json]).toEqual([
      404,
      { error: { status: 404, message: 'Service not found' } },
    ]);
    expect((await api('/v1/no/such/thing')).json).toEqual({
      error: { status: 404, message: 'Service not found' },
    });
  });
});

describe('catalogue', () => {
  it('any well-formed id resolves, consistently whichever id is asked first, across emulators', async () => {
    const other = await start();
    try {
      const otherToken = other.state.issueAccessToken('spotauth-sandbox-client', null, [], null);
      const fromOther = async (path: string) =>
        (await (
          await fetch(`${other.url}${path}`, { headers: { authorization: `Bearer ${otherToken}` } })
        ).json()) as Json;
      // Album first here, track first there.
      const album = (await api(`/v1/albums/${ARBITRARY}`)).json;
      const track = await fromOther(`/v1/tracks/${ARBITRARY}`);
      expect(track.album.id).toBe(album.id);
      expect(album.tracks.items.map((t: Json) => t.id)).toContain(track.id);
      expect(track.name).toBe((await api(`/v1/tracks/${ARBITRARY}`)).json.name);
      expect(track.duration_ms).toBe(album.tracks.items[0].duration_ms);
      const artist = (await api(`/v1/artists/${album.artists[0].id}`)).json;
      expect(artist.name).toBe(album.artists[0].name);
      const albums = (await api(`/v1/artists/${artist.id}/albums`)).json;
      expect(albums.items.map((a: Json) => a.id)).toContain(album.id);
      // Seeded albums keep their tracks and artists.
      const seeded = must(ALBUMS[4], 'ALBUMS[4]');
      const seededJson = (await api(`/v1/albums/${seeded.id}`)).json;
      expect(seededJson.tracks.items.map((t: Json) => t.id)).toEqual(seeded.trackIds);
      for (const id of seeded.trackIds) expect((await api(`/v1/tracks/${id}`)).json.album.id).toBe(seeded.id);
    } finally {
      await other.stop();
    }
  });

  it('show ↔ episodes and audiobook ↔ chapters agree', async () => {
    const episode = (await api(`/v1/episodes/${ARBITRARY}`)).json;
    const show = (await api(`/v1/shows/${episode.show.id}`)).json;
    expect(show.episodes.items.map((e: Json) => e.id)).toContain(episode.id);
    const found = (await api('/v1/search?q=quiet&type=show')).json.shows.items[0];
    const episodes = (await api(`/v1/shows/${found.id}/episodes`)).json;
    expect(episodes.total).toBe(found.total_episodes);
    for (const e of episodes.items) expect((await api(`/v1/episodes/${e.id}`)).json.show.id).toBe(found.id);
    const chapter = (await api(`/v1/chapters/${ARBITRARY}`)).json;
    const book = (await api(`/v1/audiobooks/${chapter.audiobook.id}`)).json;
    expect(book.chapters.items.map((c: Json) => c.id)).toContain(chapter.id);
  });

  it('search filters: artist:, album:, track:, year:, genre:, tag:new', async () => {
    const artist = must(ARTISTS[0], 'ARTISTS[0]');
    const byArtist = (
      await api(`/v1/search?q=${encodeURIComponent(`artist:"${artist.name}"`)}&type=track&limit=10`)
    ).json.tracks;
    expect(byArtist.total).toBeGreaterThan(0);
    for (const t of byArtist.items) expect(t.artists.map((a: Json) => a.name)).toContain(artist.name);
    const album = must(ALBUMS[0], 'ALBUMS[0]');
    const byAlbum = (await api(`/v1/search?q=${encodeURIComponent(`album:"${album.name}"`)}&type=track`)).json
      .tracks;
    expect(byAlbum.items.every((t: Json) => t.album.name.includes(album.name))).toBe(true);
    const year = album.releaseDate.slice(0, 4);
    const byYear = (await api(`/v1/search?q=year:${year}&type=album&limit=10`)).json.albums;
    expect(byYear.items.map((a: Json) => a.id)).toContain(album.id);
    expect(byYear.items.every((a: Json) => a.release_date.startsWith(year))).toBe(true);
    const range = (await api('/v1/search?q=year:1900-1901&type=album')).json.albums;
    expect(range.total).toBe(0);
    const genre = must(artist.genres[0], 'genre');
    const byGenre = (await api(`/v1/search?q=${encodeURIComponent(`genre:"${genre}"`)}&type=artist&limit=10`))
      .json.artists;
    expect(byGenre.items.map((a: Json) => a.id)).toContain(artist.id);
    expect((await api('/v1/search?q=tag:new&type=album')).json.albums.total).toBe(0);
    const track = must(TRACKS[5], 'TRACKS[5]');
    const byTrack = (await api(`/v1/search?q=${encodeURIComponent(`track:"${track.name}"`)}&type=track`)).json
      .tracks;
    expect(byTrack.items.map((t: Json) => t.id)).toContain(track.id);
    expect((await api('/v1/search?q=%20&type=track')).json).toEqual({
      error: { status: 400, message: 'No search query' },
    });
  });

  it('--catalogue entities: loaded with their relations; bad files are refused', async () => {
    const other = await start({
      catalogue: {
        artists: [{ name: 'The Testers', genres: ['test pop'] }],
        albums: [
          { name: 'Green Suite', artists: ['The Testers'], tracks: [{ name: 'Passing' }, { name: 'Flaky' }] },
        ],
        shows: [{ name: 'Test Talk', episodes: [{ name: 'Pilot' }] }],
      },
    });
    try {
      const app = other.state.issueAccessToken('spotauth-sandbox-client', null, [], null);
      const get = async (path: string) =>
        (await (
          await fetch(`${other.url}${path}`, { headers: { authorization: `Bearer ${app}` } })
        ).json()) as Json;
      const found = (await get('/v1/search?q=artist:testers&type=album,track')) as Json;
      expect(found.albums.items[0].name).toBe('Green Suite');
      expect(found.tracks.items.map((t: Json) => t.name).sort()).toEqual(['Flaky', 'Passing']);
      const album = await get(`/v1/albums/${found.albums.items[0].id}`);
      expect(album.tracks.total).toBe(2);
      expect((await get(`/v1/tracks/${album.tracks.items[1].id}`)).album.id).toBe(album.id);
      expect((await get('/v1/search?q=pilot&type=episode')).episodes.items[0].name).toBe('Pilot');
    } finally {
      await other.stop();
    }
    await expect(
      start({ catalogue: { albums: [{ name: 'No Artist', tracks: [{ name: 'x' }] }] } }),
    ).rejects.toThrow(/artist/);
    const loaded = await control(emulator, 'catalogue', { artists: [{ name: 'Late Loader' }] });
    expect(loaded.status).toBe(201);
    expect((await api('/v1/search?q=late%20loader&type=artist')).json.artists.total).toBe(1);
  });
});
