import { userPlaylists } from '../catalogue.js';
import { type ApiContext, endpoint, pageParams, paging, requireUser } from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { playlistJson } from './shapes.js';
import { notYet } from './stub.js';

/** Playlists: reading, creating, editing items and covers. The handler bodies belong to the state work. */

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
  endpoint({ operationId: 'get-playlist', handler: notYet('get-playlist') }),
  endpoint({ operationId: 'change-playlist-details', handler: notYet('change-playlist-details') }),
  endpoint({
    operationId: 'get-playlists-tracks',
    removed: REMOVED_2026,
    handler: notYet('get-playlists-tracks'),
  }),
  endpoint({
    operationId: 'add-tracks-to-playlist',
    removed: REMOVED_2026,
    handler: notYet('add-tracks-to-playlist'),
  }),
  endpoint({
    operationId: 'reorder-or-replace-playlists-tracks',
    removed: REMOVED_2026,
    handler: notYet('reorder-or-replace-playlists-tracks'),
  }),
  endpoint({
    operationId: 'remove-tracks-playlist',
    removed: REMOVED_2026,
    handler: notYet('remove-tracks-playlist'),
  }),
  endpoint({ operationId: 'get-playlists-items', handler: notYet('get-playlists-items') }),
  endpoint({ operationId: 'add-items-to-playlist', handler: notYet('add-items-to-playlist') }),
  endpoint({
    operationId: 'reorder-or-replace-playlists-items',
    handler: notYet('reorder-or-replace-playlists-items'),
  }),
  endpoint({ operationId: 'remove-items-playlist', handler: notYet('remove-items-playlist') }),
  endpoint({
    operationId: 'get-a-list-of-current-users-playlists',
    // Public playlists need no scope; playlist-read-private only widens the list (see above).
    scopes: [],
    handler: myPlaylistsJson,
  }),
  endpoint({ operationId: 'create-playlist', handler: notYet('create-playlist') }),
  endpoint({
    operationId: 'get-list-users-playlists',
    removed: REMOVED_2026,
    scopes: [],
    handler: notYet('get-list-users-playlists'),
  }),
  endpoint({
    operationId: 'create-playlist-for-user',
    removed: REMOVED_2026,
    handler: notYet('create-playlist-for-user'),
  }),
  endpoint({ operationId: 'get-playlist-cover', handler: notYet('get-playlist-cover') }),
  endpoint({
    operationId: 'upload-custom-playlist-cover',
    bodyLimit: 384 * 1024,
    handler: notYet('upload-custom-playlist-cover'),
  }),
];
