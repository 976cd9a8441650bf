import type { ReauthReason } from '../core/grant.js';
import type { TokenRecord } from '../stores/types.js';

/**
 * The stored grant is the same TokenRecord every spotauth store holds (one token JSON shape), with
 * `meta.grantId` naming the login it came from, so a logout can tell its own grant from a newer login.
 */

/** The login's state without its tokens, safe to show or keep in app state. */
export interface BrowserSession {
  /** `'reauth_required'`: Spotify refused the refresh token for good; call `login()` again. */
  status: 'active' | 'reauth_required';
  /** Why, when `status` is `'reauth_required'`. */
  reauthReason?: ReauthReason | undefined;
  /** Granted scopes, as Spotify returned them. */
  scope: string[];
  /** When the current access token expires (epoch ms); it is refreshed before that. */
  accessTokenExpiresAt: number;
  /** The user's consent (epoch ms). */
  authorizedAt: number;
  /** When Spotify will refuse the refresh token (authorizedAt + 6 months): ask to log in again before. */
  refreshTokenDeadline: number | undefined;
}

/** A grant as the browser stores it: never without a refresh token (parseRecord drops such a value). */
export interface BrowserGrant extends TokenRecord {
  refreshToken: string;
}

const REAUTH_REASONS = new Set<string>(['revoked', 'expired', 'invalid_client']);

/** A stored JSON object, or null for anything else (truncated JSON, another library's `"undefined"`, …). */
export function parseObject(text: string | null): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text ?? '');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export const isText = (value: unknown): value is string => typeof value === 'string';
const isNumber = Number.isFinite;

/**
 * A stored value back to a record; anything malformed (truncated JSON, another library's `"undefined"`,
 * a missing refresh token) is null: it cannot be used, and treating it as "not logged in" asks for a
 * fresh login instead of failing forever.
 */
export function parseRecord(text: string | null): BrowserGrant | null {
  const r = parseObject(text);
  const valid =
    r !== null &&
    isText(r['key']) &&
    isText(r['accessToken']) &&
    isText(r['refreshToken']) &&
    r['refreshToken'] !== '' &&
    isNumber(r['accessTokenExpiresAt']) &&
    isNumber(r['authorizedAt']) &&
    Number.isInteger(r['version']) &&
    isNumber(r['updatedAt']) &&
    Array.isArray(r['scope']) &&
    r['scope'].every(isText) &&
    (r['status'] === 'active' || r['status'] === 'reauth_required') &&
    (r['reauthReason'] === undefined || REAUTH_REASONS.has(r['reauthReason'] as string)) &&
    (r['refreshTokenDeadline'] === undefined || isNumber(r['refreshTokenDeadline'])) &&
    (r['meta'] === undefined || (typeof r['meta'] === 'object' && r['meta'] !== null));
  return valid ? (r as unknown as BrowserGrant) : null;
}

export function grantIdOf(record: TokenRecord | null): string | undefined {
  return record?.meta?.['grantId'];
}

export function sessionOf(record: TokenRecord): BrowserSession {
  return {
    status: record.status,
    reauthReason: record.reauthReason,
    scope: [...record.scope],
    accessTokenExpiresAt: record.accessTokenExpiresAt,
    authorizedAt: record.authorizedAt,
    refreshTokenDeadline: record.refreshTokenDeadline,
  };
}
