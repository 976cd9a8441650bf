import { createHash } from 'node:crypto';

/**
 * The emulator's fixed music catalogue and the per-user data derived from it. Everything here is a pure
 * function of fixed name lists and the user id (SHA-256 based, no Math.random), so two emulators, or two
 * runs, serve the same ids and the same "top tracks" for alice.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Spotify ids are 22 base62 characters. */
export const ID_PATTERN = /^[0-9A-Za-z]{22}$/;

function digest(seed: string): Buffer {
  return createHash('sha256').update(seed, 'utf8').digest();
}

/** A Spotify-looking id (22 base62 characters) derived from `seed`. */
export function spotifyId(seed: string): string {
  let n = BigInt(`0x${digest(seed).subarray(0, 17).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 22; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

/** A deterministic PRNG (mulberry32) seeded from a string. */
export function seededRandom(seed: string): () => number {
  let a = digest(seed).readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashInt(seed: string, modulo: number): number {
  return digest(seed).readUInt32BE(4) % modulo;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export interface CatalogueArtist {
  id: string;
  name: string;
  genres: string[];
  popularity: number;
  followers: number;
}

export interface CatalogueAlbum {
  id: string;
  name: string;
  artistIds: string[];
  albumType: 'album' | 'single' | 'compilation';
  releaseDate: string;
  trackIds: string[];
}

export interface CatalogueTrack {
  id: string;
  name: string;
  albumId: string;
  artistIds: string[];
  durationMs: number;
  explicit: boolean;
  popularity: number;
  trackNumber: number;
  isrc: string;
}

const ARTIST_FIRST = ['Velvet', 'Neon', 'Paper', 'Silver', 'Midnight', 'Golden', 'Hollow', 'Electric'];
const ARTIST_SECOND = ['Foxes', 'Harbor', 'Lanterns', 'Echo', 'Static'];
const ALBUM_WORDS = [
  'Afterglow',
  'Blue Hours',
  'Cartography',
  'Daybreak',
  'Empty Rooms',
  'Fieldnotes',
  'Glasshouse',
  'Heatwave',
  'Islands',
  'Jetlag',
];
const TRACK_FIRST = [
  'Slow',
  'Northern',
  'Bright',
  'Quiet',
  'Falling',
  'Paper',
  'Summer',
  'Broken',
  'Runaway',
  'Weightless',
  'Crimson',
  'Late',
];
const TRACK_SECOND = [
  'Lights',
  'Rivers',
  'Signals',
  'Hearts',
  'Trains',
  'Skies',
  'Letters',
  'Shores',
  'Fires',
  'Dreams',
];
const GENRES = [
  'indie pop',
  'dream pop',
  'synthwave',
  'shoegaze',
  'folk',
  'electronica',
  'post-rock',
  'soul',
];
const PLAYLIST_NAMES = [
  'Morning Run',
  'Deep Focus',
  'Road Trip',
  'Rainy Day',
  'Sunday Cooking',
  'Late Night Drive',
  'Throwbacks',
  'Chill Evenings',
  'Workout Mix',
  'Coding Flow',
  'Summer 2025',
  'Winter Warmers',
  'Party Starters',
  'Acoustic Corner',
  'Discover Later',
  'Favourites',
  'Dinner Party',
  'Study Session',
  'Commute',
  'Sleep Sounds',
  'Guilty Pleasures',
  'Fresh Finds',
  'Garden Hours',
  'Shuffle Me',
  'Old Favourites',
];
const MARKETS = ['DE', 'GB', 'SE', 'US'];

/** The emulator's generated artists (stable ids: the same on every run). */
export const ARTISTS: readonly CatalogueArtist[] = ARTIST_SECOND.flatMap((second) =>
  ARTIST_FIRST.map((first) => {
    const name = `${first} ${second}`;
    return {
      id: spotifyId(`artist:${name}`),
      name,
      genres: [GENRES[hashInt(`genre1:${name}`, GENRES.length)] as string],
      popularity: 20 + hashInt(`pop:${name}`, 75),
      followers: 1000 + hashInt(`followers:${name}`, 2_000_000),
    };
  }),
);

const TRACKS_PER_ALBUM = 3;

/** One generated album per artist, with its tracks' ids. */
export const ALBUMS: readonly CatalogueAlbum[] = ARTISTS.map((artist, index) => {
  const name = `${ALBUM_WORDS[index % ALBUM_WORDS.length]}${index >= ALBUM_WORDS.length ? ` ${Math.floor(index / ALBUM_WORDS.length) + 1}` : ''}`;
  const year = 1990 + hashInt(`year:${artist.name}`, 36);
  const month = 1 + hashInt(`month:${artist.name}`, 12);
  const day = 1 + hashInt(`day:${artist.name}`, 28);
  const trackIds = Array.from({ length: TRACKS_PER_ALBUM }, (_, t) => {
    const i = index * TRACKS_PER_ALBUM + t;
    return spotifyId(
      `track:${TRACK_FIRST[i % TRACK_FIRST.length]} ${TRACK_SECOND[Math.floor(i / TRACK_FIRST.length)]}`,
    );
  });
  return {
    id: spotifyId(`album:${artist.name}:${name}`),
    name,
    artistIds: [artist.id],
    albumType: index % 5 === 4 ? 'single' : 'album',
    releaseDate: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    trackIds,
  };
});

/** The generated tracks, three per album. */
export const TRACKS: readonly CatalogueTrack[] = ALBUMS.flatMap((album, index) =>
  album.trackIds.map((id, t) => {
    const i = index * TRACKS_PER_ALBUM + t;
    const name = `${TRACK_FIRST[i % TRACK_FIRST.length]} ${TRACK_SECOND[Math.floor(i / TRACK_FIRST.length)]}`;
    // Every third track features the artist seven places on.
    const featured = t === 2 ? [(ARTISTS[(index + 7) % ARTISTS.length] as CatalogueArtist).id] : [];
    return {
      id,
      name,
      albumId: album.id,
      artistIds: [...album.artistIds, ...featured],
      durationMs: 150_000 + hashInt(`duration:${name}`, 150_000),
      explicit: hashInt(`explicit:${name}`, 5) === 0,
      popularity: 10 + hashInt(`pop:${name}`, 85),
      trackNumber: t + 1,
      isrc: `QZ${String(26_000_000 + i * 7919).padStart(10, '0')}`,
    };
  }),
);

export const ARTISTS_BY_ID = new Map(ARTISTS.map((a) => [a.id, a]));
export const ALBUMS_BY_ID = new Map(ALBUMS.map((a) => [a.id, a]));
export const TRACKS_BY_ID = new Map(TRACKS.map((t) => [t.id, t]));

// ---- JSON in the Web API's shapes (absolute URLs on the emulator's origin) ----

/** Cover art served by the emulator itself, so pages showing it load nothing external. */
export function coverImages(origin: string, id: string) {
  return [
    { url: `${origin}/images/cover/${id}.svg`, height: 640, width: 640 },
    { url: `${origin}/images/cover/${id}.svg`, height: 300, width: 300 },
    { url: `${origin}/images/cover/${id}.svg`, height: 64, width: 64 },
  ];
}

function simplifiedArtistJson(origin: string, artist: CatalogueArtist) {
  return {
    external_urls: { spotify: `https://open.spotify.com/artist/${artist.id}` },
    href: `${origin}/v1/artists/${artist.id}`,
    id: artist.id,
    name: artist.name,
    type: 'artist' as const,
    uri: `spotify:artist:${artist.id}`,
  };
}

