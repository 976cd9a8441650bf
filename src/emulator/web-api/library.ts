import { endpoint } from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { notYet } from './stub.js';

/**
 * Your Library: the 2026 generic /me/library endpoints, the saved-item lists, and the legacy
 * type-specific saves and follows (removed for development-mode apps in February 2026).
 * The handler bodies belong to the state work.
 */

const legacy = (operationId: string) =>
  endpoint({ operationId, removed: REMOVED_2026, handler: notYet(operationId) });
const kept = (operationId: string) => endpoint({ operationId, handler: notYet(operationId) });

export const libraryEndpoints = [
  kept('save-library-items'),
  kept('remove-library-items'),
  kept('check-library-contains'),
  kept('get-users-saved-albums'),
  kept('get-users-saved-tracks'),
  kept('get-users-saved-episodes'),
  kept('get-users-saved-shows'),
  kept('get-users-saved-audiobooks'),
  kept('get-followed'),
  legacy('save-albums-user'),
  legacy('remove-albums-user'),
  legacy('check-users-saved-albums'),
  legacy('save-tracks-user'),
  legacy('remove-tracks-user'),
  legacy('check-users-saved-tracks'),
  legacy('save-episodes-user'),
  legacy('remove-episodes-user'),
  legacy('check-users-saved-episodes'),
  legacy('save-shows-user'),
  legacy('remove-shows-user'),
  legacy('check-users-saved-shows'),
  legacy('save-audiobooks-user'),
  legacy('remove-audiobooks-user'),
  legacy('check-users-saved-audiobooks'),
  legacy('follow-artists-users'),
  legacy('unfollow-artists-users'),
  legacy('check-current-user-follows'),
  legacy('follow-playlist'),
  legacy('unfollow-playlist'),
  // The spec lists no scope, and it is a user question (does *this* user follow it?).
  endpoint({
    operationId: 'check-if-user-follows-playlist',
    removed: REMOVED_2026,
    user: true,
    handler: notYet('check-if-user-follows-playlist'),
  }),
];
