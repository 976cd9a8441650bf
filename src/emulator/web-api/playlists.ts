import { sendJson } from '../http.js';
import type { Route } from '../routes.js';
import type { EmulatorState } from '../state.js';
import { StateRefusal } from '../user-state/errors.js';
import {
  addItems,
  changeDetails,
  newPlaylist,
  type Playlist,
  type PlaylistItem,
  type Removal,
  randomSpotifyId,
  removeItems,
  reorderItems,
  replaceItems,
  setCover,
  snapshotId,
} from '../user-state/playlists.js';
import { parseUri } from '../user-state/uris.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging, reply, requireUser } from './endpoint.js';
import { FORBIDDEN_RAW, REMOVED_2026 } from './modes.js';
import { exists, itemJson } from './resolve.js';
import { coverImages } from './shapes.js';

/**
 * Playlists: reading, creating, editing items and covers, on the shared playlist state
 * (user-state/playlists.ts, with its snapshot semantics).
 *
 * Who may do what: anyone may read a playlist's metadata by id; its items need ownership or
 * collaboration for development-mode apps (FEB26; 403 with the captured body), anyone for extended ones;
 * details are the owner's; items are the owner's and collaborators'.
 */

const BASE62_ID = /^[0-9A-Za-z]{22}$/;
const MAX_URIS_PER_REQUEST = 100;
/** Spotify: "Maximum payload size is 256 KB" for cover uploads (base64 of the JPEG). */
const MAX_COVER_BYTES = 256 * 1024;

const forbidden = () => new ApiError(403, 'Forbidden', { raw: FORBIDDEN_RAW });

function refused(error: unknown): never {
  if (error instanceof StateRefusal) throw new ApiError(400, error.message);
  throw error;
}

function playlistOf(ctx: ApiContext): Playlist {
  const id = ctx.path['playlist_id'] ?? '';
  if (!BASE62_ID.test(id)) throw new ApiError(400, 'invalid id');
  // Spotify's own editorial and algorithmic playlists (37i9…) are gone for new apps since 2024.
  if (id.startsWith('37i9') && ctx.mode === 'development') throw new ApiError(404, 'Resource not found');
  const playlist = ctx.state.missingIds.has(`playlist:${id}`) ? undefined : ctx.state.userStates.playlist(id);
  if (!playlist) throw new ApiError(404, 'Resource not found');
  return playlist;
}

function canRead(ctx: ApiContext, playlist: Playlist): boolean {
  if (ctx.mode === 'extended') return true;
  return ctx.user !== undefined && ctx.state.userStates.canEdit(playlist, ctx.user.id);
}

/** Editing needs the modify scope of the playlist's visibility (OAS: public or private). */
function requireModifyScope(ctx: ApiContext, playlist: Playlist): void {
  const scope = playlist.public ? 'playlist-modify-public' : 'playlist-modify-private';
  if (!ctx.token.scopes.includes(scope)) throw new ApiError(403, 'Insufficient client scope');
}

function editable(ctx: ApiContext): Playlist {
  const user = requireUser(ctx);
  const playlist = playlistOf(ctx);
  // Not your playlist: the same captured 403 as reading its items [UNCONF for writes].
  if (!ctx.state.userStates.canEdit(playlist, user.id)) throw forbidden();
  requireModifyScope(ctx, playlist);
  return playlist;
}

// ---- JSON ----

function userRef(state: EmulatorState, origin: string, userId: string) {
  return {
    external_urls: { spotify: `https://open.spotify.com/user/${userId}` },
    href: `${origin}/v1/users/${userId}`,
    id: userId,
    type: 'user' as const,
    uri: `spotify:user:${userId}`,
    display_name: state.users.get(userId)?.displayName ?? null,
  };
}

function coverUrl(origin: string, playlist: Playlist): string | null {
  return playlist.cover ? `${origin}/images/playlist/${playlist.id}/${playlist.cover.id}.jpg` : null;
}

/** A custom cover comes back without dimensions, as Spotify's uploaded covers do. */
function imagesJson(origin: string, playlist: Playlist) {
  const custom = coverUrl(origin, playlist);
  return custom ? [{ url: custom, height: null, width: null }] : coverImages(origin, playlist.id).slice(0, 1);
}

