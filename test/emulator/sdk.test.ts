import { type AccessToken, SpotifyApi } from '@spotify/web-api-ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { authorizeCode, CLIENT_ID, control, exchange, start } from './helpers.js';

/**
 * The official @spotify/web-api-ts-sdk, unchanged, against the emulator. It is pointed there only
 * through its `fetch` option, which rewrites api.spotify.com and accounts.spotify.com to the emulator;
 * the token comes from the emulator's own authorization-code flow. In development mode the SDK's 2024
 * methods (/tracks, /me/tracks, /users/{id}/playlists) meet the 2026 removals, so the walk uses the
 * replacements through the SDK's own makeRequest, as an app on that SDK has to; in extended mode
 * the SDK's methods are used as they are, except its library writes that send a bare JSON array,
 * which Spotify refuses (they go through makeRequest with `{"ids": [...]}`, as that SDK's users do).
 */

const SCOPES = [
  'user-read-private',
  'user-read-email',
  'user-library-read',
  'user-library-modify',
  'user-follow-read',
  'user-follow-modify',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-private',
  'playlist-modify-public',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'user-read-recently-played',
  'user-read-playback-position',
  'user-top-read',
];

const FORBIDDEN_2026 = '{"error": {"status": 403, "message": "Forbidden" }}';

interface Walk {
  emulator: RunningEmulator;
  api: SpotifyApi;
  /** "METHOD /v1/path" of every request the SDK sent, in order. */
  sent: string[];
}

async function walkOn(appMode: 'development' | 'extended'): Promise<Walk> {
  const emulator = await start({ autoApprove: 'alice', appMode });
  const code = await authorizeCode(emulator, { scope: SCOPES.join(' ') });
  const tokens = await exchange(emulator, code);
  if (tokens.status !== 200) throw new Error(`token exchange: ${tokens.status} ${tokens.text}`);
  const sent: string[] = [];
  const emulatorFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const rewritten = url.replace(/^https:\/\/(?:api|accounts)\.spotify\.com(?=\/)/, emulator.url);
    if (rewritten === url) throw new Error(`the SDK called an unexpected host: ${url}`);
    sent.push(`${init?.method ?? 'GET'} ${new URL(rewritten).pathname}`);
    return fetch(rewritten, init);
  };
  const api = SpotifyApi.withAccessToken(CLIENT_ID, tokens.json as unknown as AccessToken, {
    fetch: emulatorFetch,
  });
  return { emulator, api, sent };
}

