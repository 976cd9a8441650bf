import { randomBytes } from 'node:crypto';
import { TRACKS_BY_ID } from '../catalogue.js';
import type { EmulatorState } from '../state.js';
import type { EmulatorUser } from '../types.js';
import {
  type Device,
  type Player,
  type PlayerReason,
  PlayerRefusal,
  type PlayRequest,
} from '../user-state/player.js';
import { parseUri } from '../user-state/uris.js';
import {
  type ApiContext,
  ApiError,
  type ApiReply,
  endpoint,
  noContent,
  requireUser,
  textReply,
} from './endpoint.js';
import { contextItems, contextJson, itemJson } from './resolve.js';

/**
 * /me/player/*: playback state, devices, commands, queue and recently played, on the user's Player
 * (user-state/player.ts), which advances with the emulator's clock.
 */

const READ_PLAYBACK = ['user-read-playback-state'];

/** Spotify's answers for each refusal (WEB-API-2026 §5: captured bodies, the reason enum). */
function refusalError(state: EmulatorState, refusal: PlayerRefusal): ApiError {
  const reason = refusal.reason;
  switch (reason) {
    case 'DEVICE_NOT_FOUND':
      return new ApiError(404, 'Device not found');
    case 'NO_ACTIVE_DEVICE':
      return new ApiError(404, 'Player command failed: No active device found', { reason });
    case 'PREMIUM_REQUIRED':
      return new ApiError(403, 'Player command failed: Premium required', { reason });
    case 'VOLUME_CONTROL_DISALLOW':
      return new ApiError(403, 'Player command failed: Cannot control device volume', { reason });
    default: {
      const sent: PlayerReason = state.config.player.reasons === 'specific' ? reason : 'UNKNOWN';
      return new ApiError(403, 'Player command failed: Restriction violated', { reason: sent });
    }
  }
}

/** Only free (and "open", the old name for free) accounts are refused; a user with no product is Premium. */
function isPremium(user: EmulatorUser): boolean {
  return user.product !== 'free' && user.product !== 'open';
}

function playerOf(ctx: ApiContext): Player {
  return ctx.state.userStates.user(requireUser(ctx).id).player;
}

function deviceParam(ctx: ApiContext): string | undefined {
  const id = ctx.url.searchParams.get('device_id');
  return id === null || id === '' ? undefined : id;
}

/** A random-looking token like the bodies seen on play/pause (e.g. oPClBVDzidwlAlSqmFF-zKNO62E). */
function opaqueToken(): string {
  return randomBytes(20).toString('base64url').slice(0, 27);
}

/** Runs a playback command: Premium first, then the player's own checks; 204 (or the opaque 200). */
function command(
  run: (player: Player, now: number, ctx: ApiContext) => void,
  opaqueCapable = false,
): (ctx: ApiContext) => ApiReply {
  return (ctx) => {
    const user = requireUser(ctx);
    try {
      if (!isPremium(user)) throw new PlayerRefusal('PREMIUM_REQUIRED');
      run(playerOf(ctx), ctx.now(), ctx);
    } catch (error) {
      if (error instanceof PlayerRefusal) throw refusalError(ctx.state, error);
      throw error;
    }
    ctx.state.userStates.changed();
    if (opaqueCapable && ctx.state.config.player.success === 'opaque') {
      return textReply(200, opaqueToken(), 'text/plain; charset=utf-8');
    }
    return noContent();
  };
}

// ---- JSON ----

function deviceJson(device: Device, player: Player) {
  return {
    id: device.id,
    is_active: device.id === player.activeDeviceId,
    is_private_session: device.isPrivateSession,
    is_restricted: device.isRestricted,
    name: device.name,
    type: device.type,
    volume_percent: device.volumePercent,
    supports_volume: device.supportsVolume,
  };
}

function uriJson(ctx: ApiContext, uri: string) {
  const parsed = parseUri(uri);
  return parsed ? itemJson(ctx, parsed.kind, parsed.id) : null;
}

