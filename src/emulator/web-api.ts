import type { ServerResponse } from 'node:http';
import { applyApiFault, sendNotAllowlisted } from './api-faults.js';
import {
  ARTISTS_BY_ID,
  albumContextJson,
  artistJson,
  type CatalogueTrack,
  coverLabel,
  hueOf,
  ID_PATTERN,
  playlistJson,
  recentlyPlayed,
  searchCatalogue,
  simplifiedAlbumJson,
  TIME_RANGES,
  type TimeRange,
  TRACKS_BY_ID,
  topArtists,
  topTracks,
  trackJson,
  userFollowers,
  userPlaylists,
} from './catalogue.js';
import { escapeHtml, send, sendJson } from './http.js';
import type { Route, RouteContext } from './routes.js';
import type { EmulatorState } from './state.js';
import type { AccessTokenInfo, EmulatorUser } from './types.js';

/**
 * A slice of api.spotify.com under /v1 (FACTS §3.3, §7), served by the same emulator so that tokens it
 * issued work against it. Order of checks for every /v1 request: route (unknown → 404 "Service not found"),
 * request counter, injected faults, the Authorization header and token, the dev-mode allowlist, user-vs-app
 * token, scopes, then the query.
 */

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ApiContext extends RouteContext {
  token: AccessTokenInfo;
  /** Set for user tokens; undefined for app (client-credentials) tokens. */
  user: EmulatorUser | undefined;
  /** http://host:port of this request (from its Host header), for absolute links. */
  origin: string;
}

interface ApiEndpoint {
  /** The route pattern used as the request-counter key, e.g. /v1/tracks/{id}. */
  pattern: string;
  path: string | RegExp;
  /** Needs a user token (app tokens get 403 "Insufficient client scope"). */
  user: boolean;
  /** Any one of these scopes is enough; empty = none needed. */
  scopes: readonly string[];
  /** Returns the JSON body (200), or null for 204 No Content. */
  handler: (ctx: ApiContext) => unknown;
}

const NO_CONTENT = null;

/** RFC 6750 §3 challenge; sent with every 401. */
function challenge(message: string): string {
  return `Bearer realm="spotify", error="invalid_token", error_description="${message}"`;
}

function sendApiJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, body, { 'Cache-Control': 'private, max-age=0', ...headers });
}

function unauthorized(res: ServerResponse, message: string): void {
  sendApiJson(res, 401, { error: { status: 401, message } }, { 'WWW-Authenticate': challenge(message) });
}

const HOST_PATTERN = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The origin the client used (Host header), so links and images work from localhost as well as 127.0.0.1. */
export function requestOrigin(ctx: RouteContext): string {
  const host = ctx.req.headers.host;
  return host && HOST_PATTERN.test(host) ? `http://${host}` : ctx.baseUrl;
}

function authenticate(ctx: RouteContext): AccessTokenInfo | null {
  const header = ctx.req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    unauthorized(ctx.res, 'No token provided');
    return null;
  }
  const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
  if (!match?.[1]) {
    sendApiJson(ctx.res, 400, {
      error: { status: 400, message: 'Only valid bearer authentication supported' },
    });
    return null;
  }
  const problem = ctx.state.accessTokenProblem(match[1]);
  const info = problem === null ? ctx.state.lookupAccessToken(match[1]) : undefined;
  if (!info || (info.userId !== null && !ctx.state.users.has(info.userId))) {
    unauthorized(ctx.res, problem === 'expired' ? 'The access token expired' : 'Invalid access token');
    return null;
  }
  return info;
}