function artistsOf(ids: readonly string[]): CatalogueArtist[] {
  return ids.map((id) => ARTISTS_BY_ID.get(id) as CatalogueArtist);
}

export function artistJson(origin: string, artist: CatalogueArtist) {
  return {
    ...simplifiedArtistJson(origin, artist),
    followers: { href: null, total: artist.followers },
    genres: artist.genres,
    images: coverImages(origin, artist.id),
    popularity: artist.popularity,
  };
}

export function simplifiedAlbumJson(origin: string, album: CatalogueAlbum) {
  return {
    album_type: album.albumType,
    total_tracks: album.trackIds.length,
    available_markets: MARKETS,
    external_urls: { spotify: `https://open.spotify.com/album/${album.id}` },
    href: `${origin}/v1/albums/${album.id}`,
    id: album.id,
    images: coverImages(origin, album.id),
    name: album.name,
    release_date: album.releaseDate,
    release_date_precision: 'day' as const,
    type: 'album' as const,
    uri: `spotify:album:${album.id}`,
    artists: artistsOf(album.artistIds).map((a) => simplifiedArtistJson(origin, a)),
  };
}

export function trackJson(origin: string, track: CatalogueTrack) {
  return {
    album: simplifiedAlbumJson(origin, ALBUMS_BY_ID.get(track.albumId) as CatalogueAlbum),
    artists: artistsOf(track.artistIds).map((a) => simplifiedArtistJson(origin, a)),
    available_markets: MARKETS,
    disc_number: 1,
    duration_ms: track.durationMs,
    explicit: track.explicit,
    external_ids: { isrc: track.isrc },
    external_urls: { spotify: `https://open.spotify.com/track/${track.id}` },
    href: `${origin}/v1/tracks/${track.id}`,
    id: track.id,
    is_local: false,
    name: track.name,
    popularity: track.popularity,
    preview_url: null,
    track_number: track.trackNumber,
    type: 'track' as const,
    uri: `spotify:track:${track.id}`,
  };
}

export function albumContextJson(origin: string, albumId: string) {
  return {
    type: 'album',
    href: `${origin}/v1/albums/${albumId}`,
    external_urls: { spotify: `https://open.spotify.com/album/${albumId}` },
    uri: `spotify:album:${albumId}`,
  };
}

