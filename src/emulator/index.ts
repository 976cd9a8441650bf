/**
 * A local stand-in for accounts.spotify.com (the authorization and token endpoints plus a control API) and
 * a slice of api.spotify.com under /v1 (profile, top items, player, playlists, catalogue, search),
 * for offline development and tests. It deliberately imports nothing from the rest of spotauth: it plays the
 * other party, so its rules are written independently and cross-checked by tests.
 */
import type { AddressInfo } from 'node:net';
import { loadCatalogue } from './catalogue-file.js';
import { DEFAULT_CORS } from './cors.js';
import { parseQuotaBudget } from './quotas.js';
import { SANDBOX_APP, SANDBOX_APP_NAME, SEEDED_USERS } from './seed.js';
import { createEmulatorServer } from './server.js';
import { EmulatorState } from './state.js';
import { openStateFile, type StateFile } from './state-file.js';
import type { EmulatorOptions } from './types.js';
import { DEFAULT_PLAYER_CONFIG } from './user-state/player-config.js';
import { apiVariantsFromOptions } from './web-api/variants.js';

export { ALBUMS, ARTISTS, spotifyId, TRACKS } from './catalogue.js';
export { InvalidInput } from './errors.js';
export type { QuotaBuckets, QuotaBudget, RateLimitBody } from './quotas.js';
export type { Route, RouteContext } from './routes.js';
export { SANDBOX_APP, SEEDED_USERS } from './seed.js';
export type { EmulatorConfig, EmulatorStats } from './state.js';
export { EmulatorState } from './state.js';
export type {
  AccessTokenInfo,
  AppMode,
  EmulatorApp,
  EmulatorImage,
  EmulatorOptions,
  EmulatorUser,
  RefreshMode,
} from './types.js';

