import { seededRandom, spotifyId, TRACKS, type UserPlaylist, userPlaylists } from '../catalogue.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging, reply, requireUser } from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { coverImages, playlistJson, shapeOf, trackJson } from './shapes.js';

/**
 * Playlists: reading, creating, editing items and covers. Placeholder bodies over the seeded playlists
 * (edits change nothing yet): the state work replaces them.
 */

interface Found {
  playlist: UserPlaylist;
  owner: { id: string; displayName: string | null };
}

function findPlaylist(ctx: ApiContext): Found {
  const id = ctx.path['playlist_id'] ?? '';
  if (!/^[0-9A-Za-z]{22}$/.test(id)) throw new ApiError(400, 'invalid id');
  // Spotify's own editorial and algorithmic playlists (37i9…) are gone for new apps since 2024 (§ summary).
  if (id.startsWith('37i9') && ctx.mode === 'development') throw new ApiError(404, 'Resource not found');
  if (ctx.state.missingIds.has(`playlist:${id}`)) throw new ApiError(404, 'Resource not found');
  for (const user of ctx.state.users.values()) {
    const playlist = userPlaylists(user.id).find((p) => p.id === id);
    if (playlist) return { playlist, owner: { id: user.id, displayName: user.displayName } };
  }
  throw new ApiError(404, 'Resource not found');
}

/** The seeded playlist's tracks: a deterministic pick from the catalogue. */
function playlistTracks(playlist: UserPlaylist) {
  const random = seededRandom(`playlist-tracks:${playlist.id}`);
  return Array.from(
    { length: playlist.trackCount },
    () => TRACKS[Math.floor(random() * TRACKS.length)],
  ).filter((t) => t !== undefined);
}

/**
 * A playlist item as Spotify sends it: `item` and the deprecated `track`, plus the undocumented
 * `primary_color`, `video_thumbnail` and the track's `episode: false, track: true` (WEB-API-2026.md §3).
 */
function itemJson(ctx: ApiContext, found: Found, track: (typeof TRACKS)[number], index: number) {
  const full = { ...trackJson(shapeOf(ctx), track), episode: false, track: true };
  return {
    added_at: new Date(ctx.state.epoch - (index + 1) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    added_by: {
      external_urls: { spotify: `https://open.spotify.com/user/${found.owner.id}` },
      href: `${ctx.origin}/v1/users/${found.owner.id}`,
      id: found.owner.id,
      type: 'user' as const,
      uri: `spotify:user:${found.owner.id}`,
    },
    is_local: false,
    primary_color: null,
    item: full,
    track: full,
    video_thumbnail: { url: null },
  };
}

function itemsPage(ctx: ApiContext, found: Found, limit: number, offset: number) {
  const tracks = playlistTracks(found.playlist);
  return paging(ctx, tracks, (t) => itemJson(ctx, found, t, tracks.indexOf(t)), limit, offset);
}

/** Contents only for playlists the user owns or collaborates on (FEB26; 403 with Spotify's spacing). */
function ownedOrCollaborative(ctx: ApiContext, found: Found): void {
  if (ctx.mode !== 'development') return;
  if (ctx.user?.id === found.owner.id || found.playlist.collaborative) return;
  throw new ApiError(403, 'Forbidden', { raw: '{"error": {"status": 403, "message": "Forbidden" }}' });
}

function fullPlaylistJson(ctx: ApiContext, found: Found) {
  const base = playlistJson(ctx.origin, found.playlist, found.owner);
  const page = itemsPage(ctx, found, 100, 0);
  return { ...base, followers: { href: null, total: 0 }, items: page, tracks: page };
}

const snapshot = (ctx: ApiContext) => ({ snapshot_id: findPlaylist(ctx).playlist.snapshotId });

function createdJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const body = (ctx.body ?? {}) as { name?: unknown; public?: unknown; description?: unknown };
  if (typeof body.name !== 'string' || body.name === '')
    throw new ApiError(400, 'Missing required field: name');
  const playlist: UserPlaylist = {
    id: spotifyId(`created:${user.id}:${ctx.now()}:${body.name}`),
    name: body.name,
    description: typeof body.description === 'string' ? body.description : '',
    public: body.public !== false,
    collaborative: false,
    trackCount: 0,
    snapshotId: 'AAAAAQ',
  };
  const found = { playlist, owner: { id: user.id, displayName: user.displayName } };
  const page = itemsPage(ctx, found, 100, 0);
  return reply(201, {
    ...playlistJson(ctx.origin, playlist, found.owner),
    followers: { href: null, total: 0 },
    items: page,
    tracks: page,
  });
}