/** A playlist item with the fields Spotify sends beyond the spec (§3): primary_color, video_thumbnail. */
function itemEntryJson(ctx: ApiContext, item: PlaylistItem, legacy: boolean) {
  const parsed = parseUri(item.uri);
  // Tracks inside playlist items also carry `episode: false, track: true` (WEB-API-2026 §3).
  const json = !parsed
    ? null
    : parsed.kind === 'track'
      ? { ...itemJson(ctx, parsed.kind, parsed.id), episode: false, track: true }
      : itemJson(ctx, parsed.kind, parsed.id);
  return {
    added_at: new Date(item.addedAt).toISOString(),
    added_by: userRef(ctx.state, ctx.origin, item.addedBy),
    is_local: false,
    primary_color: null,
    ...(legacy ? {} : { item: json }),
    track: json,
    video_thumbnail: { url: null },
  };
}

function itemsPage(ctx: ApiContext, playlist: Playlist, limit: number, offset: number, legacy = false) {
  return paging(ctx, playlist.items, (i) => itemEntryJson(ctx, i, legacy), limit, offset);
}

function baseJson(ctx: ApiContext, playlist: Playlist) {
  return {
    collaborative: playlist.collaborative,
    description: playlist.description,
    external_urls: { spotify: `https://open.spotify.com/playlist/${playlist.id}` },
    href: `${ctx.origin}/v1/playlists/${playlist.id}`,
    id: playlist.id,
    images: imagesJson(ctx.origin, playlist),
    name: playlist.name,
    owner: userRef(ctx.state, ctx.origin, playlist.ownerId),
    primary_color: null,
    public: playlist.public,
    snapshot_id: snapshotId(playlist),
    type: 'playlist' as const,
    uri: `spotify:playlist:${playlist.id}`,
  };
}

/**
 * The simplified object of playlist lists. Both `items` and the old `tracks` key are sent: PR #161 of
 * the TS SDK says the real API still includes it (WEB-API-2026 §1, sources conflict).
 */
function simplifiedJson(ctx: ApiContext, playlist: Playlist) {
  const items = { href: `${ctx.origin}/v1/playlists/${playlist.id}/items`, total: playlist.items.length };
  return {
    ...baseJson(ctx, playlist),
    items,
    tracks: { ...items, href: `${items.href.slice(0, -5)}tracks` },
  };
}

/**
 * The full object embeds the first 100 items. Without access to the contents (development mode, not
 * yours) the page is empty but keeps its total: "metadata only" (FEB26) [UNCONF: exact shape].
 */
function fullJson(ctx: ApiContext, playlist: Playlist) {
  const page = canRead(ctx, playlist)
    ? itemsPage(ctx, playlist, 100, 0)
    : { ...itemsPage(ctx, playlist, 100, 0), items: [], next: null };
  const href = `${ctx.origin}/v1/playlists/${playlist.id}/items?offset=0&limit=100`;
  return {
    ...baseJson(ctx, playlist),
    followers: { href: null, total: ctx.state.userStates.followers(playlist).length },
    items: { ...page, href },
    tracks: { ...page, href: href.replace('/items?', '/tracks?') },
  };
}

// ---- Handlers ----

function getPlaylist(ctx: ApiContext) {
  return fullJson(ctx, playlistOf(ctx));
}

function getItems(legacy: boolean) {
  return (ctx: ApiContext) => {
    const playlist = playlistOf(ctx);
    if (!canRead(ctx, playlist)) throw forbidden();
    const { limit, offset } = pageParams(ctx);
    return itemsPage(ctx, playlist, limit, offset, legacy);
  };
}

function bodyObject(ctx: ApiContext): Record<string, unknown> {
  const body = ctx.body;
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function optionalBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ApiError(400, `Invalid ${name}`);
  return value;
}

function optionalText(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) throw new ApiError(400, `Invalid ${name}`);
  return value;
}

