import { apiFaultJson, parseApiFault } from './api-faults.js';
import { TRACKS_BY_ID } from './catalogue.js';
import { loadCatalogue } from './catalogue-file.js';
import { InvalidInput } from './errors.js';
import { faultJson, parseFault, REDIRECT_TARGET_PATH, releaseHeld } from './faults.js';
import { readBody, sendApiError, sendJson } from './http.js';
import { parseAppQuota } from './quotas.js';
import { randomToken } from './random.js';
import type { Route, RouteContext } from './routes.js';
import { DEFAULT_MISSING_IDS, type EmulatorState } from './state.js';
import { APP_MODES, type AppMode, type EmulatorApp, type EmulatorUser } from './types.js';
import { parsePlayerConfig, playerConfigJson } from './user-state/player-config.js';
import { DEFAULT_APP_MODE } from './web-api/pipeline.js';
import { playbackPosition, setNowPlaying } from './web-api/player.js';
import { apiVariantsJson, parseApiVariants } from './web-api/variants.js';

/**
 * The /_emulator/ control API: JSON in and out, snake_case like Spotify's own JSON. It is for tests and
 * local tooling only; server.ts refuses cross-origin browser requests to it.
 */

const MAX_CLOCK_ADVANCE_S = 10 * 365 * 24 * 3600;