/**
 * Like Spotify: without playlist-read-private the private playlists are left out, and without
 * playlist-read-collaborative the collaborative ones; public playlists need no scope.
 */
function myPlaylistsJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { limit, offset } = pageParams(ctx);
  const scopes = ctx.token.scopes;
  const visible = userPlaylists(user.id).filter((p) =>
    p.collaborative
      ? scopes.includes('playlist-read-collaborative')
      : p.public || scopes.includes('playlist-read-private'),
  );
  const owner = { id: user.id, displayName: user.displayName };
  return paging(ctx, visible, (p) => playlistJson(ctx.origin, p, owner), limit, offset);
}

export const playlistEndpoints = [
  endpoint({
    operationId: 'get-playlist',
    scopes: [],
    handler: (ctx) => fullPlaylistJson(ctx, findPlaylist(ctx)),
  }),
  endpoint({
    operationId: 'change-playlist-details',
    handler: (ctx) => {
      findPlaylist(ctx);
      return reply(200);
    },
  }),
  endpoint({
    operationId: 'get-playlists-tracks',
    removed: REMOVED_2026,
    handler: (ctx) => {
      const found = findPlaylist(ctx);
      ownedOrCollaborative(ctx, found);
      const { limit, offset } = pageParams(ctx);
      return itemsPage(ctx, found, limit, offset);
    },
  }),
  endpoint({
    operationId: 'add-tracks-to-playlist',
    removed: REMOVED_2026,
    handler: snapshot,
  }),
  endpoint({
    operationId: 'reorder-or-replace-playlists-tracks',
    removed: REMOVED_2026,
    handler: snapshot,
  }),
  endpoint({
    operationId: 'remove-tracks-playlist',
    removed: REMOVED_2026,
    handler: snapshot,
  }),
  endpoint({
    operationId: 'get-playlists-items',
    handler: (ctx) => {
      const found = findPlaylist(ctx);
      ownedOrCollaborative(ctx, found);
      const { limit, offset } = pageParams(ctx);
      return itemsPage(ctx, found, limit, offset);
    },
  }),
  endpoint({ operationId: 'add-items-to-playlist', handler: (ctx) => reply(201, snapshot(ctx)) }),
  endpoint({ operationId: 'reorder-or-replace-playlists-items', handler: snapshot }),
  endpoint({ operationId: 'remove-items-playlist', handler: snapshot }),
  endpoint({
    operationId: 'get-a-list-of-current-users-playlists',
    // Public playlists need no scope; playlist-read-private only widens the list (see above).
    scopes: [],
    handler: myPlaylistsJson,
  }),
  endpoint({ operationId: 'create-playlist', handler: createdJson }),
  endpoint({
    operationId: 'get-list-users-playlists',
    removed: REMOVED_2026,
    scopes: [],
    handler: (ctx) => {
      const id = ctx.path['user_id'] ?? '';
      const user = ctx.state.users.get(id);
      const { limit, offset } = pageParams(ctx);
      const owner = { id, displayName: user?.displayName ?? id };
      const visible = user ? userPlaylists(id).filter((p) => p.public) : [];
      return paging(ctx, visible, (p) => playlistJson(ctx.origin, p, owner), limit, offset);
    },
  }),
  endpoint({
    operationId: 'create-playlist-for-user',
    removed: REMOVED_2026,
    handler: createdJson,
  }),
  endpoint({
    operationId: 'get-playlist-cover',
    scopes: [],
    handler: (ctx) => coverImages(ctx.origin, findPlaylist(ctx).playlist.id).slice(0, 1),
  }),
  endpoint({
    operationId: 'upload-custom-playlist-cover',
    bodyLimit: 384 * 1024,
    handler: (ctx) => {
      findPlaylist(ctx);
      return reply(202);
    },
  }),
];
