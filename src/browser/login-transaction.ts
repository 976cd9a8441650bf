import { isText, parseObject } from './grant-record.js';
import { unavailable, webStorageArea } from './storage.js';

/**
 * The login attempt in flight: state, PKCE verifier, redirect URI, scopes, where to return. It lives in
 * sessionStorage whatever the token storage is, because sessionStorage belongs to this one tab and
 * survives the trip to Spotify and back: the state is bound to this tab's attempt, and a callback that
 * lands in another tab finds no attempt there. Taken (removed) before it is checked, so it is single use.
 */
export interface LoginTransaction {
  state: string;
  codeVerifier: string;
  redirectUri: string;
  scope: string[];
  createdAt: number;
  /** Same-origin path to go back to after the login (where login() was called). */
  returnTo: string;
}

/** SECURITY §3.1: a login attempt lives at most 10 minutes. */
export const LOGIN_TTL_MS = 10 * 60 * 1000;

export function saveTransaction(key: string, transaction: LoginTransaction): void {
  const area = webStorageArea('sessionStorage');
  try {
    area.setItem(key, JSON.stringify(transaction));
  } catch (error) {
    throw unavailable('sessionStorage', error);
  }
}

/** The attempt stored under `key`, removed in the same step; undefined when there is none (or it is corrupt). */
export function takeTransaction(key: string): LoginTransaction | undefined {
  let text: string | null;
  try {
    const area = webStorageArea('sessionStorage');
    text = area.getItem(key);
    area.removeItem(key);
  } catch {
    return undefined;
  }
  const value = parseObject(text);
  const ok =
    value !== null &&
    isText(value['state']) &&
    isText(value['codeVerifier']) &&
    isText(value['redirectUri']) &&
    Array.isArray(value['scope']) &&
    Number.isFinite(value['createdAt']) &&
    isText(value['returnTo']);
  return ok ? (value as unknown as LoginTransaction) : undefined;
}

/**
 * A same-origin path (`/…`) or undefined: SECURITY §3.3's checks (one leading slash, no backslash or
 * control characters, at most 2 KiB, and it still resolves to this origin).
 */
export function safeReturnPath(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (!/^\/(?![/\\])/.test(value) || /[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  try {
    const url = new URL(value, origin);
    return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : undefined;
  } catch {
    return undefined;
  }
}