/** CurrentlyPlaying(Context)Object; null when nothing is loaded on an active device. */
function playingJson(ctx: ApiContext, withDevice: boolean) {
  const player = playerOf(ctx);
  const now = ctx.now();
  player.settle(now);
  const p = player.playback;
  const device = player.activeDevice();
  if (!p || !device) return null;
  const isEpisode = p.current.startsWith('spotify:episode:');
  // Episodes come only to clients that ask for them (OAS additional_types); others see item null.
  const types = (ctx.url.searchParams.get('additional_types') ?? 'track').split(',');
  const item = isEpisode && !types.includes('episode') ? null : uriJson(ctx, p.current);
  const disallows: Record<string, boolean> = p.isPlaying ? { resuming: true } : { pausing: true };
  return {
    ...(withDevice ? { device: deviceJson(device, player) } : {}),
    ...(withDevice ? { repeat_state: p.repeat, shuffle_state: p.shuffle, smart_shuffle: false } : {}),
    context: contextJson(ctx.origin, p.contextUri),
    timestamp: now,
    progress_ms: p.positionMs,
    is_playing: p.isPlaying,
    item,
    currently_playing_type: isEpisode ? 'episode' : 'track',
    // Spotify's wire format nests the flags under `disallows`.
    actions: { disallows },
  };
}

// ---- Reads ----

function playbackState(ctx: ApiContext) {
  return playingJson(ctx, true) ?? noContent();
}

function currentlyPlaying(ctx: ApiContext) {
  return playingJson(ctx, false) ?? noContent();
}

function devices(ctx: ApiContext) {
  const player = playerOf(ctx);
  return { devices: player.devices.map((d) => deviceJson(d, player)) };
}

function queue(ctx: ApiContext) {
  const player = playerOf(ctx);
  const now = ctx.now();
  const upcoming = player.upcoming(now, 20);
  const current = player.playback?.current;
  return {
    currently_playing: current === undefined ? null : uriJson(ctx, current),
    queue: upcoming.map((uri) => uriJson(ctx, uri)),
  };
}