/** A listening emulator. */
export interface RunningEmulator {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** The port it listens on (the OS's pick when `port: 0` was asked). */
  port: number;
  /** Its users, apps, tokens and faults, for tests to inspect and change. */
  state: EmulatorState;
  /** Closes the server and its connections; safe to call twice. */
  stop(): Promise<void>;
}

/** The emulator's port unless told otherwise (the server's is 8888). */
export const DEFAULT_PORT = 8889;
/** Access-token lifetime in seconds, as Spotify's (`expires_in: 3600`). */
export const DEFAULT_ACCESS_TOKEN_TTL = 3600;
/** BRT: 6 months after the original authorization (182.5 days). */
export const DEFAULT_REFRESH_TOKEN_LIFETIME = 15_768_000;
/** Spotify does not document it ("a few minutes" in third-party reports, FACTS §3.1); 5 minutes is our pick. */
export const DEFAULT_AUTHORIZATION_CODE_TTL = 300;
/** An environment variable naming a user to approve every `/authorize` as, without the consent page. */
export const AUTO_APPROVE_ENV = 'SPOTAUTH_EMULATOR_AUTO_APPROVE';

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive whole number of seconds.`);
  return value;
}

/**
 * The emulator's state (seeded users and the sandbox app, plus `options.apps` and `options.users`)
 * without a server, for tests that drive it directly.
 *
 * @throws Error for a lifetime that is not a positive whole number of seconds, an unknown `refreshMode`,
 * `unauthorizedMessages` or `ownerPremiumBody`, or an `autoApprove` user that does not exist.
 */
export function createEmulatorState(options: EmulatorOptions = {}): EmulatorState {
  const refreshMode = options.refreshMode ?? 'keep';
  if (refreshMode !== 'keep' && refreshMode !== 'rotate')
    throw new Error('refreshMode must be "keep" or "rotate".');
  const envAutoApprove = process.env[AUTO_APPROVE_ENV];
  const autoApprove = options.autoApprove ?? (envAutoApprove ? envAutoApprove : null);
  const state = new EmulatorState(
    {
      accessTokenTtlSeconds: positive(
        options.accessTokenTtlSeconds ?? options.accessTokenTtl,
        'accessTokenTtlSeconds',
        DEFAULT_ACCESS_TOKEN_TTL,
      ),
      refreshMode,
      refreshTokenLifetimeSeconds: positive(
        options.refreshTokenLifetimeSeconds ?? options.refreshTokenLifetime,
        'refreshTokenLifetimeSeconds',
        DEFAULT_REFRESH_TOKEN_LIFETIME,
      ),
      authorizationCodeTtlSeconds: positive(
        options.authorizationCodeTtlSeconds ?? options.authorizationCodeTtl,
        'authorizationCodeTtlSeconds',
        DEFAULT_AUTHORIZATION_CODE_TTL,
      ),
      autoApprove,
      tokenPrefix: options.tokenPrefix ?? '',
      quiet: options.quiet ?? false,
      devModeProfile: options.devModeProfile ?? null,
      player: { ...DEFAULT_PLAYER_CONFIG, ...options.player },
      apiVariants: apiVariantsFromOptions(options),
      allowlist: options.allowlist ? [...options.allowlist] : null,
      cors: { ...DEFAULT_CORS, exposeHeaders: [] },
    },
    options.now ?? Date.now,
  );
  const modes = {
    ...(options.appMode !== undefined ? { mode: options.appMode } : {}),
    ...(options.legacyEndpoints !== undefined ? { legacyEndpoints: options.legacyEndpoints } : {}),
    ...(options.ownerPremium !== undefined ? { ownerPremium: options.ownerPremium } : {}),
  };
  state.addApp({
    ...SANDBOX_APP,
    redirectUris: [...SANDBOX_APP.redirectUris],
    name: SANDBOX_APP_NAME,
    ...modes,
  });
  if (options.quota !== undefined) state.quotas.setDefault(parseQuotaBudget(options.quota, 'quota'));
  for (const app of options.apps ?? []) {
    state.addApp({ ...modes, ...app });
    if (app.quota !== undefined) state.quotas.setApp(app.clientId, parseQuotaBudget(app.quota, 'quota'));
  }
  for (const user of [...SEEDED_USERS, ...(options.users ?? [])]) state.addUser(user);
  if (options.catalogue !== undefined) loadCatalogue(state.catalogue, options.catalogue);
  if (autoApprove !== null && !state.users.has(autoApprove)) {
    throw new Error(
      `Cannot auto-approve as "${autoApprove}": no such user (known: ${[...state.users.keys()].join(', ')}).`,
    );
  }
  return state;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a local Spotify: the accounts service (`/authorize` with a consent page, `/api/token` for every
 * grant, Spotify's error formats) and a slice of the Web API under `/v1`, plus a control API for tests.
 * Point `SpotifyAuthConfig`'s `accountsUrl` and `apiUrl` at its `url`, with `allowInsecureHttp`.
 *
 * @throws Error for bad options (see {@link createEmulatorState}), a port outside 0–65535, or a port in use.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ port: 0 });
 * const auth = new SpotifyAuth({
 *   clientId: SANDBOX_APP.clientId,
 *   redirectUri: 'http://127.0.0.1:8888/callback',
 *   accountsUrl: emulator.url,
 *   apiUrl: `${emulator.url}/v1`,
 *   allowInsecureHttp: true,
 * });
 * // … log in, refresh, call the Web API …
 * await emulator.stop();
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const state = createEmulatorState(options);
  const stateFile: StateFile | null = options.stateFile
    ? await openStateFile(state, options.stateFile)
    : null;
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new Error('port must be a whole number from 0 to 65535.');
  }
  let url = '';
  const server = createEmulatorServer(state, () => url, { hostPolicy: { boundHost: host } });
  await new Promise<void>((resolve, reject) => {
    // Not closing the state file here: another emulator on this port may be saving to the same file.
    server.once('error', reject);
    server.listen(requestedPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${formatHost(host)}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    state,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Requests held by a latency fault would otherwise keep their timers (and this process) alive.
        for (const release of [...state.heldTokenRequests]) release();
      }).then(() => stateFile?.close());
      return stopping;
    },
  };
}