export async function readJson(ctx: RouteContext, limit?: number): Promise<Record<string, unknown>> {
  const body = await readBody(ctx.req, limit);
  if (!body.ok)
    throw new InvalidInput(body.reason === 'too_large' ? 'Request body too large' : 'Request aborted', 413);
  const text = body.body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInput('The body must be JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInput('The body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function pick(body: Record<string, unknown>, snake: string, camel: string): unknown {
  return body[snake] ?? body[camel];
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInput(`${name} must be a string`);
  return value;
}

/** Wraps a handler so validation problems become 400s with the Web API error shape. */
export function json(
  handler: (ctx: RouteContext) => unknown | Promise<unknown>,
  status = 200,
): Route['handler'] {
  return async (ctx) => {
    try {
      const result = await handler(ctx);
      sendJson(ctx.res, status, result, { 'Cache-Control': 'no-store' });
    } catch (error) {
      if (error instanceof InvalidInput) return sendApiError(ctx.res, error.status, error.message);
      throw error;
    }
  };
}

export function userJson(user: EmulatorUser) {
  return {
    id: user.id,
    account_id: user.accountId ?? null,
    display_name: user.displayName,
    email: user.email ?? null,
    country: user.country ?? null,
    product: user.product ?? null,
    images: user.images ?? [],
  };
}

export function appJson(app: EmulatorApp) {
  return {
    client_id: app.clientId,
    client_secret: app.clientSecret ?? null,
    redirect_uris: app.redirectUris,
    name: app.name ?? null,
    mode: app.mode ?? DEFAULT_APP_MODE,
    legacy_endpoints: app.legacyEndpoints ?? false,
    owner_premium: app.ownerPremium ?? true,
  };
}

function configJson(state: EmulatorState) {
  const c = state.config;
  return {
    refresh_mode: c.refreshMode,
    access_token_ttl: c.accessTokenTtlSeconds,
    refresh_token_lifetime: c.refreshTokenLifetimeSeconds,
    authorization_code_ttl: c.authorizationCodeTtlSeconds,
    auto_approve: c.autoApprove,
    dev_mode_profile: c.devModeProfile,
    ...playerConfigJson(c.player),
    ...apiVariantsJson(c.apiVariants),
    allowlist: c.allowlist,
    cors_expose_headers: c.cors.exposeHeaders,
    token_cors_origin: c.cors.tokenOrigin,
  };
}

function playerJson(state: EmulatorState, userId: string) {
  const position = playbackPosition(state, userId);
  return {
    user_id: userId,
    track_id: position?.trackId ?? null,
    is_playing: position?.isPlaying ?? false,
    progress_ms: position?.progress ?? null,
  };
}

function clockJson(state: EmulatorState) {
  const now = state.now();
  return { now, now_iso: new Date(now).toISOString(), offset_seconds: state.clockOffsetMs / 1000 };
}

function parseUser(body: Record<string, unknown>): EmulatorUser {
  const images = body['images'];
  if (images !== undefined && !Array.isArray(images)) throw new InvalidInput('images must be an array');
  const id = optionalString(body['id'], 'id');
  if (id === undefined) throw new InvalidInput('id is required');
  const user: EmulatorUser = {
    id,
    displayName: optionalString(pick(body, 'display_name', 'displayName'), 'display_name') ?? id,
    images: (images as EmulatorUser['images']) ?? [],
  };
  const accountId = optionalString(pick(body, 'account_id', 'accountId'), 'account_id');
  const email = optionalString(body['email'], 'email');
  const country = optionalString(body['country'], 'country');
  const product = optionalString(body['product'], 'product');
  if (accountId !== undefined) user.accountId = accountId;
  if (email !== undefined) user.email = email;
  if (country !== undefined) user.country = country;
  if (product !== undefined) user.product = product;
  return user;
}

function parseApp(body: Record<string, unknown>): EmulatorApp {
  const clientId = optionalString(pick(body, 'client_id', 'clientId'), 'client_id');
  if (clientId === undefined) throw new InvalidInput('client_id is required');
  const redirectUris = pick(body, 'redirect_uris', 'redirectUris');
  if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) {
    throw new InvalidInput('redirect_uris must be an array of strings');
  }
  const app: EmulatorApp = { clientId, redirectUris };
  const secret = optionalString(pick(body, 'client_secret', 'clientSecret'), 'client_secret');
  const name = optionalString(body['name'], 'name');
  if (secret !== undefined) app.clientSecret = secret;
  if (name !== undefined) app.name = name;
  Object.assign(app, parseAppMode(body));
  return app;
}

type AppSwitches = Pick<EmulatorApp, 'mode' | 'legacyEndpoints' | 'ownerPremium'>;

/** `mode`, `legacy_endpoints` and `owner_premium` of an app registration or POST /_emulator/apps/mode. */
function parseAppMode(body: Record<string, unknown>): AppSwitches {
  const out: AppSwitches = {};
  const mode = body['mode'];
  if (mode !== undefined) {
    if (!(APP_MODES as readonly unknown[]).includes(mode)) {
      throw new InvalidInput(`mode must be one of ${APP_MODES.join(', ')}`);
    }
    out.mode = mode as AppMode;
  }
  const legacy = pick(body, 'legacy_endpoints', 'legacyEndpoints');
  if (legacy !== undefined) {
    if (typeof legacy !== 'boolean') throw new InvalidInput('legacy_endpoints must be a boolean');
    out.legacyEndpoints = legacy;
  }
  const premium = pick(body, 'owner_premium', 'ownerPremium');
  if (premium !== undefined) {
    if (typeof premium !== 'boolean') throw new InvalidInput('owner_premium must be a boolean');
    out.ownerPremium = premium;
  }
  return out;
}

const MISSING_URI =
  /^spotify:(track|album|artist|show|episode|audiobook|chapter|playlist|user):([A-Za-z0-9_.-]{1,64})$/;

/** Spotify URIs → "type:id" keys of state.missingIds. */
function parseMissing(body: Record<string, unknown>): string[] {
  const uris = body['uris'];
  if (!Array.isArray(uris) || uris.length > 10_000) {
    throw new InvalidInput('uris must be an array of Spotify URIs such as "spotify:track:<id>"');
  }
  return uris.map((uri) => {
    const m = typeof uri === 'string' ? MISSING_URI.exec(uri) : null;
    if (!m) throw new InvalidInput(`Not a Spotify URI: ${JSON.stringify(uri).slice(0, 80)}`);
    return `${m[1]}:${m[2]}`;
  });
}

function missingJson(state: EmulatorState) {
  return { uris: [...state.missingIds].map((key) => `spotify:${key}`) };
}

function positiveInt(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInput(`${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

function applyConfig(state: EmulatorState, body: Record<string, unknown>) {
  const c = state.config;
  // Validate everything first so a bad field leaves the config untouched.
  const next = { ...c };
  const mode = body['refresh_mode'];
  if (mode !== undefined) {
    if (mode !== 'keep' && mode !== 'rotate')
      throw new InvalidInput('refresh_mode must be "keep" or "rotate"');
    next.refreshMode = mode;
  }
  if (body['access_token_ttl'] !== undefined) {
    next.accessTokenTtlSeconds = positiveInt(body['access_token_ttl'], 'access_token_ttl', 31_536_000);
  }
  if (body['refresh_token_lifetime'] !== undefined) {
    next.refreshTokenLifetimeSeconds = positiveInt(
      body['refresh_token_lifetime'],
      'refresh_token_lifetime',
      315_360_000,
    );
  }
  if (body['authorization_code_ttl'] !== undefined) {
    next.authorizationCodeTtlSeconds = positiveInt(
      body['authorization_code_ttl'],
      'authorization_code_ttl',
      86_400,
    );
  }
  if (Object.hasOwn(body, 'auto_approve')) {
    const user = body['auto_approve'];
    if (user !== null && (typeof user !== 'string' || !state.users.has(user))) {
      throw new InvalidInput('auto_approve must be the id of a known user, or null');
    }
    next.autoApprove = user;
  }
  next.player = parsePlayerConfig(body, c.player);
  next.apiVariants = parseApiVariants(body, c.apiVariants);
  if (body['dev_mode_profile'] !== undefined) {
    if (typeof body['dev_mode_profile'] !== 'boolean' && body['dev_mode_profile'] !== null)
      throw new InvalidInput('dev_mode_profile must be a boolean, or null to follow each app’s mode');
    next.devModeProfile = body['dev_mode_profile'];
  }
  if (Object.hasOwn(body, 'allowlist')) {
    const list = body['allowlist'];
    if (
      list !== null &&
      (!Array.isArray(list) ||
        list.length > 1000 ||
        !list.every((u) => typeof u === 'string' && u.length <= 64))
    ) {
      throw new InvalidInput('allowlist must be an array of user ids, or null for everyone');
    }
    next.allowlist = list === null ? null : [...(list as string[])];
  }
  if (body['cors_expose_headers'] !== undefined) {
    const list = body['cors_expose_headers'];
    if (
      !Array.isArray(list) ||
      list.length > 20 ||
      !list.every((h) => typeof h === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(h))
    ) {
      throw new InvalidInput('cors_expose_headers must be an array of header names');
    }
    next.cors = { ...next.cors, exposeHeaders: [...(list as string[])] };
  }
  if (body['token_cors_origin'] !== undefined) {
    const value = body['token_cors_origin'];
    if (value !== '*' && value !== 'echo') throw new InvalidInput('token_cors_origin must be "*" or "echo"');
    next.cors = { ...next.cors, tokenOrigin: value };
  }
  Object.assign(c, next);
  return configJson(state);
}

export const controlRoutes: Route[] = [
  { method: 'GET', path: '/_emulator/health', handler: json(() => ({ ok: true })) },
  { method: 'GET', path: '/_emulator/stats', handler: json((ctx) => ctx.state.stats) },
  {
    method: 'POST',
    path: '/_emulator/stats/reset',
    handler: json((ctx) => {
      ctx.state.resetStats();
      return ctx.state.stats;
    }),
  },
  {
    method: 'GET',
    path: '/_emulator/users',
    handler: json((ctx) => [...ctx.state.users.values()].map(userJson)),
  },
  {
    method: 'POST',
    path: '/_emulator/users',
    handler: json(async (ctx) => userJson(ctx.state.addUser(parseUser(await readJson(ctx)))), 201),
  },
  {
    method: 'GET',
    path: '/_emulator/apps',
    handler: json((ctx) => [...ctx.state.apps.values()].map(appJson)),
  },
  {
    method: 'POST',
    path: '/_emulator/apps',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const quota = body['quota'] === undefined ? undefined : parseAppQuota(body['quota']);
      const app = ctx.state.addApp(parseApp(body));
      if (quota !== undefined) ctx.state.quotas.setApp(app.clientId, quota);
      return appJson(app);
    }, 201),
  },
  {
    method: 'POST',
    path: '/_emulator/apps/mode',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const clientId = optionalString(pick(body, 'client_id', 'clientId'), 'client_id');
      const app = clientId === undefined ? undefined : ctx.state.apps.get(clientId);
      if (!app) throw new InvalidInput('client_id must be the id of a registered app');
      Object.assign(app, parseAppMode(body));
      return appJson(app);
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/catalogue',
    handler: json(async (ctx) => loadCatalogue(ctx.state.catalogue, await readJson(ctx)), 201),
  },
  {
    method: 'GET',
    path: '/_emulator/catalogue/missing',
    handler: json((ctx) => missingJson(ctx.state)),
  },
  {
    method: 'POST',
    path: '/_emulator/catalogue/missing',
    handler: json(async (ctx) => {
      for (const key of parseMissing(await readJson(ctx))) ctx.state.missingIds.add(key);
      return missingJson(ctx.state);
    }),
  },
  {
    method: 'DELETE',
    path: '/_emulator/catalogue/missing',
    handler: json((ctx) => {
      ctx.state.missingIds.clear();
      for (const key of DEFAULT_MISSING_IDS) ctx.state.missingIds.add(key);
      return missingJson(ctx.state);
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/revoke',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const userId = optionalString(body['user_id'], 'user_id');
      if (userId === undefined) throw new InvalidInput('user_id is required');
      const clientId = optionalString(body['client_id'], 'client_id');
      const result = ctx.state.revoke(userId, clientId);
      return { revoked_grants: result.grants, revoked_access_tokens: result.accessTokens };
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/expire',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const userId = optionalString(body['user_id'], 'user_id');
      return { expired_access_tokens: ctx.state.expireAccessTokens(userId) };
    }),
  },
  {
    method: 'GET',
    path: '/_emulator/faults',
    handler: json((ctx) => ({
      faults: ctx.state.faults.map(faultJson),
      held: ctx.state.heldTokenRequests.size,
    })),
  },
  {
    method: 'POST',
    path: '/_emulator/faults/release',
    handler: json((ctx) => ({ released: releaseHeld(ctx.state) })),
  },
  {
    method: 'POST',
    path: '/_emulator/faults',
    handler: json(async (ctx) => {
      const fault = parseFault(await readJson(ctx));
      ctx.state.faults.push(fault);
      return { faults: ctx.state.faults.map(faultJson) };
    }, 201),
  },
  {
    method: 'DELETE',
    path: '/_emulator/faults',
    handler: json((ctx) => {
      ctx.state.faults = [];
      return { faults: [] };
    }),
  },
  {
    method: 'GET',
    path: '/_emulator/api-faults',
    handler: json((ctx) => ({ faults: ctx.state.apiFaults.map(apiFaultJson) })),
  },
  {
    method: 'POST',
    path: '/_emulator/api-faults',
    handler: json(async (ctx) => {
      const fault = parseApiFault(await readJson(ctx));
      ctx.state.apiFaults.push(fault);
      return { faults: ctx.state.apiFaults.map(apiFaultJson) };
    }, 201),
  },
  {
    method: 'DELETE',
    path: '/_emulator/api-faults',
    handler: json((ctx) => {
      ctx.state.apiFaults = [];
      return { faults: [] };
    }),
  },
  {
    method: 'GET',
    path: '/_emulator/player',
    handler: json((ctx) => {
      const userId = ctx.url.searchParams.get('user_id') ?? '';
      if (!ctx.state.users.has(userId)) throw new InvalidInput('user_id must be the id of a known user');
      return playerJson(ctx.state, userId);
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/player',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const userId = optionalString(body['user_id'], 'user_id');
      if (userId === undefined || !ctx.state.users.has(userId)) {
        throw new InvalidInput('user_id must be the id of a known user');
      }
      const trackId = body['track_id'];
      if (trackId !== null && (typeof trackId !== 'string' || !TRACKS_BY_ID.has(trackId))) {
        throw new InvalidInput('track_id must be the id of a catalogue track, or null to stop playback');
      }
      const isPlaying = body['is_playing'] ?? true;
      if (typeof isPlaying !== 'boolean') throw new InvalidInput('is_playing must be a boolean');
      const progress = body['progress_ms'] ?? 0;
      if (typeof progress !== 'number' || !Number.isInteger(progress) || progress < 0) {
        throw new InvalidInput('progress_ms must be a non-negative integer');
      }
      setNowPlaying(ctx.state, userId, trackId, isPlaying, progress);
      return playerJson(ctx.state, userId);
    }),
  },
  { method: 'GET', path: '/_emulator/config', handler: json((ctx) => configJson(ctx.state)) },
  {
    method: 'POST',
    path: '/_emulator/config',
    handler: json(async (ctx) => applyConfig(ctx.state, await readJson(ctx))),
  },
  { method: 'GET', path: '/_emulator/clock', handler: json((ctx) => clockJson(ctx.state)) },
  {
    method: 'POST',
    path: '/_emulator/clock',
    handler: json(async (ctx) => {
      const body = await readJson(ctx);
      const seconds = body['advance_seconds'];
      if (
        typeof seconds !== 'number' ||
        !Number.isFinite(seconds) ||
        seconds < 0 ||
        seconds > MAX_CLOCK_ADVANCE_S
      ) {
        throw new InvalidInput(`advance_seconds must be a number from 0 to ${MAX_CLOCK_ADVANCE_S}`);
      }
      ctx.state.clockOffsetMs += Math.round(seconds * 1000);
      return clockJson(ctx.state);
    }),
  },
  ...(['GET', 'POST'] as const).map(
    (method): Route => ({
      method,
      path: REDIRECT_TARGET_PATH,
      // Reached only by a client that followed the `redirect` fault; it answers with a plausible token so
      // that such a client "succeeds" visibly (redirect_follows) instead of failing for an unrelated reason.
      handler: json(async (ctx) => {
        if (method === 'POST') await readBody(ctx.req);
        ctx.state.stats.redirect_follows++;
        return {
          access_token: randomToken(`${ctx.state.config.tokenPrefix}BQ`, 48),
          token_type: 'Bearer',
          expires_in: ctx.state.config.accessTokenTtlSeconds,
        };
      }),
    }),
  ),
];
