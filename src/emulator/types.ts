import type { QuotaBudget } from './quotas.js';

import type { PlayerConfig } from './user-state/player-config.js';
/** Public option and record types of the emulator (re-exported from index.ts). */

export interface EmulatorApp {
  clientId: string;
  /** Absent: a public app that can only use PKCE. */
  clientSecret?: string;
  redirectUris: string[];
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
}

export type AppMode = 'development' | 'extended';
export const APP_MODES: readonly AppMode[] = ['development', 'extended'];

export interface EmulatorImage {
  url: string;
  height: number | null;
  width: number | null;
}

export interface EmulatorUser {
  id: string;
  accountId?: string;
  displayName: string;
  email?: string;
  country?: string;
  product?: string;
  images?: EmulatorImage[];
}

export type RefreshMode = 'keep' | 'rotate';

export interface EmulatorOptions {
  /** Default 8889; 0 = OS-assigned. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Seconds, default 3600. */
  accessTokenTtl?: number;
  /** Default 'keep'. */
  refreshMode?: RefreshMode;
  /** Seconds after the original authorization, default 15_768_000 (182.5 days). */
  refreshTokenLifetime?: number;
  /** Seconds, default 300. */
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
  /** Mode of the sandbox app and of every app in `apps` that sets none (default development). */
  appMode?: AppMode;
  /** `legacy_endpoints` for the same apps (default false). */
  legacyEndpoints?: boolean;
  /** Only these user ids may call /v1 (others get the plain-text dev-mode 403); default everyone. */
  allowlist?: string[] | null;
  /**
   * Default /v1 rate limits of every app without its own `quota`: requests per rolling 30 s
   * (`rateLimit`) and per rolling 24 h (`dailyQuota`). Default: none.
   */
  quota?: QuotaBudget;
}

export interface AccessTokenInfo {
  /** null for client-credentials tokens. */
  userId: string | null;
  clientId: string;
  scopes: string[];
  /** ms since the epoch, on the emulator's clock. */
  expiresAt: number;
}
