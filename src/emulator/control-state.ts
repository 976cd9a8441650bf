import { json, readJson } from './control.js';
import { InvalidInput } from './errors.js';
import type { Route } from './routes.js';
import type { EmulatorState } from './state.js';
import { parseUserSeed } from './user-state/seed-input.js';

/**
 * Control API for users' state: GET /_emulator/state?user_id= reads a user's library, playlists,
 * devices, player and product; POST /_emulator/state seeds them (the seed is what reset returns to);
 * POST /_emulator/reset puts every user back to the seed (defaults where none was given).
 */

function knownUser(state: EmulatorState, value: unknown): string {
  if (typeof value !== 'string' || !state.users.has(value)) {
    throw new InvalidInput('user_id must be the id of a known user');
  }
  return value;
}

function userStateJson(state: EmulatorState, userId: string) {
  const data = state.userStates.user(userId);
  data.player.settle(state.now());
  return {
    user_id: userId,
    product: state.users.get(userId)?.product ?? null,
    ...state.userStates.userJson(userId),
  };
}

/** Each seeded user's product before its first seed, so clearing the seeds can put it back. */
const profileProducts = new WeakMap<EmulatorState, Map<string, string | undefined>>();

function rememberProduct(state: EmulatorState, userId: string): void {
  let saved = profileProducts.get(state);
  if (!saved) {
    saved = new Map();
    profileProducts.set(state, saved);
  }
  if (!saved.has(userId)) saved.set(userId, state.users.get(userId)?.product);
}

function restoreProducts(state: EmulatorState): void {
  for (const [userId, product] of profileProducts.get(state) ?? []) {
    const user = state.users.get(userId);
    if (!user) continue;
    if (product === undefined) delete user.product;
    else user.product = product;
  }
  profileProducts.delete(state);
}

/** Seeded products live on the profiles, which is where the Web API reads them. */
function applyProducts(state: EmulatorState): void {
  for (const [userId, product] of state.userStates.products()) {
    const user = state.users.get(userId);
    if (user) user.product = product;
  }
}

export const stateControlRoutes: Route[] = [
  {
    method: 'GET',
    path: '/_emulator/state',
    handler: json((ctx) =>
      userStateJson(ctx.state, knownUser(ctx.state, ctx.url.searchParams.get('user_id'))),
    ),
  },
  {
    method: 'POST',
    path: '/_emulator/state',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const userId = knownUser(ctx.state, body['user_id']);
      const apply = parseUserSeed(ctx.state, userId, body);
      rememberProduct(ctx.state, userId);
      ctx.state.userStates.seedUser(userId, apply);
      applyProducts(ctx.state);
      return userStateJson(ctx.state, userId);
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/reset',
    // {"clear_seed": true}: forget the seeds too, back to every user's default.
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const clear = body['clear_seed'] ?? false;
      if (typeof clear !== 'boolean') throw new InvalidInput('clear_seed must be a boolean');
      if (clear) {
        ctx.state.userStates.clearSeed();
        restoreProducts(ctx.state);
      }
      ctx.state.userStates.reset();
      applyProducts(ctx.state);
      return { reset: true, seeded_users: Object.keys(ctx.state.userStates.seedJson().users) };
    }),
  },
];
