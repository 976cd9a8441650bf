import type { LibraryKind } from '../user-state/library.js';
import { type ParsedUri, parseUri, type UriKind } from '../user-state/uris.js';
import {
  type ApiContext,
  ApiError,
  endpoint,
  noContent,
  pageParams,
  paging,
  reply,
  requireUser,
  textReply,
} from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { exists, itemJson } from './resolve.js';

/**
 * Your Library: the 2026 generic /me/library endpoints, the saved-item lists, and the legacy
 * type-specific saves and follows (removed for development-mode apps in February 2026; the pipeline
 * answers those, the behaviour here is what extended and legacy apps get).
 */

/** GET /me/library/contains takes artists too; PUT/DELETE do as well (MIG26 maps follows onto it) [UNCONF]. */
const LIBRARY_URI_KINDS: readonly UriKind[] = [
  'track',
  'album',
  'episode',
  'show',
  'audiobook',
  'artist',
  'user',
  'playlist',
];
const MAX_LIBRARY_URIS = 40;
const MAX_LEGACY_IDS = 50;

/** The scope each kind needs, for writes and for contains (OAS names one per family). */
function scopeFor(kind: UriKind, write: boolean): string {
  if (kind === 'artist' || kind === 'user') return write ? 'user-follow-modify' : 'user-follow-read';
  if (kind === 'playlist') return write ? 'playlist-modify-public' : 'playlist-read-private';
  return write ? 'user-library-modify' : 'user-library-read';
}

function requireScope(ctx: ApiContext, scope: string): void {
  if (!ctx.token.scopes.includes(scope)) throw new ApiError(403, 'Insufficient client scope');
}

/** `uris` from the query only: a JSON body alone is "Missing required field: uris" (psst#740). */
function libraryUris(ctx: ApiContext): ParsedUri[] {
  const raw = ctx.query.list('uris').filter((u) => u !== '');
  if (raw.length === 0) throw new ApiError(400, 'Missing required field: uris');
  if (raw.length > MAX_LIBRARY_URIS) throw new ApiError(400, `Too many URIs (at most ${MAX_LIBRARY_URIS})`);
  return raw.map((value) => {
    const parsed = parseUri(value);
    if (!parsed) throw new ApiError(400, `Invalid URI: ${value.slice(0, 80)}`);
    if (!LIBRARY_URI_KINDS.includes(parsed.kind)) {
      throw new ApiError(400, `Unsupported URI type: ${parsed.kind}`);
    }
    return parsed;
  });
}

function checkExisting(ctx: ApiContext, items: readonly ParsedUri[]): void {
  for (const item of items) {
    if (!exists(ctx.state, item)) throw new ApiError(400, 'Payload contains a non-existing ID');
    if (item.kind === 'playlist' && !ctx.state.userStates.playlist(item.id)) {
      throw new ApiError(400, 'Payload contains a non-existing ID');
    }
  }
}

function libraryWrite(ctx: ApiContext, save: boolean) {
  const user = requireUser(ctx);
  const items = libraryUris(ctx);
  for (const item of items) requireScope(ctx, scopeFor(item.kind, true));
  if (save) checkExisting(ctx, items);
  const library = ctx.state.userStates.user(user.id).library;
  if (save) library.save(items, ctx.now());
  else library.remove(items);
  ctx.state.userStates.changed();
  // 200 with no body (OAS); some mocks assume 204 [UNCONF].
  return reply(200);
}

function libraryContains(ctx: ApiContext) {
  const user = requireUser(ctx);
  const items = libraryUris(ctx);
  for (const item of items) requireScope(ctx, scopeFor(item.kind, false));
  const library = ctx.state.userStates.user(user.id).library;
  return items.map((item) => library.has(item.kind, item.id));
}

/** GET /me/{tracks,albums,…}: newest first, `{added_at, <kind>}`. */
function savedList(kind: Exclude<LibraryKind, 'artist' | 'user' | 'playlist'>) {
  return (ctx: ApiContext) => {
    const user = requireUser(ctx);
    const { limit, offset } = pageParams(ctx);
    const entries = ctx.state.userStates.user(user.id).library.list(kind);
    return paging(
      ctx,
      entries,
      (e) => ({ added_at: new Date(e.addedAt).toISOString(), [kind]: itemJson(ctx, kind, e.id) }),
      limit,
      offset,
    );
  };
}

