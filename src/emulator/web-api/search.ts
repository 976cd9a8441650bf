import { type Catalogue, type CatalogueAlbum, userPlaylists } from '../catalogue.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging } from './endpoint.js';
import {
  artistJson,
  playlistJson,
  shapeOf,
  simplifiedAlbumJson,
  simplifiedAudiobookJson,
  simplifiedEpisodeJson,
  simplifiedShowJson,
  trackJson,
} from './shapes.js';

/**
 * GET /search over every type, with Spotify's field filters (developer.spotify.com search reference):
 * `artist:` and `year:` (albums, artists, tracks), `album:` (albums, tracks), `genre:` (artists, tracks),
 * `track:` and `isrc:` (tracks), `upc:`, `tag:new` (released in the past two weeks) and `tag:hipster`
 * (lowest 10 % popularity) for albums. Values may be quoted (`artist:"Velvet Foxes"`); `year:` takes a
 * year or a range (`year:1990-1999`). Free words must all appear (case-insensitive) in the item's name or
 * its artists', album's, show's or authors' names. A filter a type does not support leaves that type's
 * results unfiltered by it [UNCONF: Spotify's own answer for that case is not documented].
 *
 * Development mode (2026): limit 1–10, default 5 (the spec's bounds); limit above 10 → 400 "Invalid
 * limit" with Spotify's spacing, also for app tokens. Extended-quota apps keep the earlier 1–50, default 20.
 */

interface Filters {
  words: string[];
  fields: Map<string, string[]>;
}

const FIELD = /(\w+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)/g;
const KNOWN_FIELDS = new Set(['artist', 'album', 'track', 'year', 'genre', 'isrc', 'upc', 'tag']);

export function parseSearchQuery(q: string): Filters {
  const words: string[] = [];
  const fields = new Map<string, string[]>();
  for (const m of q.matchAll(FIELD)) {
    const field = m[1]?.toLowerCase();
    if (field !== undefined && KNOWN_FIELDS.has(field)) {
      const value = (m[2] ?? m[3] ?? '').toLowerCase();
      fields.set(field, [...(fields.get(field) ?? []), value]);
    } else {
      const word = (m[4] ?? m[5] ?? m[0]).toLowerCase();
      if (word !== '') words.push(word);
    }
  }
  return { words, fields };
}

const has = (haystack: string, needle: string) => haystack.toLowerCase().includes(needle);

function yearMatches(date: string, spec: string): boolean {
  const year = Number(date.slice(0, 4));
  const m = /^(\d{4})(?:-(\d{4}))?$/.exec(spec);
  if (!m) return false;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return year >= from && year <= to;
}

/** Applies the filters a type supports; `text` is everything free words may match. */
function matches(f: Filters, text: string, supported: Record<string, (value: string) => boolean>): boolean {
  if (!f.words.every((w) => has(text, w))) return false;
  for (const [field, values] of f.fields) {
    const test = supported[field];
    if (test && !values.every(test)) return false;
  }
  return true;
}

function albumPopularity(catalogue: Catalogue, album: CatalogueAlbum): number {
  return catalogue.get('artist', album.artistIds[0] ?? album.id).popularity;
}

