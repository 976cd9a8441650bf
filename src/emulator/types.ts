import type { QuotaBudget } from './quotas.js';

import type { PlayerConfig } from './user-state/player-config.js';
/** Public option and record types of the emulator (re-exported from index.ts). */

/** A Spotify app registered with the emulator, as in Spotify's Developer Dashboard. */
export interface EmulatorApp {
  /** Its client id. */
  clientId: string;
  /** Absent: a public app that can only use PKCE. */
  clientSecret?: string;
  /** The registered redirect URIs; `/authorize` requires an exact match, as Spotify does. */
  redirectUris: string[];
  /** Shown on the consent page. */
  name?: string;
  /** This app's own /v1 rate limits, replacing the emulator-wide `quota`. */
  quota?: QuotaBudget;
  /**
   * development (default): the 2026 development-mode surface (WEB-API-2026.md). extended: extended quota
   * mode, which "is not affected" and serves everything.
   */
  mode?: AppMode;
  /** Development mode only: serve the February 2026 removals anyway (older client ids, §1). */
  legacyEndpoints?: boolean;
  /**
   * Whether the app's owner (the Developer Dashboard account) has Premium; default true. Development
   * mode only: without it every /v1 call gets 403 "Active premium subscription required for the owner of
   * the app. …" (WEB-API-2026.md §1). Extended-quota apps belong to organisations and are not affected.
   */
  ownerPremium?: boolean;
}

/** development: the 2026 development-mode surface; extended: extended quota mode (everything). */
export type AppMode = 'development' | 'extended';
/** Every app mode, for validating input. */
export const APP_MODES: readonly AppMode[] = ['development', 'extended'];

/** A profile image, as in Spotify's `ImageObject`. */
export interface EmulatorImage {
  /** The image URL. */
  url: string;
  /** Height in pixels, or null when unknown. */
  height: number | null;
  /** Width in pixels, or null when unknown. */
  width: number | null;
}

/** A Spotify user of the emulator; `/v1/me` answers with these fields. */
export interface EmulatorUser {
  /** The user's Spotify id (also the name to log in as). */
  id: string;
  /** The account id (`/v1/me` `account_id`). Default: none. */
  accountId?: string;
  /** The display name. */
  displayName: string;
  /** The email address (`user-read-email`). */
  email?: string;
  /** ISO 3166-1 alpha-2 country code (`user-read-private`). */
  country?: string;
  /** `premium` or `free` (`user-read-private`). */
  product?: string;
  /** Profile images. */
  images?: EmulatorImage[];
}

/**
 * What the refresh grant returns: `'keep'` (no new refresh token: Spotify's behaviour since mid-2026) or
 * `'rotate'` (a new refresh token each time; the old one is revoked, as PKCE clients saw before).
 *
 * @see [Spotify: Refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 */
export type RefreshMode = 'keep' | 'rotate';

/** Options of {@link startEmulator} and {@link createEmulatorState}. */
export interface EmulatorOptions {
  /** Default 8889; 0 = OS-assigned. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Seconds, default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 'keep'. */
  refreshMode?: RefreshMode;
  /** Seconds after the original authorization, default 15_768_000 (182.5 days). */
  refreshTokenLifetimeSeconds?: number;
  /** Seconds, default 300. */
  authorizationCodeTtlSeconds?: number;
  /** @deprecated Old name of {@link EmulatorOptions.accessTokenTtlSeconds}; still read. */
  accessTokenTtl?: number;
  /** @deprecated Old name of {@link EmulatorOptions.refreshTokenLifetimeSeconds}; still read. */
  refreshTokenLifetime?: number;
  /** @deprecated Old name of {@link EmulatorOptions.authorizationCodeTtlSeconds}; still read. */
  authorizationCodeTtl?: number;
  /** A user id: /authorize redirects straight back with a code for that user. */
  autoApprove?: string;
  /** Added to the sandbox app; an app with the sandbox's client id replaces it. */
  apps?: EmulatorApp[];
  /** Added to the seeded users; a user with a seeded id replaces it. */
  users?: EmulatorUser[];
  /** Prefix of every issued access token, refresh token and authorization code. */
  tokenPrefix?: string;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Log nothing to the console. Default false. */
  quiet?: boolean;
  /**
   * Serve /v1/me as Spotify does for development-mode apps since 2026: without country, email,
   * explicit_content, followers and product. Default: by the calling app's mode (development strips them).
   */
  devModeProfile?: boolean;
  /**
   * A JSON file that keeps users' libraries, playlists and players across restarts (created when
   * missing, rewritten atomically shortly after each change and on stop).
   */
  stateFile?: string;
  /** Player answers Spotify has given both ways (see PlayerConfig); default 204 and observed reasons. */
  player?: Partial<PlayerConfig>;
  /** Named catalogue entities (the JSON of `--catalogue FILE`; see catalogue-file.ts for the format). */
  catalogue?: unknown;
  /** Mode of the sandbox app and of every app in `apps` that sets none (default development). */
  appMode?: AppMode;
  /** `legacy_endpoints` for the same apps (default false). */
  legacyEndpoints?: boolean;
  /** `ownerPremium` for the same apps (default true). */
  ownerPremium?: boolean;
  /**
   * The body of the owner-without-Premium 403: 'json' (default, Spotify's error shape) or 'text' (the
   * message as text/plain); the capture does not say which.
   */
  ownerPremiumBody?: 'json' | 'text';
  /**
   * The message of /v1 401s: '2026' (default) `Missing/invalid/expired access token` for every token
   * problem, as Spotify answers in 2026; 'legacy' the older `No token provided`, `Invalid access token`
   * and `The access token expired`. The WWW-Authenticate header is the same either way.
   */
  unauthorizedMessages?: '2026' | 'legacy';
  /** Only these user ids may call /v1 (others get the plain-text dev-mode 403); default everyone. */
  allowlist?: string[] | null;
  /**
   * Default /v1 rate limits of every app without its own `quota`: requests per rolling 30 s
   * (`rateLimit`) and per rolling 24 h (`dailyQuota`). Default: none.
   */
  quota?: QuotaBudget;
}

/** What the emulator knows about an access token it issued. */
export interface AccessTokenInfo {
  /** null for client-credentials tokens. */
  userId: string | null;
  /** The app it was issued to. */
  clientId: string;
  /** The scopes granted. */
  scopes: string[];
  /** ms since the epoch, on the emulator's clock. */
  expiresAt: number;
}