function details(body: Record<string, unknown>) {
  const out: { name?: string; description?: string; public?: boolean; collaborative?: boolean } = {};
  const name = optionalText(body, 'name', 200);
  const description = optionalText(body, 'description', 300);
  const isPublic = optionalBool(body, 'public');
  const collaborative = optionalBool(body, 'collaborative');
  if (name !== undefined) out.name = name;
  if (description !== undefined) out.description = description;
  if (isPublic !== undefined) out.public = isPublic;
  if (collaborative !== undefined) out.collaborative = collaborative;
  return out;
}

function changePlaylistDetails(ctx: ApiContext) {
  const user = requireUser(ctx);
  const playlist = playlistOf(ctx);
  if (playlist.ownerId !== user.id) throw forbidden();
  requireModifyScope(ctx, playlist);
  try {
    changeDetails(playlist, details(bodyObject(ctx)));
  } catch (error) {
    refused(error);
  }
  ctx.state.userStates.changed();
  return reply(200);
}

/** Playlist items are tracks and episodes; anything else is refused like a malformed URI. */
function itemUris(values: readonly unknown[]): string[] {
  if (values.length > MAX_URIS_PER_REQUEST) {
    throw new ApiError(400, `You can add a maximum of ${MAX_URIS_PER_REQUEST} tracks per request.`);
  }
  return values.map((value) => {
    const parsed = typeof value === 'string' ? parseUri(value) : null;
    if (!parsed || (parsed.kind !== 'track' && parsed.kind !== 'episode')) {
      throw new ApiError(400, `Invalid track uri: ${String(value).slice(0, 80)}`);
    }
    return parsed.uri;
  });
}

/** `uris` from the query string wins over the body's (OAS). */
function requestUris(ctx: ApiContext, body: Record<string, unknown>): string[] | undefined {
  const query = ctx.url.searchParams.get('uris');
  if (query !== null) return itemUris(query.split(',').filter((u) => u !== ''));
  const fromBody = body['uris'];
  if (fromBody === undefined) return undefined;
  if (!Array.isArray(fromBody)) throw new ApiError(400, 'Invalid uris');
  return itemUris(fromBody);
}

function checkExisting(ctx: ApiContext, uris: readonly string[]): void {
  for (const uri of uris) {
    const parsed = parseUri(uri);
    if (!parsed || !exists(ctx.state, parsed)) throw new ApiError(400, 'Payload contains a non-existing ID');
  }
}

function intField(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ApiError(400, `Invalid ${name}`);
  return n;
}

function addToPlaylist(ctx: ApiContext) {
  const user = requireUser(ctx);
  const playlist = editable(ctx);
  const body = bodyObject(ctx);
  const uris = requestUris(ctx, body);
  if (uris === undefined || uris.length === 0) throw new ApiError(400, 'Missing required field: uris');
  checkExisting(ctx, uris);
  const position = intField(ctx.url.searchParams.get('position') ?? body['position'], 'position');
  try {
    addItems(playlist, uris, position, user.id, ctx.now());
  } catch (error) {
    refused(error);
  }
  ctx.state.userStates.changed();
  return reply(201, { snapshot_id: snapshotId(playlist) });
}

/** Replace (with `uris`) or reorder (`range_start` + `insert_before`); the two cannot be combined (OAS). */
function updateItems(ctx: ApiContext) {
  const user = requireUser(ctx);
  const playlist = editable(ctx);
  const body = bodyObject(ctx);
  const uris = requestUris(ctx, body);
  const rangeStart = intField(body['range_start'], 'range_start');
  try {
    if (uris !== undefined) {
      if (rangeStart !== undefined) {
        throw new ApiError(400, 'Replace and reorder cannot be combined in one request');
      }
      checkExisting(ctx, uris);
      replaceItems(playlist, uris, user.id, ctx.now());
    } else {
      if (rangeStart === undefined) throw new ApiError(400, 'Missing required field: range_start');
      const insertBefore = intField(body['insert_before'], 'insert_before');
      if (insertBefore === undefined) throw new ApiError(400, 'Missing required field: insert_before');
      const snapshot = optionalText(body, 'snapshot_id', 200);
      reorderItems(playlist, {
        rangeStart,
        insertBefore,
        rangeLength: intField(body['range_length'], 'range_length') ?? 1,
        ...(snapshot !== undefined ? { snapshotId: snapshot } : {}),
      });
    }
  } catch (error) {
    refused(error);
  }
  ctx.state.userStates.changed();
  return reply(200, { snapshot_id: snapshotId(playlist) });
}