function search(ctx: ApiContext, f: Filters) {
  const c = ctx.state.catalogue;
  const now = ctx.now();
  const artistNames = (ids: readonly string[]) => ids.map((id) => c.get('artist', id).name).join(' ');
  const albums = [...c.declared('album')];
  const popularities = albums.map((a) => albumPopularity(c, a)).sort((a, b) => a - b);
  const hipsterCut = popularities[Math.floor(popularities.length / 10)] ?? 0;
  const albumFilters = (album: CatalogueAlbum) => ({
    artist: (v: string) => has(artistNames(album.artistIds), v),
    album: (v: string) => has(album.name, v),
    year: (v: string) => yearMatches(album.releaseDate, v),
    upc: () => false,
    tag: (v: string) =>
      v === 'new'
        ? now - Date.parse(album.releaseDate) <= 14 * 24 * 3600 * 1000
        : v === 'hipster' && albumPopularity(c, album) <= hipsterCut,
  });
  return {
    artist: () =>
      [...c.declared('artist')].filter((a) =>
        matches(f, a.name, {
          artist: (v) => has(a.name, v),
          genre: (v) => a.genres.some((g) => has(g, v)),
          year: (v) => c.artistAlbums(a.id).some((al) => yearMatches(al.releaseDate, v)),
        }),
      ),
    album: () => albums.filter((a) => matches(f, `${a.name} ${artistNames(a.artistIds)}`, albumFilters(a))),
    track: () =>
      [...c.declared('track')].filter((t) => {
        const album = c.get('album', t.albumId);
        const artists = t.artistIds.map((id) => c.get('artist', id));
        return matches(f, `${t.name} ${album.name} ${artistNames(t.artistIds)}`, {
          artist: (v) => artists.some((a) => has(a.name, v)),
          album: (v) => has(album.name, v),
          track: (v) => has(t.name, v),
          year: (v) => yearMatches(album.releaseDate, v),
          genre: (v) => artists.some((a) => a.genres.some((g) => has(g, v))),
          isrc: (v) => t.isrc.toLowerCase() === v,
        });
      }),
    show: () => [...c.declared('show')].filter((s) => matches(f, `${s.name} ${s.publisher}`, {})),
    episode: () =>
      [...c.declared('episode')].filter((e) => matches(f, `${e.name} ${c.get('show', e.showId).name}`, {})),
    audiobook: () =>
      [...c.declared('audiobook')].filter((b) => matches(f, `${b.name} ${b.authors.join(' ')}`, {})),
    playlist: () =>
      [...ctx.state.users.values()].flatMap((user) =>
        userPlaylists(user.id)
          .filter((p) => p.public && matches(f, p.name, {}))
          .map((p) => ({ playlist: p, owner: { id: user.id, displayName: user.displayName } })),
      ),
  };
}

function searchJson(ctx: ApiContext) {
  const raw = ctx.query.string('q') ?? '';
  if (raw.trim() === '') throw new ApiError(400, 'No search query');
  const filters = parseSearchQuery(raw);
  const types = ctx.query.list('type');
  const { limit, offset } = pageParams(ctx, 5);
  const s = shapeOf(ctx);
  const found = search(ctx, filters);
  const query = { q: raw, type: types.join(',') };
  const result: Record<string, unknown> = {};
  for (const type of types) {
    const page = <T>(items: readonly T[], toJson: (item: T) => unknown) =>
      paging(ctx, items, toJson, limit, offset, query);
    switch (type) {
      case 'track':
        result['tracks'] = page(found.track(), (t) => trackJson(s, t));
        break;
      case 'artist':
        result['artists'] = page(found.artist(), (a) => artistJson(s, a));
        break;
      case 'album':
        result['albums'] = page(found.album(), (a) => simplifiedAlbumJson(s, a));
        break;
      case 'show':
        result['shows'] = page(found.show(), (x) => simplifiedShowJson(s, x));
        break;
      case 'episode':
        result['episodes'] = page(found.episode(), (x) => simplifiedEpisodeJson(s, x));
        break;
      case 'audiobook':
        result['audiobooks'] = page(found.audiobook(), (x) => simplifiedAudiobookJson(s, x));
        break;
      case 'playlist':
        result['playlists'] = page(found.playlist(), (x) => playlistJson(ctx.origin, x.playlist, x.owner));
        break;
    }
  }
  return result;
}

export const searchEndpoints = [
  endpoint({
    operationId: 'search',
    missing: { q: 'No search query', type: 'Missing parameter type' },
    invalid: { type: 'Bad search type field' },
    extended: { limit: { default: 20, maximum: 50 } },
    handler: searchJson,
  }),
];
