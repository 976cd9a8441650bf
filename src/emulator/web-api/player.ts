import { recentlyPlayed } from '../catalogue.js';
import type { EmulatorState } from '../state.js';
import { type ApiContext, ApiError, endpoint, noContent, requireUser } from './endpoint.js';
import { albumContextJson, shapeOf, trackJson } from './shapes.js';
import { notYet } from './stub.js';

/** /me/player/*: playback state, devices, commands, queue, recently played. */

/** Where a user's playback is now; also read by the control API's GET /_emulator/player. */
export function playbackPosition(state: EmulatorState, userId: string) {
  const playing = state.nowPlaying.get(userId);
  if (!playing) return undefined;
  const track = state.catalogue.get('track', playing.trackId);
  const progress = playing.isPlaying
    ? (state.now() - playing.startedAt) % track.durationMs
    : playing.pausedAtMs % track.durationMs;
  return { track, progress, isPlaying: playing.isPlaying };
}

function currentlyPlayingJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const position = playbackPosition(ctx.state, user.id);
  if (!position) return noContent();
  return {
    timestamp: ctx.now(),
    context: albumContextJson(ctx.origin, position.track.albumId),
    progress_ms: position.progress,
    item: trackJson(shapeOf(ctx), position.track),
    currently_playing_type: 'track',
    // Spotify's wire format nests the flags under `disallows`.
    actions: { disallows: position.isPlaying ? { resuming: true } : { pausing: true } },
    is_playing: position.isPlaying,
  };
}

/** Cursor page, newest first; no `total` (Spotify leaves it out although the spec lists it, §3). */
function recentlyPlayedJson(ctx: ApiContext) {
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
  const history = recentlyPlayed(user.id, ctx.state.epoch);
  const shape = shapeOf(ctx);
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
      track: trackJson(shape, entry.track),
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

const READ_PLAYBACK = ['user-read-playback-state'];

export const playerEndpoints = [
  endpoint({
    operationId: 'get-information-about-the-users-current-playback',
    scopes: READ_PLAYBACK,
    handler: notYet('get-information-about-the-users-current-playback'),
  }),
  endpoint({ operationId: 'transfer-a-users-playback', handler: notYet('transfer-a-users-playback') }),
  endpoint({
    operationId: 'get-a-users-available-devices',
    handler: notYet('get-a-users-available-devices'),
  }),
  endpoint({
    operationId: 'get-the-users-currently-playing-track',
    scopes: ['user-read-currently-playing', 'user-read-playback-state'],
    handler: currentlyPlayingJson,
  }),
  endpoint({ operationId: 'start-a-users-playback', handler: notYet('start-a-users-playback') }),
  endpoint({ operationId: 'pause-a-users-playback', handler: notYet('pause-a-users-playback') }),
  endpoint({
    operationId: 'skip-users-playback-to-next-track',
    handler: notYet('skip-users-playback-to-next-track'),
  }),
  endpoint({
    operationId: 'skip-users-playback-to-previous-track',
    handler: notYet('skip-users-playback-to-previous-track'),
  }),
  endpoint({
    operationId: 'seek-to-position-in-currently-playing-track',
    handler: notYet('seek-to-position-in-currently-playing-track'),
  }),
  endpoint({
    operationId: 'set-repeat-mode-on-users-playback',
    handler: notYet('set-repeat-mode-on-users-playback'),
  }),
  endpoint({
    operationId: 'set-volume-for-users-playback',
    handler: notYet('set-volume-for-users-playback'),
  }),
  endpoint({
    operationId: 'toggle-shuffle-for-users-playback',
    handler: notYet('toggle-shuffle-for-users-playback'),
  }),
  endpoint({
    operationId: 'get-recently-played',
    // `recently-played/?limit=10` → 404 while the same URL without the slash → 200 (§2, jwilsson PR #289).
    trailingSlash: false,
    handler: recentlyPlayedJson,
  }),
  endpoint({ operationId: 'get-queue', handler: notYet('get-queue') }),
  endpoint({ operationId: 'add-to-queue', handler: notYet('add-to-queue') }),
];