/** GET /me/following?type=artist: a cursor page wrapped in `artists`, `after` = the last artist id. */
function followedArtists(ctx: ApiContext) {
  const user = requireUser(ctx);
  const limit = ctx.query.int('limit') ?? 20;
  const after = ctx.query.string('after');
  const all = ctx.state.userStates.user(user.id).library.list('artist');
  const start = after === undefined ? 0 : all.findIndex((e) => e.id === after) + 1;
  const page = all.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start + limit < all.length && last !== undefined;
  const link = (extra: Record<string, string>) =>
    `${ctx.origin}/v1/me/following?${new URLSearchParams({ type: 'artist', ...extra, limit: String(limit) })}`;
  return {
    artists: {
      href: link(after === undefined ? {} : { after }),
      items: page.map((e) => itemJson(ctx, 'artist', e.id)),
      limit,
      next: more ? link({ after: last.id }) : null,
      // No more pages: no `after` (the spec's CursorObject has it as a string, never null).
      cursors: more ? { after: last.id } : {},
      total: all.length,
    },
  };
}

// ---- Legacy type-specific endpoints (ids, not URIs) ----

const BASE62_ID = /^[0-9A-Za-z]{22}$/;

/**
 * Spotify's answer when the ids are in neither place, with its spacing. Captured for a bare JSON array
 * body (`["id", …]`, no `ids` key), which worked until late September 2024 and has been refused since
 * (spotify/spotify-web-api-ts-sdk#131, JMPerez/spotify-web-api-js#228, guilhermesad/rspotify PR #267)
 * [3P]: @spotify/web-api-ts-sdk 1.2.0's saveTracks, saveAlbums, saveEpisodes, saveAudiobooks and their
 * removes still send one.
 */
const MISSING_IDS_RAW = '{"error": {"status": 400, "message": "Missing required field: ids" } }';
const missingIds = () => new ApiError(400, 'Missing required field: ids', { raw: MISSING_IDS_RAW });

type LegacyEntry = { id: string; addedAt?: number };

function bodyIds(ctx: ApiContext, kind: UriKind): LegacyEntry[] | undefined {
  const body = ctx.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { ids, timestamped_ids: stamped } = body as { ids?: unknown; timestamped_ids?: unknown };
  if (kind === 'track' && ctx.operation.method === 'PUT' && Array.isArray(stamped)) {
    return stamped.map((t: { id?: unknown; added_at?: unknown }) => {
      const at = typeof t?.added_at === 'string' ? Date.parse(t.added_at) : Number.NaN;
      if (Number.isNaN(at)) throw new ApiError(400, 'Invalid added_at');
      return { id: String(t?.id), addedAt: at };
    });
  }
  return Array.isArray(ids) ? ids.map((id) => ({ id: String(id) })) : undefined;
}

/**
 * The ids of a legacy call (OAS): PUT /me/tracks's `timestamped_ids` win over everything; otherwise the
 * query's `ids` win over the JSON body's `{"ids": [...]}`, which the writes whose spec has that body
 * accept (the pipeline lets their required query `ids` be missing: SpecParameter.inBody).
 */
function legacyIds(ctx: ApiContext, kind: UriKind, max: number): LegacyEntry[] {
  // Read from the URL: the spec models PUT /me/tracks's ids as body-only, but clients send `?ids=`.
  const query: LegacyEntry[] = (ctx.url.searchParams.get('ids') ?? '')
    .split(',')
    .filter((i) => i !== '')
    .map((id) => ({ id }));
  const body = ctx.operation.requestBody ? bodyIds(ctx, kind) : undefined;
  const stamped = body?.some((e) => e.addedAt !== undefined) ?? false;
  const entries = stamped || query.length === 0 ? (body ?? []) : query;
  if (entries.length === 0) throw missingIds();
  if (entries.length > max) throw new ApiError(400, 'Too many ids requested');
  const pattern = kind === 'user' ? /^[A-Za-z0-9_.-]{1,64}$/ : BASE62_ID;
  for (const e of entries) if (!pattern.test(e.id)) throw new ApiError(400, 'invalid id');
  return entries;
}

/** PUT/DELETE /me/tracks etc.: 200, empty body, text/plain (spotify/web-api#17). */
function legacySave(kind: Exclude<LibraryKind, 'artist' | 'user' | 'playlist'>, save: boolean) {
  return (ctx: ApiContext) => {
    const user = requireUser(ctx);
    const entries = legacyIds(ctx, kind, MAX_LEGACY_IDS);
    const items = entries.map((e) => ({ kind, id: e.id, uri: `spotify:${kind}:${e.id}` }));
    const library = ctx.state.userStates.user(user.id).library;
    if (save) {
      checkExisting(ctx, items);
      for (const e of entries) library.save([{ kind, id: e.id }], e.addedAt ?? ctx.now());
    } else library.remove(items);
    ctx.state.userStates.changed();
    return textReply(200, '');
  };
}

