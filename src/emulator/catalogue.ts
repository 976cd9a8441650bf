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

export function hashInt(seed: string, modulo: number): number {
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

export interface CatalogueShow {
  id: string;
  name: string;
  publisher: string;
  description: string;
  explicit: boolean;
  episodeIds: string[];
}

export interface CatalogueEpisode {
  id: string;
  name: string;
  showId: string;
  description: string;
  durationMs: number;
  releaseDate: string;
  explicit: boolean;
}

export interface CatalogueAudiobook {
  id: string;
  name: string;
  authors: string[];
  narrators: string[];
  publisher: string;
  description: string;
  explicit: boolean;
  chapterIds: string[];
}

export interface CatalogueChapter {
  id: string;
  name: string;
  audiobookId: string;
  chapterNumber: number;
  durationMs: number;
  releaseDate: string;
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
export const MARKETS: readonly string[] = ['DE', 'GB', 'SE', 'US'];

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

/** A deterministic follower count for a user. */
export function userFollowers(userId: string): number {
  return hashInt(`user-followers:${userId}`, 500);
}

export function hueOf(seed: string): number {
  return hashInt(`hue:${seed}`, 360);
}

// ---- Podcasts and audiobooks (seeded, so that search finds some) ----

const SHOW_NAMES = ['The Quiet Hour', 'Signal and Noise', 'Field Recordings', 'Late Shift Radio'];
const AUDIOBOOK_NAMES = ['The Glass Harbor', 'Northern Letters', 'A Map of Small Rivers'];
const AUTHORS = ['Ada Lindqvist', 'Tomas Reyes', 'Mira Okafor', 'Jonas Weber'];
const EPISODES_PER_SHOW = 6;
const CHAPTERS_PER_BOOK = 8;

function isoDay(seed: string, fromYear: number, years: number): string {
  const year = fromYear + hashInt(`year:${seed}`, years);
  const month = 1 + hashInt(`month:${seed}`, 12);
  const day = 1 + hashInt(`day:${seed}`, 28);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export const SHOWS: readonly CatalogueShow[] = SHOW_NAMES.map((name) => {
  const id = spotifyId(`show:${name}`);
  return {
    id,
    name,
    publisher: `${name.split(' ').at(-1)} Media`,
    description: `${name}: conversations about music and the people who make it.`,
    explicit: false,
    episodeIds: Array.from({ length: EPISODES_PER_SHOW }, (_, i) => spotifyId(`episode:${name}:${i + 1}`)),
  };
});

export const EPISODES: readonly CatalogueEpisode[] = SHOWS.flatMap((show) =>
  show.episodeIds.map((id, i) => ({
    id,
    name: `${show.name} #${EPISODES_PER_SHOW - i}`,
    showId: show.id,
    description: `Episode ${EPISODES_PER_SHOW - i} of ${show.name}.`,
    durationMs: 900_000 + hashInt(`duration:${id}`, 2_700_000),
    // Newest first, as Spotify lists a show's episodes.
    releaseDate: `2026-${String(10 - Math.min(i, 9)).padStart(2, '0')}-01`,
    explicit: false,
  })),
);

export const AUDIOBOOKS: readonly CatalogueAudiobook[] = AUDIOBOOK_NAMES.map((name, index) => {
  const id = spotifyId(`audiobook:${name}`);
  return {
    id,
    name,
    authors: [AUTHORS[index % AUTHORS.length] as string],
    narrators: [AUTHORS[(index + 1) % AUTHORS.length] as string],
    publisher: 'Harbor Audio',
    description: `${name}, unabridged.`,
    explicit: false,
    chapterIds: Array.from({ length: CHAPTERS_PER_BOOK }, (_, i) => spotifyId(`chapter:${name}:${i + 1}`)),
  };
});

export const CHAPTERS: readonly CatalogueChapter[] = AUDIOBOOKS.flatMap((book) =>
  book.chapterIds.map((id, i) => ({
    id,
    name: `Chapter ${i + 1}`,
    audiobookId: book.id,
    chapterNumber: i,
    durationMs: 600_000 + hashInt(`duration:${id}`, 1_800_000),
    releaseDate: isoDay(book.name, 2015, 10),
  })),
);

// ---- Every well-formed id resolves ----

export type CatalogueType = 'artist' | 'album' | 'track' | 'show' | 'episode' | 'audiobook' | 'chapter';

function pickWord(words: readonly string[], seed: string): string {
  return words[hashInt(seed, words.length)] as string;
}

/**
 * An id nobody declared is a synthetic entity named and sized from a hash of the id. Relations must
 * agree whichever id a client asks first, from one id alone and across restarts, so an unknown id is a
 * family sharing that one id string: track X is the only track of album X (a single) by artist X; episode
 * X is the only episode of show X; chapter X the only chapter of audiobook X. (Richer families would need
 * a derived id to encode its parent, which 22 base62 characters cannot hold for every parent.)
 */
const synthetic = {
  artist(id: string): CatalogueArtist {
    return {
      id,
      name: `${pickWord(ARTIST_FIRST, `a1:${id}`)} ${pickWord(ARTIST_SECOND, `a2:${id}`)} ${pickWord(TRACK_SECOND, `a3:${id}`)}`,
      genres: [pickWord(GENRES, `genre:${id}`)],
      popularity: hashInt(`pop:${id}`, 100),
      followers: hashInt(`followers:${id}`, 1_000_000),
    };
  },
  album(id: string): CatalogueAlbum {
    return {
      id,
      name: `${pickWord(ALBUM_WORDS, `al:${id}`)} (${pickWord(TRACK_FIRST, `al2:${id}`)})`,
      artistIds: [id],
      albumType: 'single',
      releaseDate: isoDay(id, 1970, 56),
      trackIds: [id],
    };
  },
  track(id: string): CatalogueTrack {
    return {
      id,
      name: `${pickWord(TRACK_FIRST, `t1:${id}`)} ${pickWord(TRACK_SECOND, `t2:${id}`)}`,
      albumId: id,
      artistIds: [id],
      durationMs: 120_000 + hashInt(`duration:${id}`, 240_000),
      explicit: hashInt(`explicit:${id}`, 5) === 0,
      popularity: hashInt(`pop:${id}`, 100),
      trackNumber: 1,
      isrc: `QZ${String(hashInt(`isrc:${id}`, 1_000_000_000)).padStart(10, '0')}`,
    };
  },
  show(id: string): CatalogueShow {
    const name = `${pickWord(TRACK_FIRST, `s1:${id}`)} ${pickWord(TRACK_SECOND, `s2:${id}`)} Podcast`;
    return {
      id,
      name,
      publisher: `${pickWord(ARTIST_FIRST, `sp:${id}`)} Media`,
      description: `${name}, a podcast.`,
      explicit: false,
      episodeIds: [id],
    };
  },
  episode(id: string): CatalogueEpisode {
    return {
      id,
      name: `Episode ${1 + hashInt(`ep:${id}`, 300)}`,
      showId: id,
      description: 'An episode.',
      durationMs: 600_000 + hashInt(`duration:${id}`, 3_000_000),
      releaseDate: isoDay(id, 2015, 11),
      explicit: false,
    };
  },
  audiobook(id: string): CatalogueAudiobook {
    const name = `The ${pickWord(TRACK_FIRST, `b1:${id}`)} ${pickWord(TRACK_SECOND, `b2:${id}`)}`;
    return {
      id,
      name,
      authors: [pickWord(AUTHORS, `author:${id}`)],
      narrators: [pickWord(AUTHORS, `narrator:${id}`)],
      publisher: 'Harbor Audio',
      description: `${name}, unabridged.`,
      explicit: false,
      chapterIds: [id],
    };
  },
  chapter(id: string): CatalogueChapter {
    return {
      id,
      name: 'Chapter 1',
      audiobookId: id,
      chapterNumber: 0,
      durationMs: 600_000 + hashInt(`duration:${id}`, 1_800_000),
      releaseDate: isoDay(id, 2015, 11),
    };
  },
};

export interface CatalogueEntities {
  artist: CatalogueArtist;
  album: CatalogueAlbum;
  track: CatalogueTrack;
  show: CatalogueShow;
  episode: CatalogueEpisode;
  audiobook: CatalogueAudiobook;
  chapter: CatalogueChapter;
}

type Tables = { [K in CatalogueType]: Map<string, CatalogueEntities[K]> };

/**
 * Synthetic entities kept, most recently used last: building one hashes the id several times, and a page
 * of playlist items asks for the same few again and again. Bounded, since every well-formed id has one.
 */
const SYNTHETIC_CACHE = 10_000;

/**
 * One emulator's catalogue: the seeded entities, those loaded with --catalogue FILE, and a synthetic
 * entity for every other well-formed id. Declared entities win; ids declared missing answer 404 (in the
 * handlers, via EmulatorState.missingIds).
 */
export class Catalogue {
  private readonly tables: Tables = {
    artist: new Map(ARTISTS_BY_ID),
    album: new Map(ALBUMS_BY_ID),
    track: new Map(TRACKS_BY_ID),
    show: new Map(SHOWS.map((x) => [x.id, x])),
    episode: new Map(EPISODES.map((x) => [x.id, x])),
    audiobook: new Map(AUDIOBOOKS.map((x) => [x.id, x])),
    chapter: new Map(CHAPTERS.map((x) => [x.id, x])),
  };
  private albumsByArtist: Map<string, CatalogueAlbum[]> | null = null;
  private readonly synthetic = new Map<string, CatalogueEntities[CatalogueType]>();
  /** Moves on with every change, so what was derived from the entities (their JSON) can be dropped. */
  generation = 0;

  get<K extends CatalogueType>(type: K, id: string): CatalogueEntities[K] {
    const known = this.tables[type].get(id);
    if (known) return known;
    const key = `${type}:${id}`;
    const cached = this.synthetic.get(key) as CatalogueEntities[K] | undefined;
    if (cached) {
      this.synthetic.delete(key);
      this.synthetic.set(key, cached);
      return cached;
    }
    const made = (synthetic[type] as (id: string) => CatalogueEntities[K])(id);
    if (this.synthetic.size >= SYNTHETIC_CACHE) {
      const oldest = this.synthetic.keys().next().value;
      if (oldest !== undefined) this.synthetic.delete(oldest);
    }
    this.synthetic.set(key, made);
    return made;
  }

  /** Declared (seeded or loaded) entities of a type: what search looks through. */
  declared<K extends CatalogueType>(type: K): Iterable<CatalogueEntities[K]> {
    return this.tables[type].values();
  }

  isDeclared(type: CatalogueType, id: string): boolean {
    return this.tables[type].has(id);
  }

  add<K extends CatalogueType>(type: K, entity: CatalogueEntities[K]): void {
    this.tables[type].set(entity.id, entity);
    this.albumsByArtist = null;
    this.generation++;
  }

  artistAlbums(artistId: string): CatalogueAlbum[] {
    if (!this.albumsByArtist) {
      const index = new Map<string, CatalogueAlbum[]>();
      for (const album of this.tables.album.values()) {
        for (const artist of album.artistIds) index.set(artist, [...(index.get(artist) ?? []), album]);
      }
      this.albumsByArtist = index;
    }
    const albums = this.albumsByArtist.get(artistId);
    if (albums) return albums;
    return this.tables.artist.has(artistId) ? [] : [this.get('album', artistId)];
  }

  /** The artist's tracks by popularity, at most 10 (GET /artists/{id}/top-tracks). */
  artistTopTracks(artistId: string): CatalogueTrack[] {
    return this.artistAlbums(artistId)
      .flatMap((album) => album.trackIds.map((id) => this.get('track', id)))
      .filter((track) => track.artistIds.includes(artistId))
      .sort((a, b) => b.popularity - a.popularity)
      .slice(0, 10);
  }
}
