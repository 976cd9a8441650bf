import {
  type CatalogueEntities,
  type CatalogueType,
  hashInt,
  ID_PATTERN,
  seededRandom,
} from '../catalogue.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging } from './endpoint.js';
import { AUDIO_FEATURES_2024, GONE_2024, REMOVED_2026 } from './modes.js';
import {
  albumJson,
  artistJson,
  audiobookJson,
  chapterJson,
  episodeJson,
  shapeOf,
  showJson,
  simplifiedAlbumJson,
  simplifiedChapterJson,
  simplifiedEpisodeJson,
  simplifiedShowJson,
  simplifiedTrackJson,
  trackJson,
} from './shapes.js';

/**
 * The catalogue: albums, artists, tracks, shows, episodes, audiobooks, chapters, by id and in batches.
 * Every well-formed id resolves (catalogue.ts); ids declared missing answer 404, or null in a batch.
 */

function checkedId(raw: string): string {
  if (!ID_PATTERN.test(raw)) throw new ApiError(400, 'invalid id');
  return raw;
}

function isMissing(ctx: ApiContext, type: CatalogueType, id: string): boolean {
  return ctx.state.missingIds.has(`${type}:${id}`);
}

/** The path id of a single-item GET, 400 when malformed and 404 when declared missing. */
function pathEntity<K extends CatalogueType>(ctx: ApiContext, type: K) {
  const id = checkedId(ctx.path['id'] ?? '');
  if (isMissing(ctx, type, id)) throw new ApiError(404, 'Resource not found');
  return ctx.state.catalogue.get(type, id);
}

/** `ids=` of a batch GET: null for ids declared missing, as Spotify sends for unknown ids (§7). */
function batch<K extends CatalogueType, J>(
  ctx: ApiContext,
  type: K,
  max: number,
  toJson: (entity: CatalogueEntities[K]) => J,
): (J | null)[] {
  const ids = (ctx.query.string('ids') ?? '').split(',');
  if (ids.length > max) throw new ApiError(400, 'Too many ids requested');
  return ids.map((raw) => {
    const id = checkedId(raw.trim());
    return isMissing(ctx, type, id) ? null : toJson(ctx.state.catalogue.get(type, id));
  });
}

const ALBUM_GROUPS = ['album', 'single', 'appears_on', 'compilation'];

function artistAlbumsJson(ctx: ApiContext) {
  const artist = pathEntity(ctx, 'artist');
  const groups = ctx.query.list('include_groups');
  if (!groups.every((g) => ALBUM_GROUPS.includes(g))) throw new ApiError(400, 'Invalid include_groups');
  const s = shapeOf(ctx);
  const { limit, offset } = pageParams(ctx, 5);
  const albums = ctx.state.catalogue
    .artistAlbums(artist.id)
    .filter((album) => groups.length === 0 || groups.includes(album.albumType));
  const query: Record<string, string> = groups.length > 0 ? { include_groups: groups.join(',') } : {};
  return paging(ctx, albums, (a) => simplifiedAlbumJson(s, a, a.albumType), limit, offset, query);
}

/** Other declared artists, picked by a hash of the id (the 2024-removed related-artists, extended mode). */
function relatedArtistsJson(ctx: ApiContext) {
  const artist = pathEntity(ctx, 'artist');
  const s = shapeOf(ctx);
  const random = seededRandom(`related:${artist.id}`);
  const pool = [...ctx.state.catalogue.declared('artist')].filter((a) => a.id !== artist.id);
  const picked = pool.filter(() => random() < 0.25).slice(0, 20);
  return { artists: picked.map((a) => artistJson(s, a)) };
}

/** Deterministic audio features from the track id (extended mode only since 2024). */
function audioFeatures(ctx: ApiContext, id: string) {
  const track = ctx.state.catalogue.get('track', id);
  const unit = (name: string) => hashInt(`${name}:${id}`, 1000) / 1000;
  return {
    acousticness: unit('acousticness'),
    analysis_url: `${ctx.origin}/v1/audio-analysis/${id}`,
    danceability: unit('danceability'),
    duration_ms: track.durationMs,
    energy: unit('energy'),
    id,
    instrumentalness: unit('instrumentalness'),
    key: hashInt(`key:${id}`, 12),
    liveness: unit('liveness'),
    loudness: -(hashInt(`loudness:${id}`, 20_000) / 1000),
    mode: hashInt(`mode:${id}`, 2),
    speechiness: unit('speechiness'),
    tempo: 60 + hashInt(`tempo:${id}`, 120_000) / 1000,
    time_signature: 3 + hashInt(`signature:${id}`, 3),
    track_href: `${ctx.origin}/v1/tracks/${id}`,
    type: 'audio_features' as const,
    uri: `spotify:track:${id}`,
    valence: unit('valence'),
  };
}

