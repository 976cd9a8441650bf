import { ARTISTS_BY_ID, artistJson, ID_PATTERN, TRACKS_BY_ID, trackJson } from '../catalogue.js';
import { type ApiContext, ApiError, endpoint } from './endpoint.js';
import { AUDIO_FEATURES_2024, GONE_2024, REMOVED_2026 } from './modes.js';
import { notYet } from './stub.js';

/** The catalogue: albums, artists, tracks, shows, episodes, audiobooks, chapters, by id and in batches. */

function catalogueId(ctx: ApiContext): string {
  const id = ctx.path['id'] ?? '';
  if (!ID_PATTERN.test(id)) throw new ApiError(400, 'invalid id');
  return id;
}

function notFound(): never {
  throw new ApiError(404, 'Resource not found');
}

export const catalogueEndpoints = [
  endpoint({ operationId: 'get-an-album', handler: notYet('get-an-album') }),
  endpoint({
    operationId: 'get-multiple-albums',
    removed: REMOVED_2026,
    handler: notYet('get-multiple-albums'),
  }),
  endpoint({ operationId: 'get-an-albums-tracks', handler: notYet('get-an-albums-tracks') }),
  endpoint({
    operationId: 'get-an-artist',
    handler: (ctx) => artistJson(ctx.origin, ARTISTS_BY_ID.get(catalogueId(ctx)) ?? notFound()),
  }),
  endpoint({
    operationId: 'get-multiple-artists',
    removed: REMOVED_2026,
    handler: notYet('get-multiple-artists'),
  }),
  endpoint({ operationId: 'get-an-artists-albums', handler: notYet('get-an-artists-albums') }),
  endpoint({
    operationId: 'get-an-artists-top-tracks',
    removed: REMOVED_2026,
    handler: notYet('get-an-artists-top-tracks'),
  }),
  endpoint({
    operationId: 'get-an-artists-related-artists',
    removed: GONE_2024,
    handler: notYet('get-an-artists-related-artists'),
  }),
  endpoint({ operationId: 'get-a-show', scopes: [], handler: notYet('get-a-show') }),
  endpoint({
    operationId: 'get-multiple-shows',
    removed: REMOVED_2026,
    handler: notYet('get-multiple-shows'),
  }),
  endpoint({ operationId: 'get-a-shows-episodes', scopes: [], handler: notYet('get-a-shows-episodes') }),
  endpoint({ operationId: 'get-an-episode', scopes: [], handler: notYet('get-an-episode') }),
  endpoint({
    operationId: 'get-multiple-episodes',
    scopes: [],
    removed: REMOVED_2026,
    handler: notYet('get-multiple-episodes'),
  }),
  endpoint({ operationId: 'get-an-audiobook', handler: notYet('get-an-audiobook') }),
  endpoint({
    operationId: 'get-multiple-audiobooks',
    removed: REMOVED_2026,
    handler: notYet('get-multiple-audiobooks'),
  }),
  endpoint({ operationId: 'get-audiobook-chapters', handler: notYet('get-audiobook-chapters') }),
  endpoint({ operationId: 'get-a-chapter', handler: notYet('get-a-chapter') }),
  endpoint({
    operationId: 'get-several-chapters',
    removed: REMOVED_2026,
    handler: notYet('get-several-chapters'),
  }),
  endpoint({
    operationId: 'get-track',
    handler: (ctx) => trackJson(ctx.origin, TRACKS_BY_ID.get(catalogueId(ctx)) ?? notFound()),
  }),
  endpoint({
    operationId: 'get-several-tracks',
    removed: REMOVED_2026,
    handler: notYet('get-several-tracks'),
  }),
  endpoint({
    operationId: 'get-several-audio-features',
    removed: AUDIO_FEATURES_2024,
    handler: notYet('get-several-audio-features'),
  }),
  endpoint({
    operationId: 'get-audio-features',
    removed: AUDIO_FEATURES_2024,
    handler: notYet('get-audio-features'),
  }),
  // audio-analysis: the 2024 answer is [UNCONF]; taken to match audio-features (403, no message).
  endpoint({
    operationId: 'get-audio-analysis',
    removed: AUDIO_FEATURES_2024,
    handler: notYet('get-audio-analysis'),
  }),
];