function endpoint(def: ApiEndpoint): Route {
  return {
    method: 'GET',
    path: def.path,
    handler: async (ctx) => {
      const { state, res } = ctx;
      state.countApiRequest(`GET ${def.pattern}`);
      if (await applyApiFault(state, res, ctx.url.pathname, def.pattern)) return;
      const token = authenticate(ctx);
      if (!token) return;
      const allowlist = state.config.allowlist;
      if (token.userId !== null && allowlist !== null && !allowlist.includes(token.userId)) {
        return sendNotAllowlisted(res);
      }
      const insufficient = () =>
        sendApiJson(res, 403, { error: { status: 403, message: 'Insufficient client scope' } });
      // App tokens carry no user and no scopes: Spotify answers user endpoints with the scope 403
      // (spotify/web-api-examples#44, 2025).
      if (def.user && token.userId === null) return insufficient();
      if (def.scopes.length > 0 && !def.scopes.some((s) => token.scopes.includes(s))) return insufficient();
      const user = token.userId === null ? undefined : state.users.get(token.userId);
      try {
        const body = def.handler({ ...ctx, token, user, origin: requestOrigin(ctx) });
        if (body === NO_CONTENT) {
          if (!res.headersSent) {
            res.writeHead(204, { 'Cache-Control': 'private, max-age=0' });
            res.end();
          }
          return;
        }
        sendApiJson(res, 200, body);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        sendApiJson(res, error.status, { error: { status: error.status, message: error.message } });
      }
    },
  };
}

// ---- Query parameters ----

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new ApiError(400, `Invalid ${name}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ApiError(400, `Invalid ${name}`);
  return value;
}

function paging<T, J>(
  ctx: ApiContext,
  all: readonly T[],
  toJson: (item: T) => J,
  limit: number,
  offset: number,
  query: Record<string, string> = {},
) {
  const link = (o: number) =>
    `${ctx.origin}${ctx.url.pathname}?${new URLSearchParams({ ...query, offset: String(o), limit: String(limit) })}`;
  return {
    href: link(offset),
    items: all.slice(offset, offset + limit).map(toJson),
    limit,
    next: offset + limit < all.length ? link(offset + limit) : null,
    offset,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    total: all.length,
  };
}

function requireUser(ctx: ApiContext): EmulatorUser {
  if (!ctx.user) throw new ApiError(401, 'Invalid access token');
  return ctx.user;
}

// ---- Handlers ----

function meJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { origin, token, state } = ctx;
  const dev = state.config.devModeProfile;
  const has = (scope: string) => token.scopes.includes(scope);
  const images = (user.images ?? []).map((image) => ({
    url: image.url.startsWith('/') ? `${origin}${image.url}` : image.url,
    height: image.height,
    width: image.width,
  }));
  return {
    ...(user.accountId !== undefined ? { account_id: user.accountId } : {}),
    ...(!dev && has('user-read-private') && user.country !== undefined ? { country: user.country } : {}),
    display_name: user.displayName,
    ...(!dev && has('user-read-email') && user.email !== undefined ? { email: user.email } : {}),
    ...(!dev && has('user-read-private')
      ? { explicit_content: { filter_enabled: false, filter_locked: false } }
      : {}),
    external_urls: { spotify: `https://open.spotify.com/user/${user.id}` },
    ...(!dev ? { followers: { href: null, total: userFollowers(user.id) } } : {}),
    href: `${origin}/v1/users/${user.id}`,
    id: user.id,
    images,
    ...(!dev && has('user-read-private') && user.product !== undefined ? { product: user.product } : {}),
    type: 'user',
    uri: `spotify:user:${user.id}`,
  };
}

function timeRange(url: URL): TimeRange {
  const raw = url.searchParams.get('time_range') ?? 'medium_term';
  if (!(TIME_RANGES as readonly string[]).includes(raw)) throw new ApiError(400, 'Invalid time range');
  return raw as TimeRange;
}

function topJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const type = ctx.params[0] ?? '';
  if (type !== 'artists' && type !== 'tracks')
    throw new ApiError(400, `Unsupported type: ${type.slice(0, 32)}`);
  const range = timeRange(ctx.url);
  const limit = intParam(ctx.url, 'limit', 20, 1, 50);
  const offset = intParam(ctx.url, 'offset', 0, 0, 10_000);
  const query = { time_range: range };
  return type === 'artists'
    ? paging(ctx, topArtists(user.id, range), (a) => artistJson(ctx.origin, a), limit, offset, query)
    : paging(ctx, topTracks(user.id, range), (t) => trackJson(ctx.origin, t), limit, offset, query);
}