function audioAnalysisJson(ctx: ApiContext) {
  const track = pathEntity(ctx, 'track');
  const seconds = track.durationMs / 1000;
  const tempo = 60 + hashInt(`tempo:${track.id}`, 120_000) / 1000;
  const beat = 60 / tempo;
  const beats = Array.from({ length: Math.min(64, Math.floor(seconds / beat)) }, (_, i) => ({
    start: Number((i * beat).toFixed(5)),
    duration: Number(beat.toFixed(5)),
    confidence: 0.5,
  }));
  return {
    meta: {
      analyzer_version: '4.0.0',
      platform: 'Linux',
      detailed_status: 'OK',
      status_code: 0,
      timestamp: 1_700_000_000,
      analysis_time: 1.5,
      input_process: 'libvorbisfile L+R 44100->22050',
    },
    track: {
      num_samples: Math.round(seconds * 22_050),
      duration: seconds,
      sample_md5: '',
      offset_seconds: 0,
      window_seconds: 0,
      analysis_sample_rate: 22_050,
      analysis_channels: 1,
      end_of_fade_in: 0,
      start_of_fade_out: seconds,
      loudness: -(hashInt(`loudness:${track.id}`, 20_000) / 1000),
      tempo,
      tempo_confidence: 0.8,
      time_signature: 4,
      time_signature_confidence: 1,
      key: hashInt(`key:${track.id}`, 12),
      key_confidence: 0.5,
      mode: hashInt(`mode:${track.id}`, 2),
      mode_confidence: 0.5,
      codestring: '',
      code_version: 3.15,
      echoprintstring: '',
      echoprint_version: 4.12,
      synchstring: '',
      synch_version: 1,
      rhythmstring: '',
      rhythm_version: 1,
    },
    bars: [],
    beats,
    sections: [],
    segments: [],
    tatums: [],
  };
}