/** DELETE …/items takes `items` (2026), the legacy …/tracks takes `tracks` (spotify-dart#250). */
function removeFromPlaylist(field: 'items' | 'tracks') {
  return (ctx: ApiContext) => {
    const playlist = editable(ctx);
    const body = bodyObject(ctx);
    const list = body[field];
    if (!Array.isArray(list) || list.length === 0)
      throw new ApiError(400, `Missing required field: ${field}`);
    if (list.length > MAX_URIS_PER_REQUEST) {
      throw new ApiError(400, `You can remove a maximum of ${MAX_URIS_PER_REQUEST} tracks per request.`);
    }
    const removals: Removal[] = list.map((entry: unknown) => {
      const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      const [uri = ''] = itemUris([e['uri']]);
      const positions = e['positions'];
      if (positions === undefined) return { uri };
      if (!Array.isArray(positions) || !positions.every((p) => Number.isInteger(p) && p >= 0)) {
        throw new ApiError(400, 'Invalid positions');
      }
      return { uri, positions: positions as number[] };
    });
    try {
      removeItems(playlist, removals, optionalText(body, 'snapshot_id', 200));
    } catch (error) {
      refused(error);
    }
    ctx.state.userStates.changed();
    return reply(200, { snapshot_id: snapshotId(playlist) });
  };
}

function visibleTo(ctx: ApiContext, playlist: Playlist): boolean {
  const scopes = ctx.token.scopes;
  return playlist.collaborative
    ? scopes.includes('playlist-read-collaborative')
    : playlist.public || scopes.includes('playlist-read-private');
}

/**
 * The user's playlists (own and followed, newest follow first). Like Spotify: without
 * playlist-read-private the private ones are left out, without playlist-read-collaborative the
 * collaborative ones; public playlists need no scope.
 */
function myPlaylists(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { limit, offset } = pageParams(ctx);
  const visible = ctx.state.userStates.followedPlaylists(user.id).filter((p) => visibleTo(ctx, p));
  return paging(ctx, visible, (p) => simplifiedJson(ctx, p), limit, offset);
}

/** Another user's public playlists (their own and those they follow publicly). */
function usersPlaylists(ctx: ApiContext) {
  const userId = ctx.path['user_id'] ?? '';
  const { limit, offset } = pageParams(ctx);
  const list = ctx.state.users.has(userId)
    ? ctx.state.userStates.followedPlaylists(userId).filter((p) => p.public || p.ownerId === ctx.user?.id)
    : [];
  return paging(ctx, list, (p) => simplifiedJson(ctx, p), limit, offset);
}

/** Spotify refuses more than about 11,000 playlists per user (FEB26 copy). */
const MAX_PLAYLISTS = 11_000;

function create(ctx: ApiContext, ownerId: string) {
  const body = bodyObject(ctx);
  const name = optionalText(body, 'name', 200);
  if (name === undefined || name.trim() === '') throw new ApiError(400, 'Missing required field: name');
  const collaborative = optionalBool(body, 'collaborative') ?? false;
  // `public` defaults to true (OAS), except that a collaborative playlist cannot be public.
  const isPublic = optionalBool(body, 'public') ?? !collaborative;
  if (collaborative && isPublic) throw new ApiError(400, 'Collaborative playlists cannot be public');
  requireModifyScope(ctx, { public: isPublic } as Playlist);
  const states = ctx.state.userStates;
  if (states.ownedPlaylists(ownerId).length >= MAX_PLAYLISTS) {
    throw new ApiError(400, 'Max number of playlists reached');
  }
  const playlist = newPlaylist(randomSpotifyId(), ownerId, {
    name,
    description: optionalText(body, 'description', 300) ?? '',
    public: isPublic,
    collaborative,
  });
  states.addPlaylist(playlist);
  states.user(ownerId).library.save([{ kind: 'playlist', id: playlist.id }], ctx.now());
  states.changed();
  return reply(201, fullJson(ctx, playlist));
}