/** Where a user's playback is now; exported for the control API's GET /_emulator/player. */
export function playbackPosition(state: EmulatorState, userId: string) {
  const playing = state.nowPlaying.get(userId);
  if (!playing) return undefined;
  const track = TRACKS_BY_ID.get(playing.trackId) as CatalogueTrack;
  const progress = playing.isPlaying
    ? (state.now() - playing.startedAt) % track.durationMs
    : playing.pausedAtMs % track.durationMs;
  return { track, progress, isPlaying: playing.isPlaying };
}

function currentlyPlayingJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const position = playbackPosition(ctx.state, user.id);
  if (!position) return NO_CONTENT;
  return {
    timestamp: ctx.state.now(),
    context: albumContextJson(ctx.origin, position.track.albumId),
    progress_ms: position.progress,
    item: trackJson(ctx.origin, position.track),
    currently_playing_type: 'track',
    // Spotify's wire format nests the flags under `disallows`.
    actions: { disallows: position.isPlaying ? { resuming: true } : { pausing: true } },
    is_playing: position.isPlaying,
  };
}

function recentlyPlayedJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { url, origin } = ctx;
  const limit = intParam(url, 'limit', 20, 1, 50);
  const before = url.searchParams.get('before');
  const after = url.searchParams.get('after');
  if (before !== null && after !== null) {
    throw new ApiError(400, "Only one of 'before' or 'after' may be specified");
  }
  const cursor = (raw: string | null, name: string) => {
    if (raw === null) return undefined;
    if (!/^\d{1,16}$/.test(raw)) throw new ApiError(400, `Invalid ${name}`);
    return Number(raw);
  };
  const beforeMs = cursor(before, 'before');
  const afterMs = cursor(after, 'after');
  const history = recentlyPlayed(user.id, ctx.state.epoch);
  let page: typeof history;
  let older: boolean;
  if (afterMs !== undefined) {
    // The `limit` plays closest after the cursor (newest first), for walking forward in time.
    const newer = history.filter((e) => e.playedAt > afterMs);
    page = newer.slice(Math.max(0, newer.length - limit));
    older = false;
  } else {
    const candidates = beforeMs === undefined ? history : history.filter((e) => e.playedAt < beforeMs);
    page = candidates.slice(0, limit);
    older = candidates.length > limit;
  }
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== null) query.set('before', before);
  if (after !== null) query.set('after', after);
  const newest = page[0];
  const oldest = page[page.length - 1];
  return {
    href: `${origin}/v1/me/player/recently-played?${query}`,
    items: page.map((entry) => ({
      track: trackJson(origin, entry.track),
      played_at: new Date(entry.playedAt).toISOString(),
      context: albumContextJson(origin, entry.track.albumId),
    })),
    limit,
    // Spotify sends null for both when there is nothing (more); the spec does not mark them nullable.
    next:
      older && oldest
        ? `${origin}/v1/me/player/recently-played?${new URLSearchParams({ before: String(oldest.playedAt), limit: String(limit) })}`
        : null,
    cursors: newest && oldest ? { after: String(newest.playedAt), before: String(oldest.playedAt) } : null,
  };
}

/**
 * Like Spotify: without playlist-read-private the private playlists are left out, and without
 * playlist-read-collaborative the collaborative ones; public playlists need no scope.
 */
function playlistsJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const limit = intParam(ctx.url, 'limit', 20, 1, 50);
  const offset = intParam(ctx.url, 'offset', 0, 0, 100_000);
  const scopes = ctx.token.scopes;
  const visible = userPlaylists(user.id).filter((p) =>
    p.collaborative
      ? scopes.includes('playlist-read-collaborative')
      : p.public || scopes.includes('playlist-read-private'),
  );
  const owner = { id: user.id, displayName: user.displayName };
  return paging(ctx, visible, (p) => playlistJson(ctx.origin, p, owner), limit, offset);
}

function catalogueId(ctx: ApiContext): string {
  const id = ctx.params[0] ?? '';
  if (!ID_PATTERN.test(id)) throw new ApiError(400, 'invalid id');
  return id;
}

function notFound(): never {
  throw new ApiError(404, 'Resource not found');
}

const SEARCH_TYPES = ['album', 'artist', 'playlist', 'track', 'show', 'episode', 'audiobook'] as const;

