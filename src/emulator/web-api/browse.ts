import { type CatalogueAlbum, MARKETS, userPlaylists } from '../catalogue.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging } from './endpoint.js';
import { GONE_2024, REMOVED_2026 } from './modes.js';
import { coverImages, playlistJson, shapeOf, simplifiedAlbumJson, trackJson } from './shapes.js';

/**
 * Browse, markets and recommendations: removed for development-mode apps (2024 or 2026); extended-mode
 * apps get them over the declared catalogue.
 */

const CATEGORIES = ['pop', 'rock', 'chill', 'focus', 'indie', 'workout', 'podcasts', 'decades'];

function categoryJson(ctx: ApiContext, id: string) {
  return {
    href: `${ctx.origin}/v1/browse/categories/${id}`,
    icons: coverImages(ctx.origin, `category${id}`.padEnd(22, '0').slice(0, 22)).slice(0, 1),
    id,
    name: id.charAt(0).toUpperCase() + id.slice(1),
  };
}

function category(ctx: ApiContext): string {
  const id = ctx.path['category_id'] ?? '';
  if (!CATEGORIES.includes(id)) throw new ApiError(404, 'Resource not found');
  return id;
}

/** Public playlists of the known users, a few per category. */
function categoryPlaylists(ctx: ApiContext, seed: string) {
  const all = [...ctx.state.users.values()].flatMap((user) =>
    userPlaylists(user.id)
      .filter((p) => p.public)
      .map((p) => ({ p, owner: { id: user.id, displayName: user.displayName } })),
  );
  const offset = [...seed].reduce((n, c) => n + c.charCodeAt(0), 0);
  return all.filter((_, i) => (i + offset) % 3 === 0);
}

function newReleases(ctx: ApiContext) {
  const s = shapeOf(ctx);
  const { limit, offset } = pageParams(ctx);
  const albums = [...ctx.state.catalogue.declared('album')].sort((a: CatalogueAlbum, b: CatalogueAlbum) =>
    b.releaseDate.localeCompare(a.releaseDate),
  );
  return { albums: paging(ctx, albums, (a) => simplifiedAlbumJson(s, a), limit, offset) };
}

function recommendations(ctx: ApiContext) {
  const s = shapeOf(ctx);
  const limit = ctx.query.int('limit') ?? 20;
  const seeds = (['seed_artists', 'seed_genres', 'seed_tracks'] as const).flatMap((name) =>
    ctx.query.list(name).map((id) => ({ name, id })),
  );
  if (seeds.length === 0) throw new ApiError(400, 'At least one seed must be given');
  if (seeds.length > 5) throw new ApiError(400, 'Too many seeds');
  const tracks = [...ctx.state.catalogue.declared('track')];
  const start = [...seeds.map((x) => x.id).join()].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 9973, 0);
  const picked = Array.from(
    { length: Math.min(limit, tracks.length) },
    (_, i) => tracks[(start + i * 7) % tracks.length],
  );
  return {
    seeds: seeds.map(({ name, id }) => ({
      afterFilteringSize: tracks.length,
      afterRelinkingSize: tracks.length,
      href:
        name === 'seed_genres'
          ? null
          : `${ctx.origin}/v1/${name === 'seed_artists' ? 'artists' : 'tracks'}/${id}`,
      id,
      initialPoolSize: tracks.length,
      type: name === 'seed_genres' ? 'GENRE' : name === 'seed_artists' ? 'ARTIST' : 'TRACK',
    })),
    tracks: picked.filter((t) => t !== undefined).map((t) => trackJson(s, t)),
  };
}

export const browseEndpoints = [
  endpoint({ operationId: 'get-new-releases', removed: REMOVED_2026, handler: newReleases }),
  endpoint({
    operationId: 'get-categories',
    removed: REMOVED_2026,
    handler: (ctx) => {
      const { limit, offset } = pageParams(ctx);
      return { categories: paging(ctx, CATEGORIES, (id) => categoryJson(ctx, id), limit, offset) };
    },
  }),
  endpoint({
    operationId: 'get-a-category',
    removed: REMOVED_2026,
    handler: (ctx) => categoryJson(ctx, category(ctx)),
  }),
  endpoint({
    operationId: 'get-featured-playlists',
    removed: GONE_2024,
    handler: (ctx) => {
      const { limit, offset } = pageParams(ctx);
      const found = categoryPlaylists(ctx, 'featured');
      return {
        message: 'Popular Playlists',
        playlists: paging(ctx, found, (x) => playlistJson(ctx.origin, x.p, x.owner), limit, offset),
      };
    },
  }),
  endpoint({
    operationId: 'get-a-categories-playlists',
    removed: GONE_2024,
    handler: (ctx) => {
      const id = category(ctx);
      const { limit, offset } = pageParams(ctx);
      const found = categoryPlaylists(ctx, id);
      return {
        message: categoryJson(ctx, id).name,
        playlists: paging(ctx, found, (x) => playlistJson(ctx.origin, x.p, x.owner), limit, offset),
      };
    },
  }),
  // /markets: the status is [UNCONF]; the other February 2026 removals answer 403, so this does too.
  endpoint({
    operationId: 'get-available-markets',
    removed: REMOVED_2026,
    handler: () => ({ markets: [...MARKETS] }),
  }),
  endpoint({ operationId: 'get-recommendations', removed: GONE_2024, handler: recommendations }),
  // available-genre-seeds went with /recommendations (2024); its answer is [UNCONF]: the same 404.
  endpoint({
    operationId: 'get-recommendation-genres',
    removed: GONE_2024,
    handler: (ctx) => ({
      genres: [...new Set([...ctx.state.catalogue.declared('artist')].flatMap((a) => a.genres))].sort(),
    }),
  }),
];
