/**
 * What a broker key may do. The issue names three permissions; their exact meaning is ours to fix:
 *
 * - `users` (`--users all|ID,…`): the Spotify account ids the key may see. Listing shows only those; every
 *   per-user route (get, token, delete, proxy) answers any other id with 403 `user_forbidden` — whether or
 *   not a grant exists, so a key learns nothing about users outside its list.
 * - `scopes` (`--scopes SCOPE,…`): the scopes the service needs. A Spotify token cannot be narrowed, so
 *   `GET /users/{id}/token` answers only for a grant holding *all* of them (else 403 `grant_missing_scope`,
 *   listing the missing ones) and returns the token's real scopes. The proxy refuses an endpoint whose
 *   required scopes (the spec's, any one of which suffices) include none of the key's (403
 *   `scope_forbidden`); endpoints that need no scope (the catalogue) stay open. `null` = no restriction.
 * - `proxy` (`--proxy`): whether the key may use the Web API proxy at all (else 403 `proxy_forbidden`).
 *
 * The bootstrap keys of SPOTAUTH_BROKER_KEYS have every permission.
 */
import { scopesFor } from '../api/authorized-fetch.js';

/** Spotify account ids as the broker accepts them in paths and in `--users`. */
export const ACCOUNT_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

export interface KeyPermissions {
  /** 'all', or the Spotify account ids the key may see. */
  users: 'all' | readonly string[];
  /** Scopes the service needs; null = no restriction. */
  scopes: readonly string[] | null;
  /** May use the Web API proxy. */
  proxy: boolean;
}

export const FULL_ACCESS: KeyPermissions = Object.freeze({ users: 'all', scopes: null, proxy: true });

export function maySeeUser(permissions: KeyPermissions, account: string): boolean {
  return permissions.users === 'all' || permissions.users.includes(account);
}

/** The key's scopes that a grant lacks (empty: the grant may be handed out). */
export function missingScopes(permissions: KeyPermissions, granted: readonly string[]): string[] {
  if (permissions.scopes === null) return [];
  return permissions.scopes.filter((scope) => !granted.includes(scope));
}

/**
 * Whether the key may call this Web API endpoint through the proxy (`apiPath` relative to the API base,
 * e.g. `/me/top/tracks`). Returns the endpoint's required scopes when it may not.
 */
export function endpointRefusal(
  permissions: KeyPermissions,
  method: string,
  apiPath: string,
): readonly string[] | null {
  if (permissions.scopes === null) return null;
  const required = scopesFor(method, apiPath);
  if (required.length === 0) return null;
  const held = permissions.scopes;
  return required.some((scope) => held.includes(scope)) ? null : required;
}