// ---- Per-user data ----

export type TimeRange = 'short_term' | 'medium_term' | 'long_term';
export const TIME_RANGES: readonly TimeRange[] = ['short_term', 'medium_term', 'long_term'];

const TOP_TRACKS = 50;

/** All 40 artists, in an order that depends on the user and the time range. */
export function topArtists(userId: string, range: TimeRange): CatalogueArtist[] {
  return shuffled(ARTISTS, seededRandom(`top-artists:${range}:${userId}`));
}

/** 50 of the 120 tracks, in an order that depends on the user and the time range. */
export function topTracks(userId: string, range: TimeRange): CatalogueTrack[] {
  return shuffled(TRACKS, seededRandom(`top-tracks:${range}:${userId}`)).slice(0, TOP_TRACKS);
}

export interface PlayHistoryEntry {
  track: CatalogueTrack;
  playedAt: number;
}

const RECENTLY_PLAYED = 50;

/** 50 plays, newest first, ending `anchor` ms (back to back, with short gaps). */
export function recentlyPlayed(userId: string, anchor: number): PlayHistoryEntry[] {
  const random = seededRandom(`recent:${userId}`);
  const entries: PlayHistoryEntry[] = [];
  let at = anchor - Math.floor(random() * 600_000);
  for (let i = 0; i < RECENTLY_PLAYED; i++) {
    const track = TRACKS[Math.floor(random() * TRACKS.length)] as CatalogueTrack;
    entries.push({ track, playedAt: at });
    at -= track.durationMs + Math.floor(random() * 300_000);
  }
  return entries;
}

export interface UserPlaylist {
  id: string;
  name: string;
  description: string;
  public: boolean;
  collaborative: boolean;
  trackCount: number;
  snapshotId: string;
}

/** 25 playlists: every third is private, every seventh collaborative (and so private too). */
export function userPlaylists(userId: string): UserPlaylist[] {
  const order = shuffled(PLAYLIST_NAMES, seededRandom(`playlists:${userId}`));
  return order.map((name, i) => {
    const collaborative = i % 7 === 6;
    return {
      id: spotifyId(`playlist:${userId}:${name}`),
      name,
      description: `${name}, curated by ${userId}.`,
      public: !collaborative && i % 3 !== 2,
      collaborative,
      trackCount: 5 + hashInt(`playlist-size:${userId}:${name}`, 95),
      snapshotId: digest(`snapshot:${userId}:${name}`).subarray(0, 24).toString('base64'),
    };
  });
}

export function playlistJson(
  origin: string,
  playlist: UserPlaylist,
  owner: { id: string; displayName: string | null },
) {
  const items = { href: `${origin}/v1/playlists/${playlist.id}/items`, total: playlist.trackCount };
  return {
    collaborative: playlist.collaborative,
    description: playlist.description,
    external_urls: { spotify: `https://open.spotify.com/playlist/${playlist.id}` },
    href: `${origin}/v1/playlists/${playlist.id}`,
    id: playlist.id,
    images: coverImages(origin, playlist.id).slice(0, 1),
    name: playlist.name,
    owner: {
      external_urls: { spotify: `https://open.spotify.com/user/${owner.id}` },
      href: `${origin}/v1/users/${owner.id}`,
      id: owner.id,
      type: 'user' as const,
      uri: `spotify:user:${owner.id}`,
      display_name: owner.displayName,
    },
    public: playlist.public,
    snapshot_id: playlist.snapshotId,
    items,
    tracks: items,
    type: 'playlist',
    uri: `spotify:playlist:${playlist.id}`,
  };
}

/** Case-insensitive substring search over names (tracks also match on their artists' and album's names). */
export function searchCatalogue(query: string) {
  const q = query.toLowerCase();
  const hit = (name: string) => name.toLowerCase().includes(q);
  return {
    artists: ARTISTS.filter((a) => hit(a.name)),
    albums: ALBUMS.filter((a) => hit(a.name) || artistsOf(a.artistIds).some((x) => hit(x.name))),
    tracks: TRACKS.filter(
      (t) =>
        hit(t.name) ||
        hit((ALBUMS_BY_ID.get(t.albumId) as CatalogueAlbum).name) ||
        artistsOf(t.artistIds).some((x) => hit(x.name)),
    ),
  };
}

/** A deterministic follower count for a user. */
export function userFollowers(userId: string): number {
  return hashInt(`user-followers:${userId}`, 500);
}

/** The name a cover image shows: the catalogue item's initial, or "♪". */
export function coverLabel(id: string): string {
  const name = ARTISTS_BY_ID.get(id)?.name ?? ALBUMS_BY_ID.get(id)?.name ?? TRACKS_BY_ID.get(id)?.name;
  return name ? name.charAt(0).toUpperCase() : '♪';
}

export function hueOf(seed: string): number {
  return hashInt(`hue:${seed}`, 360);
}
