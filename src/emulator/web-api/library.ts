import { type ApiContext, endpoint, reply, textReply } from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { emptyPage, legacyIds, libraryUris } from './stub.js';

/**
 * Your Library: the 2026 generic /me/library endpoints, the saved-item lists, and the legacy
 * type-specific saves and follows (removed for development-mode apps in February 2026).
 * Placeholder bodies (no state yet): the state work replaces them.
 */

/** Old library writes: 200 with an empty text/plain body (spotify/web-api#17). */
const emptyOk = () => textReply(200, '');

function followedJson(ctx: ApiContext) {
  const limit = ctx.query.int('limit') ?? 20;
  return {
    artists: {
      href: `${ctx.origin}/v1/me/following?type=artist&limit=${limit}`,
      items: [],
      limit,
      next: null,
      cursors: {},
      total: 0,
    },
  };
}

const legacyWrite = (operationId: string) =>
  endpoint({
    operationId,
    removed: REMOVED_2026,
    handler: (ctx) => {
      legacyIds(ctx);
      return emptyOk();
    },
  });
const legacyContains = (operationId: string) =>
  endpoint({ operationId, removed: REMOVED_2026, handler: (ctx) => legacyIds(ctx).map(() => false) });
const savedList = (operationId: string) => endpoint({ operationId, handler: emptyPage });

export const libraryEndpoints = [
  endpoint({
    operationId: 'save-library-items',
    handler: (ctx) => {
      libraryUris(ctx);
      return emptyOk();
    },
  }),
  endpoint({
    operationId: 'remove-library-items',
    handler: (ctx) => {
      libraryUris(ctx);
      return emptyOk();
    },
  }),
  endpoint({ operationId: 'check-library-contains', handler: (ctx) => libraryUris(ctx).map(() => false) }),
  savedList('get-users-saved-albums'),
  savedList('get-users-saved-tracks'),
  savedList('get-users-saved-episodes'),
  savedList('get-users-saved-shows'),
  savedList('get-users-saved-audiobooks'),
  endpoint({ operationId: 'get-followed', handler: followedJson }),
  legacyWrite('save-albums-user'),
  legacyWrite('remove-albums-user'),
  legacyContains('check-users-saved-albums'),
  legacyWrite('save-tracks-user'),
  legacyWrite('remove-tracks-user'),
  legacyContains('check-users-saved-tracks'),
  legacyWrite('save-episodes-user'),
  legacyWrite('remove-episodes-user'),
  legacyContains('check-users-saved-episodes'),
  legacyWrite('save-shows-user'),
  legacyWrite('remove-shows-user'),
  legacyContains('check-users-saved-shows'),
  legacyWrite('save-audiobooks-user'),
  legacyWrite('remove-audiobooks-user'),
  legacyContains('check-users-saved-audiobooks'),
  // PUT/DELETE /me/following: 204 (OAS; web-api#17).
  endpoint({
    operationId: 'follow-artists-users',
    removed: REMOVED_2026,
    handler: (ctx) => {
      legacyIds(ctx);
      return reply(204);
    },
  }),
  endpoint({
    operationId: 'unfollow-artists-users',
    removed: REMOVED_2026,
    handler: (ctx) => {
      legacyIds(ctx);
      return reply(204);
    },
  }),
  legacyContains('check-current-user-follows'),
  endpoint({ operationId: 'follow-playlist', removed: REMOVED_2026, handler: emptyOk }),
  endpoint({ operationId: 'unfollow-playlist', removed: REMOVED_2026, handler: emptyOk }),
  // The spec lists no scope, and it is a user question (does *this* user follow it?).
  endpoint({
    operationId: 'check-if-user-follows-playlist',
    removed: REMOVED_2026,
    user: true,
    handler: (ctx) => ctx.query.list('ids').map(() => false),
  }),
];
