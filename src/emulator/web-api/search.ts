import { artistJson, searchCatalogue, simplifiedAlbumJson, trackJson } from '../catalogue.js';
import { type ApiContext, endpoint, pageParams, paging } from './endpoint.js';

/**
 * GET /search. Development mode (2026): limit 1–10, default 5 (the spec's own bounds); limit above 10 →
 * 400 "Invalid limit" with Spotify's spacing. Extended-quota apps keep the earlier 1–50, default 20.
 */
function searchJson(ctx: ApiContext) {
  const { origin } = ctx;
  const q = (ctx.query.string('q') ?? '').trim();
  const types = ctx.query.list('type');
  const { limit, offset } = pageParams(ctx, 5);
  const found = searchCatalogue(q);
  const query = { q: ctx.query.string('q') ?? '', type: types.join(',') };
  const result: Record<string, unknown> = {};
  for (const type of types) {
    switch (type) {
      case 'track':
        result['tracks'] = paging(ctx, found.tracks, (t) => trackJson(origin, t), limit, offset, query);
        break;
      case 'artist':
        result['artists'] = paging(ctx, found.artists, (a) => artistJson(origin, a), limit, offset, query);
        break;
      case 'album':
        result['albums'] = paging(
          ctx,
          found.albums,
          (a) => simplifiedAlbumJson(origin, a),
          limit,
          offset,
          query,
        );
        break;
      default:
        result[`${type}s`] = paging(ctx, [], (x) => x, limit, offset, query);
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
