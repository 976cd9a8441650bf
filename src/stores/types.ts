/**
 * The one interface every token store implements. Stores hold *plaintext* records in memory only; every
 * persistent backend encrypts the secret fields (access and refresh token) before they leave the process.
 */

import type { ReauthReason } from '../core/grant.js';

export type { ReauthReason };
export type GrantStatus = 'active' | 'reauth_required';

/** What the token manager keeps for one key: a user's grant (`user:<account>`) or the app token (`app:<clientId>`). */
export interface TokenRecord {
  /** Store key, e.g. `user:<spotify account id>` or `app:<client id>`. At most 512 characters. */
  key: string;
  accessToken: string;
  /** Epoch milliseconds. */
  accessTokenExpiresAt: number;
  /** Absent for app (client-credentials) tokens. */
  refreshToken?: string;
  /** Granted scopes, as returned by the token endpoint. */
  scope: string[];
  status: GrantStatus;
  reauthReason?: ReauthReason;
  /** Epoch ms when the grant was marked reauth_required. */
  reauthAt?: number;
  /** Epoch ms of the user's original consent (refresh does not change it). */
  authorizedAt: number;
  /** Epoch ms after which Spotify will refuse the refresh token (authorizedAt + 6 months by default). */
  refreshTokenDeadline?: number;
  /** Non-secret metadata (display name, Spotify id, client id, profile name…). Stored unencrypted. */
  meta?: Record<string, string>;
  /** Compare-and-swap version: 1 on create, +1 on every successful put. Managed by the store. */
  version: number;
  /** Epoch ms of the last write. Managed by the store. */
  updatedAt: number;
}

/** A record as given to `put`: the store assigns `version` and `updatedAt`. */
export type TokenRecordInput = Omit<TokenRecord, 'version' | 'updatedAt'>;

export interface LockHandle {
  /** Releases the lock if this holder still owns it (an expired lock taken by someone else is left alone). */
  release(): Promise<void>;
}

export interface TokenStore {
  /** e.g. 'memory' | 'file' | 'sqlite' | 'postgres' | 'redis' */
  readonly kind: string;
  /** Human-readable, secret-free description (path, host…), for status output and logs. */
  describe(): string;
  get(key: string): Promise<TokenRecord | null>;
  /**
   * Compare-and-swap write. `expectedVersion` null → create only (fails if the key exists);
   * a number → succeeds only if the stored version equals it. Throws SpotauthError code STORE_CONFLICT
   * otherwise. Returns the stored record with its new version.
   */
  put(record: TokenRecordInput, expectedVersion: number | null): Promise<TokenRecord>;
  delete(key: string): Promise<void>;
  list(prefix?: string): Promise<TokenRecord[]>;
  /**
   * Try to take an exclusive lock named `name` for `ttlMs`, across every process sharing this store.
   * Returns null if someone else holds it. A lock whose holder crashed expires after ttlMs.
   */
  tryLock(name: string, ttlMs: number): Promise<LockHandle | null>;
  close(): Promise<void>;
}
