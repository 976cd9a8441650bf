import { type Catalogue, ID_PATTERN, spotifyId } from './catalogue.js';
import { InvalidInput } from './errors.js';

/**
 * Named catalogue entities from JSON (`spotauth emulator --catalogue FILE`, POST /_emulator/catalogue), so
 * apps can be shown realistic data. Children are nested in their parent, which keeps relations consistent:
 *
 *   {"artists": [{"id"?, "name", "genres"?, "popularity"?, "followers"?}],
 *    "albums": [{"id"?, "name", "artists": [artist id or name], "album_type"?, "release_date"?,
 *                "tracks": [{"id"?, "name", "duration_ms"?, "explicit"?, "isrc"?, "artists"?}]}],
 *    "shows": [{"id"?, "name", "publisher"?, "description"?,
 *               "episodes": [{"id"?, "name", "duration_ms"?, "release_date"?, "description"?}]}],
 *    "audiobooks": [{"id"?, "name", "authors", "narrators"?, "publisher"?, "description"?,
 *                    "chapters": [{"id"?, "name", "duration_ms"?}]}]}
 *
 * Missing ids are derived from the names, so the same file gives the same ids every time.
 */

type Raw = Record<string, unknown>;

const MAX_ENTITIES = 100_000;

function list(value: unknown, where: string): Raw[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
  ) {
    throw new InvalidInput(`${where} must be an array of objects`);
  }
  if (value.length > MAX_ENTITIES) throw new InvalidInput(`${where} has more than ${MAX_ENTITIES} entries`);
  return value as Raw[];
}

function text(raw: Raw, key: string, where: string, fallback?: string): string {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'string' || value === '' || value.length > 500) {
    throw new InvalidInput(`${where}.${key} must be a non-empty string`);
  }
  return value;
}

function int(raw: Raw, key: string, where: string, fallback: number, max: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidInput(`${where}.${key} must be an integer from 0 to ${max}`);
  }
  return value;
}

function strings(raw: Raw, key: string, where: string): string[] {
  const value = raw[key] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidInput(`${where}.${key} must be an array of strings`);
  }
  return value as string[];
}

function idOf(raw: Raw, where: string, seed: string): string {
  if (raw['id'] === undefined) return spotifyId(seed);
  const id = raw['id'];
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new InvalidInput(`${where}.id must be a Spotify id (22 letters and digits)`);
  }
  return id;
}

function date(raw: Raw, where: string, fallback: string): string {
  const value = text(raw, 'release_date', where, fallback);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new InvalidInput(`${where}.release_date must be YYYY-MM-DD`);
  return value;
}