export const catalogueEndpoints = [
  endpoint({
    operationId: 'get-an-album',
    handler: (ctx) => albumJson(shapeOf(ctx), pathEntity(ctx, 'album')),
  }),
  endpoint({
    operationId: 'get-multiple-albums',
    removed: REMOVED_2026,
    handler: (ctx) => ({ albums: batch(ctx, 'album', 20, (a) => albumJson(shapeOf(ctx), a)) }),
  }),
  endpoint({
    operationId: 'get-an-albums-tracks',
    handler: (ctx) => {
      const album = pathEntity(ctx, 'album');
      const s = shapeOf(ctx);
      const { limit, offset } = pageParams(ctx);
      const tracks = album.trackIds.map((id) => ctx.state.catalogue.get('track', id));
      return paging(ctx, tracks, (t) => simplifiedTrackJson(s, t), limit, offset);
    },
  }),
  endpoint({
    operationId: 'get-an-artist',
    handler: (ctx) => artistJson(shapeOf(ctx), pathEntity(ctx, 'artist')),
  }),
  endpoint({
    operationId: 'get-multiple-artists',
    removed: REMOVED_2026,
    handler: (ctx) => ({ artists: batch(ctx, 'artist', 50, (a) => artistJson(shapeOf(ctx), a)) }),
  }),
  endpoint({
    operationId: 'get-an-artists-albums',
    // The spec's 2026 bounds (0–10, default 5) for development mode; the earlier 1–50, default 20 otherwise.
    extended: { limit: { minimum: 1, maximum: 50, default: 20 } },
    handler: artistAlbumsJson,
  }),
  endpoint({
    operationId: 'get-an-artists-top-tracks',
    removed: REMOVED_2026,
    handler: (ctx) => {
      const artist = pathEntity(ctx, 'artist');
      const s = shapeOf(ctx);
      return { tracks: ctx.state.catalogue.artistTopTracks(artist.id).map((t) => trackJson(s, t)) };
    },
  }),
  endpoint({
    operationId: 'get-an-artists-related-artists',
    removed: GONE_2024,
    handler: relatedArtistsJson,
  }),
  // The spec lists user-read-playback-position, but shows and episodes work with app tokens too; the
  // scope only adds resume points.
  endpoint({
    operationId: 'get-a-show',
    scopes: [],
    handler: (ctx) => showJson(shapeOf(ctx), pathEntity(ctx, 'show')),
  }),
  endpoint({
    operationId: 'get-multiple-shows',
    removed: REMOVED_2026,
    handler: (ctx) => ({ shows: batch(ctx, 'show', 50, (x) => simplifiedShowJson(shapeOf(ctx), x)) }),
  }),
  endpoint({
    operationId: 'get-a-shows-episodes',
    scopes: [],
    handler: (ctx) => {
      const show = pathEntity(ctx, 'show');
      const s = shapeOf(ctx);
      const { limit, offset } = pageParams(ctx);
      const episodes = show.episodeIds.map((id) => ctx.state.catalogue.get('episode', id));
      return paging(ctx, episodes, (e) => simplifiedEpisodeJson(s, e), limit, offset);
    },
  }),
  endpoint({
    operationId: 'get-an-episode',
    scopes: [],
    handler: (ctx) => episodeJson(shapeOf(ctx), pathEntity(ctx, 'episode')),
  }),
  endpoint({
    operationId: 'get-multiple-episodes',
    scopes: [],
    removed: REMOVED_2026,
    handler: (ctx) => ({ episodes: batch(ctx, 'episode', 50, (x) => episodeJson(shapeOf(ctx), x)) }),
  }),
  endpoint({
    operationId: 'get-an-audiobook',
    handler: (ctx) => audiobookJson(shapeOf(ctx), pathEntity(ctx, 'audiobook')),
  }),
  endpoint({
    operationId: 'get-multiple-audiobooks',
    removed: REMOVED_2026,
    handler: (ctx) => ({
      audiobooks: batch(ctx, 'audiobook', 50, (x) => audiobookJson(shapeOf(ctx), x)),
    }),
  }),
  endpoint({
    operationId: 'get-audiobook-chapters',
    handler: (ctx) => {
      const book = pathEntity(ctx, 'audiobook');
      const s = shapeOf(ctx);
      const { limit, offset } = pageParams(ctx);
      const chapters = book.chapterIds.map((id) => ctx.state.catalogue.get('chapter', id));
      return paging(ctx, chapters, (c) => simplifiedChapterJson(s, c), limit, offset);
    },
  }),
  endpoint({
    operationId: 'get-a-chapter',
    handler: (ctx) => chapterJson(shapeOf(ctx), pathEntity(ctx, 'chapter')),
  }),
  endpoint({
    operationId: 'get-several-chapters',
    removed: REMOVED_2026,
    handler: (ctx) => ({ chapters: batch(ctx, 'chapter', 50, (x) => chapterJson(shapeOf(ctx), x)) }),
  }),
  endpoint({ operationId: 'get-track', handler: (ctx) => trackJson(shapeOf(ctx), pathEntity(ctx, 'track')) }),
  endpoint({
    operationId: 'get-several-tracks',
    removed: REMOVED_2026,
    handler: (ctx) => ({ tracks: batch(ctx, 'track', 50, (x) => trackJson(shapeOf(ctx), x)) }),
  }),
  endpoint({
    operationId: 'get-several-audio-features',
    removed: AUDIO_FEATURES_2024,
    handler: (ctx) => ({
      audio_features: batch(ctx, 'track', 100, (t) => audioFeatures(ctx, t.id)),
    }),
  }),
  endpoint({
    operationId: 'get-audio-features',
    removed: AUDIO_FEATURES_2024,
    handler: (ctx) => audioFeatures(ctx, pathEntity(ctx, 'track').id),
  }),
  // audio-analysis: the 2024 answer is [UNCONF]; taken to match audio-features (403, no message).
  endpoint({ operationId: 'get-audio-analysis', removed: AUDIO_FEATURES_2024, handler: audioAnalysisJson }),
];
