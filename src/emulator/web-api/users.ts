import { TIME_RANGES, type TimeRange, topArtists, topTracks, userFollowers } from '../catalogue.js';
import type { EmulatorUser } from '../types.js';
import { type ApiContext, ApiError, endpoint, pageParams, paging, requireUser } from './endpoint.js';
import { REMOVED_2026 } from './modes.js';
import { artistJson, shapeOf, trackJson } from './shapes.js';

/** Profiles: GET /me and the (2026-removed) public profile GET /users/{user_id}. */

/** Spotify user ids are short lowercase-ish handles; anything else is not a user id at all. */
const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function images(origin: string, user: EmulatorUser) {
  return (user.images ?? []).map((image) => ({
    url: image.url.startsWith('/') ? `${origin}${image.url}` : image.url,
    height: image.height,
    width: image.width,
  }));
}

/** The public profile (PublicUserObject), as /users/{id} and playlist owners show it. */
export function publicUserJson(origin: string, user: EmulatorUser) {
  return {
    display_name: user.displayName,
    external_urls: { spotify: `https://open.spotify.com/user/${user.id}` },
    followers: { href: null, total: userFollowers(user.id) },
    href: `${origin}/v1/users/${user.id}`,
    id: user.id,
    images: images(origin, user),
    type: 'user' as const,
    uri: `spotify:user:${user.id}`,
  };
}

/**
 * /me: scopes gate fields (email: user-read-email; country, product, explicit_content: user-read-private).
 * Development-mode apps no longer get country, email, explicit_content, followers, product (FACTS §7);
 * the `dev_mode_profile` config forces either answer whatever the mode (null = follow the mode).
 */
function meJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const { origin, token, state } = ctx;
  const forced = state.config.devModeProfile;
  const dev = forced ?? ctx.mode === 'development';
  const has = (scope: string) => token.scopes.includes(scope);
  const priv = !dev && has('user-read-private');
  return {
    ...(user.accountId !== undefined ? { account_id: user.accountId } : {}),
    ...(priv && user.country !== undefined ? { country: user.country } : {}),
    display_name: user.displayName,
    ...(!dev && has('user-read-email') && user.email !== undefined ? { email: user.email } : {}),
    ...(priv ? { explicit_content: { filter_enabled: false, filter_locked: false } } : {}),
    external_urls: { spotify: `https://open.spotify.com/user/${user.id}` },
    ...(!dev ? { followers: { href: null, total: userFollowers(user.id) } } : {}),
    href: `${origin}/v1/users/${user.id}`,
    id: user.id,
    images: images(origin, user),
    ...(priv && user.product !== undefined ? { product: user.product } : {}),
    type: 'user',
    uri: `spotify:user:${user.id}`,
  };
}

/** A known user, or any well-formed id as a synthetic profile (Spotify has a profile for every user id). */
export function userById(ctx: ApiContext, id: string): EmulatorUser {
  if (!USER_ID.test(id)) throw new ApiError(400, 'invalid id');
  if (ctx.state.missingIds.has(`user:${id}`)) throw new ApiError(404, 'Resource not found');
  return ctx.state.users.get(id) ?? { id, displayName: id, images: [] };
}

function timeRange(ctx: ApiContext): TimeRange {
  const raw = ctx.query.string('time_range') ?? 'medium_term';
  if (!(TIME_RANGES as readonly string[]).includes(raw)) throw new ApiError(400, 'Invalid time range');
  return raw as TimeRange;
}

function topArtistsJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const range = timeRange(ctx);
  const { limit, offset } = pageParams(ctx);
  return paging(ctx, topArtists(user.id, range), (a) => artistJson(shapeOf(ctx), a), limit, offset, {
    time_range: range,
  });
}

function topTracksJson(ctx: ApiContext) {
  const user = requireUser(ctx);
  const range = timeRange(ctx);
  const { limit, offset } = pageParams(ctx);
  return paging(ctx, topTracks(user.id, range), (t) => trackJson(shapeOf(ctx), t), limit, offset, {
    time_range: range,
  });
}

export const userEndpoints = [
  // Counted under the name earlier emulators (and the older spec) used, so existing counters keep working.
  endpoint({
    operationId: 'get-users-top-artists',
    counterPattern: '/v1/me/top/{type}',
    handler: topArtistsJson,
  }),
  endpoint({
    operationId: 'get-users-top-tracks',
    counterPattern: '/v1/me/top/{type}',
    handler: topTracksJson,
  }),
  // Any user token works; the scopes only gate fields (FACTS §7).
  endpoint({ operationId: 'get-current-users-profile', scopes: [], handler: meJson }),
  endpoint({
    operationId: 'get-users-profile',
    removed: REMOVED_2026,
    handler: (ctx) => publicUserJson(ctx.origin, userById(ctx, ctx.path['user_id'] ?? '')),
  }),
];