export function loadCatalogue(catalogue: Catalogue, data: unknown): Record<string, number> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidInput('A catalogue must be a JSON object with artists, albums, shows and audiobooks');
  }
  const file = data as Raw;
  const counts = { artists: 0, albums: 0, tracks: 0, shows: 0, episodes: 0, audiobooks: 0, chapters: 0 };
  const artistByName = new Map<string, string>();
  list(file['artists'], 'artists').forEach((raw, i) => {
    const where = `artists[${i}]`;
    const name = text(raw, 'name', where);
    const id = idOf(raw, where, `file:artist:${name}`);
    catalogue.add('artist', {
      id,
      name,
      genres: strings(raw, 'genres', where),
      popularity: int(raw, 'popularity', where, 50, 100),
      followers: int(raw, 'followers', where, 0, 1_000_000_000),
    });
    artistByName.set(name, id);
    counts.artists++;
  });
  const artistRefs = (raw: Raw, where: string, fallback: string[]) => {
    const refs = strings(raw, 'artists', where);
    if (refs.length === 0) return fallback;
    return refs.map((ref) => {
      const id = artistByName.get(ref) ?? (ID_PATTERN.test(ref) ? ref : undefined);
      if (!id)
        throw new InvalidInput(`${where}.artists: no artist named ${JSON.stringify(ref).slice(0, 80)}`);
      return id;
    });
  };
  list(file['albums'], 'albums').forEach((raw, i) => {
    const where = `albums[${i}]`;
    const name = text(raw, 'name', where);
    const id = idOf(raw, where, `file:album:${name}`);
    const artistIds = artistRefs(raw, where, []);
    if (artistIds.length === 0) throw new InvalidInput(`${where}.artists must name at least one artist`);
    const type = raw['album_type'] ?? 'album';
    if (type !== 'album' && type !== 'single' && type !== 'compilation') {
      throw new InvalidInput(`${where}.album_type must be album, single or compilation`);
    }
    const tracks = list(raw['tracks'], `${where}.tracks`);
    if (tracks.length === 0) throw new InvalidInput(`${where}.tracks must list at least one track`);
    const trackIds = tracks.map((t, n) => {
      const at = `${where}.tracks[${n}]`;
      const trackName = text(t, 'name', at);
      const trackId = idOf(t, at, `file:track:${name}:${n}:${trackName}`);
      catalogue.add('track', {
        id: trackId,
        name: trackName,
        albumId: id,
        artistIds: artistRefs(t, at, artistIds),
        durationMs: int(t, 'duration_ms', at, 180_000, 24 * 3600 * 1000),
        explicit: t['explicit'] === true,
        popularity: int(t, 'popularity', at, 50, 100),
        trackNumber: n + 1,
        isrc: text(t, 'isrc', at, `QZFILE${String(counts.tracks).padStart(6, '0')}`),
      });
      counts.tracks++;
      return trackId;
    });
    catalogue.add('album', {
      id,
      name,
      artistIds,
      albumType: type,
      releaseDate: date(raw, where, '2020-01-01'),
      trackIds,
    });
    counts.albums++;
  });
  list(file['shows'], 'shows').forEach((raw, i) => {
    const where = `shows[${i}]`;
    const name = text(raw, 'name', where);
    const id = idOf(raw, where, `file:show:${name}`);
    const episodeIds = list(raw['episodes'], `${where}.episodes`).map((e, n) => {
      const at = `${where}.episodes[${n}]`;
      const episodeName = text(e, 'name', at);
      const episodeId = idOf(e, at, `file:episode:${name}:${n}:${episodeName}`);
      catalogue.add('episode', {
        id: episodeId,
        name: episodeName,
        showId: id,
        description: text(e, 'description', at, episodeName),
        durationMs: int(e, 'duration_ms', at, 1_800_000, 24 * 3600 * 1000),
        releaseDate: date(e, at, '2026-01-01'),
        explicit: e['explicit'] === true,
      });
      counts.episodes++;
      return episodeId;
    });
    catalogue.add('show', {
      id,
      name,
      publisher: text(raw, 'publisher', where, name),
      description: text(raw, 'description', where, name),
      explicit: raw['explicit'] === true,
      episodeIds,
    });
    counts.shows++;
  });
  list(file['audiobooks'], 'audiobooks').forEach((raw, i) => {
    const where = `audiobooks[${i}]`;
    const name = text(raw, 'name', where);
    const id = idOf(raw, where, `file:audiobook:${name}`);
    const chapterIds = list(raw['chapters'], `${where}.chapters`).map((c, n) => {
      const at = `${where}.chapters[${n}]`;
      const chapterId = idOf(c, at, `file:chapter:${name}:${n}`);
      catalogue.add('chapter', {
        id: chapterId,
        name: text(c, 'name', at),
        audiobookId: id,
        chapterNumber: n,
        durationMs: int(c, 'duration_ms', at, 1_200_000, 24 * 3600 * 1000),
        releaseDate: date(raw, where, '2020-01-01'),
      });
      counts.chapters++;
      return chapterId;
    });
    catalogue.add('audiobook', {
      id,
      name,
      authors: strings(raw, 'authors', where),
      narrators: strings(raw, 'narrators', where),
      publisher: text(raw, 'publisher', where, 'Independent'),
      description: text(raw, 'description', where, name),
      explicit: raw['explicit'] === true,
      chapterIds,
    });
    counts.audiobooks++;
  });
  return counts;
}