function createForUser(ctx: ApiContext) {
  const user = requireUser(ctx);
  if (ctx.path['user_id'] !== user.id)
    throw new ApiError(403, 'You cannot create a playlist for another user');
  return create(ctx, user.id);
}

function getCover(ctx: ApiContext) {
  return imagesJson(ctx.origin, playlistOf(ctx));
}

/** Body: base64 JPEG (OAS), at most 256 KB; 202 Accepted. */
function uploadCover(ctx: ApiContext) {
  const playlist = editable(ctx);
  if (!ctx.token.scopes.includes('ugc-image-upload')) throw new ApiError(403, 'Insufficient client scope');
  const text = ctx.rawBody.toString('latin1').replace(/\s+/g, '');
  if (text === '') throw new ApiError(400, 'Missing image data');
  if (text.length > MAX_COVER_BYTES) throw new ApiError(413, 'Request entity too large');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new ApiError(400, 'Image data must be base64');
  const jpeg = Buffer.from(text, 'base64');
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) {
    throw new ApiError(400, 'Image must be a JPEG');
  }
  setCover(playlist, text);
  ctx.state.userStates.changed();
  return reply(202);
}

export const playlistEndpoints = [
  endpoint({ operationId: 'get-playlist', scopes: [], handler: getPlaylist }),
  endpoint({ operationId: 'change-playlist-details', handler: changePlaylistDetails }),
  endpoint({
    operationId: 'get-playlists-tracks',
    removed: REMOVED_2026,
    scopes: [],
    handler: getItems(true),
  }),
  endpoint({ operationId: 'add-tracks-to-playlist', removed: REMOVED_2026, handler: addToPlaylist }),
  endpoint({
    operationId: 'reorder-or-replace-playlists-tracks',
    removed: REMOVED_2026,
    handler: updateItems,
  }),
  endpoint({
    operationId: 'remove-tracks-playlist',
    removed: REMOVED_2026,
    handler: removeFromPlaylist('tracks'),
  }),
  endpoint({ operationId: 'get-playlists-items', scopes: [], handler: getItems(false) }),
  endpoint({ operationId: 'add-items-to-playlist', handler: addToPlaylist }),
  endpoint({ operationId: 'reorder-or-replace-playlists-items', handler: updateItems }),
  endpoint({ operationId: 'remove-items-playlist', handler: removeFromPlaylist('items') }),
  endpoint({
    operationId: 'get-a-list-of-current-users-playlists',
    // Public playlists need no scope; playlist-read-private only widens the list (see above).
    scopes: [],
    handler: myPlaylists,
  }),
  endpoint({
    operationId: 'create-playlist',
    // Which modify scope is needed depends on `public`; checked in the handler.
    handler: (ctx) => create(ctx, requireUser(ctx).id),
  }),
  endpoint({
    operationId: 'get-list-users-playlists',
    removed: REMOVED_2026,
    scopes: [],
    handler: usersPlaylists,
  }),
  endpoint({ operationId: 'create-playlist-for-user', removed: REMOVED_2026, handler: createForUser }),
  endpoint({ operationId: 'get-playlist-cover', scopes: [], handler: getCover }),
  endpoint({
    operationId: 'upload-custom-playlist-cover',
    bodyLimit: 384 * 1024,
    handler: uploadCover,
  }),
];

/** Uploaded covers, served back at the URL the playlist's `images` names. */
export const playlistImageRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/images\/playlist\/([0-9A-Za-z]{22})\/([0-9A-Za-z]{22})\.jpg$/,
    handler: (ctx) => {
      const playlist = ctx.state.userStates.playlist(ctx.params[0] ?? '');
      const cover = playlist?.cover;
      if (!cover || cover.id !== ctx.params[1]) {
        return sendJson(ctx.res, 404, { error: { status: 404, message: 'Resource not found' } });
      }
      const jpeg = Buffer.from(cover.jpegBase64, 'base64');
      ctx.res.writeHead(200, {
        'Content-Type': 'image/jpeg',
        'Content-Length': jpeg.length,
        'Cache-Control': 'public, max-age=86400',
      });
      ctx.res.end(jpeg);
    },
  },
];