/** Cursor page of finished plays, newest first; no `total` (Spotify leaves it out although the spec lists it, §3). */
function recentlyPlayed(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { origin } = ctx;
  const limit = ctx.query.int('limit') ?? 20;
  const beforeMs = ctx.query.int('before');
  const afterMs = ctx.query.int('after');
  if (beforeMs !== undefined && afterMs !== undefined) {
    throw new ApiError(400, "Only one of 'before' or 'after' may be specified");
  }
  if ((beforeMs ?? 0) < 0 || (afterMs ?? 0) < 0) {
    throw new ApiError(400, beforeMs !== undefined ? 'Invalid before' : 'Invalid after');
  }
  const player = ctx.state.userStates.user(user.id).player;
  player.settle(ctx.now());
  const history = player.history.filter((h) => h.uri.startsWith('spotify:track:'));
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
  if (beforeMs !== undefined) query.set('before', String(beforeMs));
  if (afterMs !== undefined) query.set('after', String(afterMs));
  const newest = page[0];
  const oldest = page[page.length - 1];
  return {
    href: `${origin}/v1/me/player/recently-played?${query}`,
    items: page.map((entry) => ({
      track: uriJson(ctx, entry.uri),
      played_at: new Date(entry.playedAt).toISOString(),
      context: contextJson(origin, entry.contextUri),
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

// ---- Commands ----

function bodyObject(ctx: ApiContext): Record<string, unknown> {
  const body = ctx.body;
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function contextPlay(ctx: ApiContext, contextUri: unknown): { contextUri: string; items: string[] } {
  const parsed = typeof contextUri === 'string' ? parseUri(contextUri) : null;
  if (!parsed || !['album', 'artist', 'playlist', 'show', 'audiobook'].includes(parsed.kind)) {
    throw new ApiError(400, 'Invalid context uri');
  }
  if (ctx.state.missingIds.has(`${parsed.kind}:${parsed.id}`)) throw new ApiError(404, 'Resource not found');
  if (parsed.kind === 'playlist') {
    const playlist = ctx.state.userStates.playlist(parsed.id);
    if (!playlist) throw new ApiError(404, 'Resource not found');
    return { contextUri: parsed.uri, items: playlist.items.uris() };
  }
  const items = contextItems(ctx.state.catalogue, parsed.kind, parsed.id) ?? [];
  return { contextUri: parsed.uri, items };
}

function playRequest(ctx: ApiContext): PlayRequest {
  const body = bodyObject(ctx);
  const request: PlayRequest = {};
  const deviceId = deviceParam(ctx);
  if (deviceId !== undefined) request.deviceId = deviceId;
  if (body['context_uri'] !== undefined && body['uris'] !== undefined) {
    throw new ApiError(400, 'Only one of context_uri and uris may be given');
  }
  if (body['context_uri'] !== undefined) {
    const { contextUri, items } = contextPlay(ctx, body['context_uri']);
    request.contextUri = contextUri;
    request.items = items;
  } else if (body['uris'] !== undefined) {
    const uris = body['uris'];
    if (!Array.isArray(uris) || uris.length === 0) throw new ApiError(400, 'Invalid uris');
    request.items = uris.map((u) => {
      const parsed = typeof u === 'string' ? parseUri(u) : null;
      if (!parsed || (parsed.kind !== 'track' && parsed.kind !== 'episode')) {
        throw new ApiError(400, `Invalid track uri: ${String(u).slice(0, 80)}`);
      }
      return parsed.uri;
    });
  }
  const offset = body['offset'];
  if (offset !== undefined) {
    if (request.items === undefined) throw new ApiError(400, 'offset needs context_uri or uris');
    const o = (typeof offset === 'object' && offset !== null ? offset : {}) as Record<string, unknown>;
    if (Number.isInteger(o['position']) && (o['position'] as number) >= 0) {
      request.offset = o['position'] as number;
    } else if (typeof o['uri'] === 'string') {
      // Not in the context → the player refuses (NO_SPECIFIC_TRACK) with index -1.
      request.offset = request.items.indexOf(o['uri']);
      if (request.offset < 0) request.offset = request.items.length;
    } else throw new ApiError(400, 'Invalid offset');
  }
  const position = body['position_ms'];
  if (position !== undefined) {
    if (!Number.isInteger(position) || (position as number) < 0)
      throw new ApiError(400, 'Invalid position_ms');
    request.positionMs = position as number;
  }
  return request;
}

function transfer(player: Player, now: number, ctx: ApiContext): void {
  const body = bodyObject(ctx);
  const ids = body['device_ids'];
  if (!Array.isArray(ids) || ids.length === 0) throw new ApiError(400, 'Missing required field: device_ids');
  // "Although an array is accepted, only a single device_id is currently supported" (OAS).
  if (ids.length > 1) throw new ApiError(400, 'Only a single device_id is currently supported');
  const id = ids[0];
  if (typeof id !== 'string') throw new ApiError(400, 'Invalid device_ids');
  const play = body['play'];
  if (play !== undefined && typeof play !== 'boolean') throw new ApiError(400, 'Invalid play');
  player.transfer(id, play, now);
}

function queryInt(ctx: ApiContext, name: string, min: number, max: number): number {
  const value = ctx.query.int(name) ?? Number(ctx.url.searchParams.get(name) ?? Number.NaN);
  if (!Number.isInteger(value) || value < min || value > max) throw new ApiError(400, `Invalid ${name}`);
  return value;
}

function enqueueUri(ctx: ApiContext): string {
  const parsed = parseUri(ctx.url.searchParams.get('uri') ?? '');
  if (!parsed || (parsed.kind !== 'track' && parsed.kind !== 'episode'))
    throw new ApiError(400, 'Invalid uri');
  if (ctx.state.missingIds.has(`${parsed.kind}:${parsed.id}`)) throw new ApiError(404, 'Resource not found');
  return parsed.uri;
}

export const playerEndpoints = [
  endpoint({
    operationId: 'get-information-about-the-users-current-playback',
    scopes: READ_PLAYBACK,
    handler: playbackState,
  }),
  endpoint({ operationId: 'transfer-a-users-playback', handler: command(transfer) }),
  endpoint({ operationId: 'get-a-users-available-devices', handler: devices }),
  endpoint({
    operationId: 'get-the-users-currently-playing-track',
    scopes: ['user-read-currently-playing', 'user-read-playback-state'],
    handler: currentlyPlaying,
  }),
  endpoint({
    operationId: 'start-a-users-playback',
    handler: command((player, now, ctx) => player.play(playRequest(ctx), now), true),
  }),
  endpoint({
    operationId: 'pause-a-users-playback',
    handler: command((player, now, ctx) => player.pause(now, deviceParam(ctx)), true),
  }),
  endpoint({
    operationId: 'skip-users-playback-to-next-track',
    handler: command((player, now, ctx) => player.next(now, deviceParam(ctx))),
  }),
  endpoint({
    operationId: 'skip-users-playback-to-previous-track',
    handler: command((player, now, ctx) => player.previous(now, deviceParam(ctx))),
  }),
  endpoint({
    operationId: 'seek-to-position-in-currently-playing-track',
    handler: command((player, now, ctx) =>
      player.seek(queryInt(ctx, 'position_ms', 0, 2 ** 31), now, deviceParam(ctx)),
    ),
  }),
  endpoint({
    operationId: 'set-repeat-mode-on-users-playback',
    handler: command((player, now, ctx) => {
      const state = ctx.url.searchParams.get('state');
      if (state !== 'off' && state !== 'track' && state !== 'context')
        throw new ApiError(400, 'Invalid state');
      player.setRepeat(state, now, deviceParam(ctx));
    }),
  }),
  endpoint({
    operationId: 'set-volume-for-users-playback',
    handler: command((player, now, ctx) =>
      player.setVolume(queryInt(ctx, 'volume_percent', 0, 100), now, deviceParam(ctx)),
    ),
  }),
  endpoint({
    operationId: 'toggle-shuffle-for-users-playback',
    handler: command((player, now, ctx) => {
      const state = ctx.url.searchParams.get('state');
      if (state !== 'true' && state !== 'false') throw new ApiError(400, 'Invalid state');
      player.setShuffle(state === 'true', now, deviceParam(ctx));
    }),
  }),
  endpoint({
    operationId: 'get-recently-played',
    // `recently-played/?limit=10` → 404 while the same URL without the slash → 200 (§2, jwilsson PR #289).
    trailingSlash: false,
    handler: recentlyPlayed,
  }),
  endpoint({ operationId: 'get-queue', handler: queue }),
  endpoint({
    operationId: 'add-to-queue',
    handler: command((player, now, ctx) => player.enqueue(enqueueUri(ctx), now, deviceParam(ctx))),
  }),
];

// ---- For the control API ----

/** Where a user's playback is now; read by GET/POST /_emulator/player. */
export function playbackPosition(state: EmulatorState, userId: string) {
  const player = state.userStates.user(userId).player;
  player.settle(state.now());
  const p = player.playback;
  if (!p) return undefined;
  const parsed = parseUri(p.current);
  return { trackId: parsed?.id ?? null, progress: p.positionMs, isPlaying: p.isPlaying };
}

/** The control API's shortcut: play one catalogue track (in its album) on the active or first device. */
export function setNowPlaying(
  state: EmulatorState,
  userId: string,
  trackId: string | null,
  isPlaying: boolean,
  progressMs: number,
): void {
  const player = state.userStates.user(userId).player;
  const now = state.now();
  if (trackId === null) player.stop();
  else {
    const track = TRACKS_BY_ID.get(trackId);
    const first = player.devices[0];
    if (!track || !first) return;
    if (!player.activeDevice()) player.activeDeviceId = first.id;
    const items = contextItems(state.catalogue, 'album', track.albumId) ?? [`spotify:track:${trackId}`];
    player.play(
      {
        contextUri: `spotify:album:${track.albumId}`,
        items,
        offset: Math.max(0, items.indexOf(`spotify:track:${trackId}`)),
        positionMs: progressMs,
      },
      now,
    );
    if (!isPlaying) player.pause(now);
  }
  state.userStates.changed();
}