/** The SDK throws on any non-2xx; this returns the message so a test can check Spotify's body in it. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected the SDK call to fail');
}

const ids = (items: readonly ({ id: string } | null)[]) => items.map((item) => item?.id);

describe.each(['development', 'extended'] as const)('the official SDK, %s mode', (mode) => {
  let walk: Walk;
  beforeAll(async () => {
    walk = await walkOn(mode);
  });
  afterAll(() => walk.emulator.stop());

  it('profile: GET /me', async () => {
    const profile = await walk.api.currentUser.profile();
    expect(profile).toMatchObject({ id: 'alice', type: 'user', uri: 'spotify:user:alice' });
    // Development-mode apps lost these fields of /me in 2026 (FACTS §7).
    if (mode === 'development') expect(profile.email).toBeUndefined();
    else expect(profile.product).toBe('premium');
  });

  it('search every type, with the 2026 limit', async () => {
    const types = ['album', 'artist', 'track', 'show', 'episode', 'audiobook'] as const;
    const result = await walk.api.search('a', [...types], undefined, 10);
    for (const type of types) {
      const page = result[`${type}s`];
      expect(page, type).toBeDefined();
      expect(page?.limit).toBe(10);
      expect(page?.items.length).toBeGreaterThan(0);
    }
    const tooMany = walk.api.search('a', ['track'], undefined, 20);
    if (mode === 'development') expect(await failure(tooMany)).toContain('Invalid limit');
    else expect((await tooMany).tracks.limit).toBe(20);
  });

  it('catalogue: a track, its album and artist, consistent whichever is asked first', async () => {
    const found = (await walk.api.search('a', ['track'], undefined, 5)).tracks.items[0];
    if (!found) throw new Error('no track found');
    const track = await walk.api.tracks.get(found.id);
    expect(track).toMatchObject({ id: found.id, name: found.name, type: 'track' });
    const album = await walk.api.albums.get(track.album.id);
    expect(album.name).toBe(track.album.name);
    const albumTracks = await walk.api.albums.tracks(album.id);
    expect(ids(albumTracks.items)).toContain(track.id);
    const artist = await walk.api.artists.get(track.artists[0]?.id ?? '');
    expect(artist.name).toBe(track.artists[0]?.name);
    const albums = await walk.api.artists.albums(artist.id, undefined, undefined, 5);
    expect(ids(albums.items)).toContain(album.id);
  });

  it('shows and episodes', async () => {
    const found = (await walk.api.search('quiet', ['show'], undefined, 5)).shows.items[0];
    if (!found) throw new Error('no show found');
    const show = await walk.api.shows.get(found.id, 'SE');
    expect(show).toMatchObject({ id: found.id, name: found.name, type: 'show' });
    const episodes = await walk.api.shows.episodes(show.id, 'SE', 5);
    const first = episodes.items[0];
    if (!first) throw new Error('a show without episodes');
    const episode = await walk.api.episodes.get(first.id, 'SE');
    expect(episode).toMatchObject({ id: first.id, name: first.name, type: 'episode' });
    expect(episode.show.id).toBe(show.id);
  });

  it('audiobooks and chapters', async () => {
    const found = (await walk.api.search('harbor', ['audiobook'], undefined, 5)).audiobooks.items[0];
    if (!found) throw new Error('no audiobook found');
    const book = await walk.api.audiobooks.get(found.id, 'US');
    expect(book).toMatchObject({ id: found.id, name: found.name, type: 'audiobook' });
    const chapters = await walk.api.audiobooks.getAudiobookChapters(book.id, 'US', 5);
    const first = chapters.items[0];
    if (!first) throw new Error('an audiobook without chapters');
    const chapter = await walk.api.chapters.get(first.id, 'US');
    // The spec's ChapterObject has type "episode" (its only enum value), and so does Spotify.
    expect(chapter).toMatchObject({ id: first.id, type: 'episode' });
    expect(chapter.audiobook.id).toBe(book.id);
  });
});

describe('the official SDK, development mode: library, follows and playlists through the 2026 endpoints', () => {
  let walk: Walk;
  beforeAll(async () => {
    walk = await walkOn('development');
  });
  afterAll(() => walk.emulator.stop());

  it('the SDK’s own library methods meet the 2026 removal (403 Forbidden, Spotify’s spacing)', async () => {
    const track = (await walk.api.search('a', ['track'], undefined, 1)).tracks.items[0];
    expect(await failure(walk.api.currentUser.tracks.saveTracks([track?.id ?? '']))).toContain(
      FORBIDDEN_2026,
    );
  });

  it('/me/library: save every type, read the lists and contains, remove; follow an artist and a playlist', async () => {
    const result = await walk.api.search(
      'a',
      ['track', 'album', 'show', 'episode', 'audiobook', 'artist', 'playlist'],
      undefined,
      1,
    );
    const track = result.tracks.items[0];
    const album = result.albums.items[0];
    const show = result.shows.items[0];
    const episode = result.episodes.items[0];
    const book = result.audiobooks.items[0];
    const artist = result.artists.items[0];
    const playlist = result.playlists.items[0];
    if (!track || !album || !show || !episode || !book || !artist || !playlist) {
      throw new Error('search found too little');
    }
    const uris = [track.uri, album.uri, show.uri, episode.uri, book.uri, artist.uri, playlist.uri];
    const query = `uris=${encodeURIComponent(uris.join(','))}`;
    await walk.api.makeRequest('PUT', `me/library?${query}`);
    expect(await walk.api.makeRequest('GET', `me/library/contains?${query}`)).toEqual(uris.map(() => true));
    expect(ids((await walk.api.currentUser.tracks.savedTracks(50)).items.map((s) => s.track))).toContain(
      track.id,
    );
    expect(ids((await walk.api.currentUser.albums.savedAlbums(50)).items.map((s) => s.album))).toContain(
      album.id,
    );
    expect(ids((await walk.api.currentUser.shows.savedShows(50)).items.map((s) => s.show))).toContain(
      show.id,
    );
    expect(
      ids((await walk.api.currentUser.episodes.savedEpisodes(undefined, 50)).items.map((s) => s.episode)),
    ).toContain(episode.id);
    // The SDK types these items as audiobooks; the spec (and the emulator) wrap them: {added_at, audiobook}.
    const savedBooks = (await walk.api.currentUser.audiobooks.savedAudiobooks(50)).items as unknown as {
      audiobook: { id: string };
    }[];
    expect(ids(savedBooks.map((s) => s.audiobook))).toContain(book.id);
    expect(ids((await walk.api.currentUser.followedArtists(undefined, 50)).artists.items)).toContain(
      artist.id,
    );
    expect(ids((await walk.api.currentUser.playlists.playlists(50)).items)).toContain(playlist.id);
    await walk.api.makeRequest('DELETE', `me/library?${query}`);
    expect(await walk.api.makeRequest('GET', `me/library/contains?${query}`)).toEqual(uris.map(() => false));
    expect(ids((await walk.api.currentUser.tracks.savedTracks(50)).items.map((s) => s.track))).not.toContain(
      track.id,
    );
  });

  it('playlists: create → add → reorder → remove, with snapshots; the SDK’s /tracks methods get the 403', async () => {
    const created = await walk.api.makeRequest<{ id: string; uri: string; owner: { id: string } }>(
      'POST',
      'me/playlists',
      { name: 'SDK walk', public: false },
    );
    expect(created.owner.id).toBe('alice');
    const tracks = (await walk.api.search('a', ['track'], undefined, 4)).tracks.items;
    const uris = tracks.map((t) => t.uri);
    const added = await walk.api.makeRequest<{ snapshot_id: string }>(
      'POST',
      `playlists/${created.id}/items`,
      {
        uris,
      },
    );
    expect(typeof added.snapshot_id).toBe('string');
    const order = async () => {
      const page = await walk.api.makeRequest<{ items: { item: { uri: string } }[] }>(
        'GET',
        `playlists/${created.id}/items`,
      );
      return page.items.map((entry) => entry.item.uri);
    };
    expect(await order()).toEqual(uris);
    const moved = await walk.api.makeRequest<{ snapshot_id: string }>(
      'PUT',
      `playlists/${created.id}/items`,
      {
        range_start: 0,
        insert_before: uris.length,
        range_length: 1,
      },
    );
    expect(moved.snapshot_id).not.toBe(added.snapshot_id);
    expect(await order()).toEqual([...uris.slice(1), uris[0]]);
    await walk.api.makeRequest('DELETE', `playlists/${created.id}/items`, {
      items: [{ uri: uris[1] }],
      snapshot_id: moved.snapshot_id,
    });
    expect(await order()).toEqual([uris[2], uris[3], uris[0]]);
    await walk.api.playlists.changePlaylistDetails(created.id, { name: 'SDK walk, renamed' });
    const playlist = await walk.api.playlists.getPlaylist(created.id);
    expect(playlist.name).toBe('SDK walk, renamed');
    expect(ids((await walk.api.currentUser.playlists.playlists(50)).items)).toContain(created.id);
    expect(await failure(walk.api.playlists.getPlaylistItems(created.id))).toContain(FORBIDDEN_2026);
    expect(await failure(walk.api.playlists.addItemsToPlaylist(created.id, uris))).toContain(FORBIDDEN_2026);
  });
});

describe('the official SDK, extended mode: its own library, follow and playlist methods', () => {
  let walk: Walk;
  beforeAll(async () => {
    walk = await walkOn('extended');
  });
  afterAll(() => walk.emulator.stop());

  it('saves, checks and removes a show; checks tracks, albums, episodes, audiobooks and followed artists', async () => {
    const result = await walk.api.search(
      'a',
      ['track', 'album', 'show', 'artist', 'episode', 'audiobook'],
      undefined,
      1,
    );
    const [track, album, show, artist, episode, book] = [
      result.tracks.items[0],
      result.albums.items[0],
      result.shows.items[0],
      result.artists.items[0],
      result.episodes.items[0],
      result.audiobooks.items[0],
    ];
    if (!track || !album || !show || !artist || !episode || !book) throw new Error('search found too little');
    await walk.api.currentUser.shows.saveShows([show.id]);
    expect(await walk.api.currentUser.shows.hasSavedShow([show.id])).toEqual([true]);
    expect(ids((await walk.api.currentUser.shows.savedShows(50)).items.map((s) => s.show))).toContain(
      show.id,
    );
    await walk.api.currentUser.shows.removeSavedShows([show.id]);
    expect(await walk.api.currentUser.shows.hasSavedShow([show.id])).toEqual([false]);
    expect(await walk.api.currentUser.tracks.hasSavedTracks([track.id])).toEqual([false]);
    expect(await walk.api.currentUser.albums.hasSavedAlbums([album.id])).toEqual([false]);
    expect(await walk.api.currentUser.episodes.hasSavedEpisodes([episode.id])).toEqual([false]);
    expect(await walk.api.currentUser.audiobooks.hasSavedAudiobooks([book.id])).toEqual([false]);
    expect(await walk.api.currentUser.followsArtistsOrUsers([artist.id], 'artist')).toEqual([false]);
  });

  it('follows: followArtistsOrUsers (artists and users) and a playlist’s follow, and their undoing', async () => {
    const result = await walk.api.search('a', ['artist', 'playlist'], undefined, 10);
    const artist = result.artists.items[0];
    const playlist = result.playlists.items.find((p) => p.owner.id !== 'alice');
    if (!artist || !playlist) throw new Error('search found too little');
    const me = walk.api.currentUser;
    // The SDK sends these ids as a JSON body {"ids": [...]} with the type in the query.
    await me.followArtistsOrUsers([artist.id], 'artist');
    await me.followArtistsOrUsers(['carol'], 'user');
    expect(await me.followsArtistsOrUsers([artist.id], 'artist')).toEqual([true]);
    expect(await me.followsArtistsOrUsers(['carol', 'bob'], 'user')).toEqual([true, false]);
    expect(ids((await me.followedArtists(undefined, 50)).artists.items)).toContain(artist.id);
    await me.unfollowArtistsOrUsers([artist.id], 'artist');
    await me.unfollowArtistsOrUsers(['carol'], 'user');
    expect(await me.followsArtistsOrUsers([artist.id], 'artist')).toEqual([false]);
    expect(await me.followsArtistsOrUsers(['carol'], 'user')).toEqual([false]);
    expect(ids((await me.followedArtists(undefined, 50)).artists.items)).not.toContain(artist.id);

    await me.playlists.follow(playlist.id);
    expect(await me.playlists.isFollowing(playlist.id, ['alice'])).toEqual([true]);
    expect(ids((await me.playlists.playlists(50)).items)).toContain(playlist.id);
    await me.playlists.unfollow(playlist.id);
    expect(await me.playlists.isFollowing(playlist.id, ['alice'])).toEqual([false]);
    expect(ids((await me.playlists.playlists(50)).items)).not.toContain(playlist.id);
  });

  it('tracks, albums, episodes, audiobooks: the SDK’s bare-array bodies get Spotify’s 400; {"ids"} bodies save and remove', async () => {
    const result = await walk.api.search('a', ['track', 'album', 'episode', 'audiobook'], undefined, 1);
    const [track, album, episode, book] = [
      result.tracks.items[0],
      result.albums.items[0],
      result.episodes.items[0],
      result.audiobooks.items[0],
    ];
    if (!track || !album || !episode || !book) throw new Error('search found too little');
    const me = walk.api.currentUser;
    // SDK 1.2.0 sends `["id"]` for these; Spotify has answered that with 400 since September 2024
    // (spotify/spotify-web-api-ts-sdk#131, whose workaround is makeRequest with {"ids": [...]}).
    for (const refused of [
      () => me.tracks.saveTracks([track.id]),
      () => me.tracks.removeSavedTracks([track.id]),
      () => me.albums.saveAlbums([album.id]),
      () => me.albums.removeSavedAlbums([album.id]),
      () => me.episodes.saveEpisodes([episode.id]),
      () => me.episodes.removeSavedEpisodes([episode.id]),
      () => me.audiobooks.saveAudiobooks([book.id]),
      () => me.audiobooks.removeSavedAudiobooks([book.id]),
    ]) {
      expect(await failure(refused())).toContain('Missing required field: ids');
    }
    const saved = async () => ({
      tracks: await me.tracks.hasSavedTracks([track.id]),
      albums: await me.albums.hasSavedAlbums([album.id]),
      episodes: await me.episodes.hasSavedEpisodes([episode.id]),
      audiobooks: await me.audiobooks.hasSavedAudiobooks([book.id]),
    });
    expect(await saved()).toEqual({
      tracks: [false],
      albums: [false],
      episodes: [false],
      audiobooks: [false],
    });
    await walk.api.makeRequest('PUT', 'me/tracks', { ids: [track.id] });
    await walk.api.makeRequest('PUT', 'me/albums', { ids: [album.id] });
    await walk.api.makeRequest('PUT', 'me/episodes', { ids: [episode.id] });
    // The spec gives the audiobook writes no body: the ids go in the query.
    await walk.api.makeRequest('PUT', `me/audiobooks?ids=${book.id}`);
    expect(await saved()).toEqual({ tracks: [true], albums: [true], episodes: [true], audiobooks: [true] });
    expect(ids((await me.tracks.savedTracks(50)).items.map((s) => s.track))).toContain(track.id);
    expect(ids((await me.albums.savedAlbums(50)).items.map((s) => s.album))).toContain(album.id);
    expect(ids((await me.episodes.savedEpisodes(undefined, 50)).items.map((s) => s.episode))).toContain(
      episode.id,
    );
    const books = (await me.audiobooks.savedAudiobooks(50)).items as unknown as {
      audiobook: { id: string };
    }[];
    expect(ids(books.map((s) => s.audiobook))).toContain(book.id);
    await walk.api.makeRequest('DELETE', 'me/tracks', { ids: [track.id] });
    await walk.api.makeRequest('DELETE', 'me/albums', { ids: [album.id] });
    await walk.api.makeRequest('DELETE', 'me/episodes', { ids: [episode.id] });
    await walk.api.makeRequest('DELETE', `me/audiobooks?ids=${book.id}`);
    expect(await saved()).toEqual({
      tracks: [false],
      albums: [false],
      episodes: [false],
      audiobooks: [false],
    });
  });

  it('playlists: createPlaylist → addItemsToPlaylist → movePlaylistItems → removeItemsFromPlaylist', async () => {
    const created = await walk.api.playlists.createPlaylist('alice', { name: 'SDK walk (extended)' });
    const uris = (await walk.api.search('a', ['track'], undefined, 3)).tracks.items.map((t) => t.uri);
    await walk.api.playlists.addItemsToPlaylist(created.id, uris);
    const order = async () =>
      (await walk.api.playlists.getPlaylistItems(created.id)).items.map((entry) => entry.track.uri);
    expect(await order()).toEqual(uris);
    const moved = await walk.api.playlists.movePlaylistItems(created.id, 2, 1, 0);
    expect(typeof moved.snapshot_id).toBe('string');
    expect(await order()).toEqual([uris[2], uris[0], uris[1]]);
    await walk.api.playlists.removeItemsFromPlaylist(created.id, { tracks: [{ uri: uris[0] ?? '' }] });
    expect(await order()).toEqual([uris[2], uris[1]]);
    await walk.api.currentUser.playlists.unfollow(created.id);
    expect(await walk.api.currentUser.playlists.isFollowing(created.id, ['alice'])).toEqual([false]);
  });
});

describe('the official SDK: player', () => {
  let walk: Walk;
  beforeAll(async () => {
    walk = await walkOn('development');
  });
  afterAll(() => walk.emulator.stop());

  it('devices, play, progress with the emulator clock, pause, seek, modes, queue, skip, recently played', async () => {
    const devices = await walk.api.player.getAvailableDevices();
    const device = devices.devices[0];
    if (!device?.id) throw new Error('alice has no device');
    await walk.api.player.transferPlayback([device.id], false);
    const uris = (await walk.api.search('a', ['track'], undefined, 3)).tracks.items.map((t) => t.uri);
    await walk.api.player.startResumePlayback(device.id, undefined, uris);
    const playing = await walk.api.player.getPlaybackState();
    expect(playing).toMatchObject({ is_playing: true, device: { id: device.id } });
    expect(playing.item.uri).toBe(uris[0]);
    await control(walk.emulator, 'clock', { advance_seconds: 10 });
    const later = await walk.api.player.getCurrentlyPlayingTrack();
    expect(later.progress_ms).toBeGreaterThanOrEqual(10_000);
    await walk.api.player.pausePlayback(device.id);
    expect((await walk.api.player.getPlaybackState()).is_playing).toBe(false);
    await walk.api.player.seekToPosition(30_000, device.id);
    expect((await walk.api.player.getPlaybackState()).progress_ms).toBe(30_000);
    await walk.api.player.setRepeatMode('context', device.id);
    await walk.api.player.togglePlaybackShuffle(true, device.id);
    await walk.api.player.setPlaybackVolume(40, device.id);
    const state = await walk.api.player.getPlaybackState();
    expect(state).toMatchObject({
      repeat_state: 'context',
      shuffle_state: true,
      device: { volume_percent: 40 },
    });
    await walk.api.player.addItemToPlaybackQueue(uris[2] ?? '', device.id);
    const queue = await walk.api.player.getUsersQueue();
    expect(queue.queue.map((item) => item.uri)).toContain(uris[2]);
    await walk.api.player.skipToNext(device.id);
    await walk.api.player.skipToPrevious(device.id);
    const recent = await walk.api.player.getRecentlyPlayedTracks(10);
    expect(recent.items.length).toBeGreaterThan(0);
  });
});