/** 2026 development-mode limits (FACTS §7): limit 1–10, default 5. */
function searchJson(ctx: ApiContext) {
  const { url, origin } = ctx;
  const q = url.searchParams.get('q');
  if (q === null || q.trim() === '') throw new ApiError(400, 'No search query');
  const typeParam = url.searchParams.get('type');
  if (typeParam === null || typeParam === '') throw new ApiError(400, 'Missing parameter type');
  const types = [...new Set(typeParam.split(','))];
  if (!types.every((t) => (SEARCH_TYPES as readonly string[]).includes(t))) {
    throw new ApiError(400, 'Bad search type field');
  }
  const limit = intParam(url, 'limit', 5, 1, 10);
  const offset = intParam(url, 'offset', 0, 0, 1000);
  const found = searchCatalogue(q.trim());
  const query = { q, type: typeParam };
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
        // Nothing of these kinds in the emulator's catalogue: an empty page, as Spotify sends for no hits.
        result[`${type}s`] = paging(ctx, [], (x) => x, limit, offset, query);
    }
  }
  return result;
}

const USER = { user: true } as const;
const ANY = { user: false, scopes: [] } as const;

export const webApiRoutes: Route[] = [
  endpoint({ pattern: '/v1/me', path: '/v1/me', ...USER, scopes: [], handler: meJson }),
  endpoint({
    pattern: '/v1/me/top/{type}',
    path: /^\/v1\/me\/top\/([^/]+)$/,
    ...USER,
    scopes: ['user-top-read'],
    handler: topJson,
  }),
  endpoint({
    pattern: '/v1/me/player/currently-playing',
    path: '/v1/me/player/currently-playing',
    ...USER,
    scopes: ['user-read-currently-playing', 'user-read-playback-state'],
    handler: currentlyPlayingJson,
  }),
  endpoint({
    pattern: '/v1/me/player/recently-played',
    path: '/v1/me/player/recently-played',
    ...USER,
    scopes: ['user-read-recently-played'],
    handler: recentlyPlayedJson,
  }),
  endpoint({
    pattern: '/v1/me/playlists',
    path: '/v1/me/playlists',
    ...USER,
    scopes: [],
    handler: playlistsJson,
  }),
  endpoint({
    pattern: '/v1/tracks/{id}',
    path: /^\/v1\/tracks\/([^/]+)$/,
    ...ANY,
    handler: (ctx) => trackJson(ctx.origin, TRACKS_BY_ID.get(catalogueId(ctx)) ?? notFound()),
  }),
  endpoint({
    pattern: '/v1/artists/{id}',
    path: /^\/v1\/artists\/([^/]+)$/,
    ...ANY,
    handler: (ctx) => artistJson(ctx.origin, ARTISTS_BY_ID.get(catalogueId(ctx)) ?? notFound()),
  }),
  endpoint({ pattern: '/v1/search', path: '/v1/search', ...ANY, handler: searchJson }),
];

// ---- Images served by the emulator itself (no external assets in pages that show them) ----

function sendSvg(res: ServerResponse, label: string, hue: number, size: number): void {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100" role="img" aria-label="${escapeHtml(label)}"><rect width="100" height="100" fill="hsl(${hue} 45% 35%)"/><text x="50" y="50" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" font-size="48" fill="#fff">${escapeHtml(label)}</text></svg>`;
  send(res, 200, svg, {
    'Content-Type': 'image/svg+xml; charset=utf-8',
    'Cache-Control': 'public, max-age=86400',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
}

export const imageRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/images\/([A-Za-z0-9_.-]{1,64})\.svg$/,
    handler: (ctx) => {
      const user = ctx.state.users.get(ctx.params[0] ?? '');
      if (!user) return sendJson(ctx.res, 404, { error: { status: 404, message: 'Resource not found' } });
      const initial = [...(user.displayName || user.id)][0]?.toUpperCase() ?? '?';
      sendSvg(ctx.res, initial, hueOf(user.id), 300);
    },
  },
  {
    method: 'GET',
    path: /^\/images\/cover\/([0-9A-Za-z]{22})\.svg$/,
    handler: (ctx) => {
      const id = ctx.params[0] ?? '';
      sendSvg(ctx.res, coverLabel(id), hueOf(id), 640);
    },
  },
];