function legacyContains(kind: Exclude<LibraryKind, 'artist' | 'user' | 'playlist'>) {
  return (ctx: ApiContext) => {
    const user = requireUser(ctx);
    const library = ctx.state.userStates.user(user.id).library;
    return legacyIds(ctx, kind, MAX_LEGACY_IDS).map((e) => library.has(kind, e.id));
  };
}

function followType(ctx: ApiContext): 'artist' | 'user' {
  const type = ctx.query.string('type');
  if (type !== 'artist' && type !== 'user') throw new ApiError(400, 'Invalid type');
  return type;
}

/** PUT/DELETE /me/following: 204 (OAS; web-api#17). */
function legacyFollow(save: boolean) {
  return (ctx: ApiContext) => {
    const user = requireUser(ctx);
    const kind = followType(ctx);
    const items = legacyIds(ctx, kind, MAX_LEGACY_IDS).map((e) => ({
      kind,
      id: e.id,
      uri: `spotify:${kind}:${e.id}`,
    }));
    const library = ctx.state.userStates.user(user.id).library;
    if (save) {
      checkExisting(ctx, items);
      library.save(items, ctx.now());
    } else library.remove(items);
    ctx.state.userStates.changed();
    return noContent();
  };
}

function legacyFollowContains(ctx: ApiContext) {
  const user = requireUser(ctx);
  const kind = followType(ctx);
  const library = ctx.state.userStates.user(user.id).library;
  return legacyIds(ctx, kind, MAX_LEGACY_IDS).map((e) => library.has(kind, e.id));
}

function followedPlaylist(ctx: ApiContext) {
  const id = ctx.path['playlist_id'] ?? '';
  if (!BASE62_ID.test(id)) throw new ApiError(400, 'invalid id');
  const playlist = ctx.state.userStates.playlist(id);
  if (!playlist) throw new ApiError(404, 'Resource not found');
  return playlist;
}

/** PUT/DELETE /playlists/{id}/followers: 200 (OAS). */
function playlistFollow(save: boolean) {
  return (ctx: ApiContext) => {
    const user = requireUser(ctx);
    const playlist = followedPlaylist(ctx);
    const library = ctx.state.userStates.user(user.id).library;
    const item = { kind: 'playlist' as const, id: playlist.id };
    if (save) library.save([item], ctx.now());
    else library.remove([item]);
    ctx.state.userStates.changed();
    return reply(200);
  };
}

/** `ids` optional: the current user when absent (OAS: "A single item list containing current user's ID"). */
function playlistFollowContains(ctx: ApiContext) {
  const user = requireUser(ctx);
  const playlist = followedPlaylist(ctx);
  const ids = ctx.query.list('ids').filter((i) => i !== '');
  return (ids.length > 0 ? ids : [user.id]).map((userId) =>
    ctx.state.users.has(userId)
      ? ctx.state.userStates.user(userId).library.has('playlist', playlist.id)
      : false,
  );
}

const SAVED = ['album', 'track', 'episode', 'show', 'audiobook'] as const;
const legacy = (operationId: string, handler: (ctx: ApiContext) => unknown) =>
  endpoint({ operationId, removed: REMOVED_2026, handler });

export const libraryEndpoints = [
  endpoint({ operationId: 'save-library-items', handler: (ctx) => libraryWrite(ctx, true) }),
  endpoint({ operationId: 'remove-library-items', handler: (ctx) => libraryWrite(ctx, false) }),
  endpoint({ operationId: 'check-library-contains', handler: libraryContains }),
  endpoint({ operationId: 'get-users-saved-albums', handler: savedList('album') }),
  endpoint({ operationId: 'get-users-saved-tracks', handler: savedList('track') }),
  endpoint({ operationId: 'get-users-saved-episodes', handler: savedList('episode') }),
  endpoint({ operationId: 'get-users-saved-shows', handler: savedList('show') }),
  endpoint({ operationId: 'get-users-saved-audiobooks', handler: savedList('audiobook') }),
  endpoint({ operationId: 'get-followed', handler: followedArtists }),
  ...SAVED.flatMap((kind) => [
    legacy(`save-${kind}s-user`, legacySave(kind, true)),
    legacy(`remove-${kind}s-user`, legacySave(kind, false)),
    legacy(`check-users-saved-${kind}s`, legacyContains(kind)),
  ]),
  legacy('follow-artists-users', legacyFollow(true)),
  legacy('unfollow-artists-users', legacyFollow(false)),
  legacy('check-current-user-follows', legacyFollowContains),
  legacy('follow-playlist', playlistFollow(true)),
  legacy('unfollow-playlist', playlistFollow(false)),
  // The spec lists no scope, and it is a user question (does *this* user follow it?).
  endpoint({
    operationId: 'check-if-user-follows-playlist',
    removed: REMOVED_2026,
    user: true,
    handler: playlistFollowContains,
  }),
];
