/**
 * Grants as the broker shows them: one JSON shape for `GET /users` and `GET /users/{id}`, the list's
 * filters, and its cursor pagination. The cursor is opaque to clients (base64url of the last account id of
 * the page) and stateless, so any instance continues a listing another one started.
 */
import { byKey } from '../stores/codec.js';
import type { ListOptions, TokenRecord, UnreadableRecord } from '../stores/types.js';
import { refuse } from './errors.js';
import { ACCOUNT_ID, type KeyPermissions, maySeeUser } from './permissions.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_EXPIRING_DAYS = 3650;
const DAY_MS = 86_400_000;
const USER_PREFIX = 'user:';

export function accountOf(record: Pick<TokenRecord, 'key'>): string {
  return record.key.slice(USER_PREFIX.length);
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function grantJson(record: TokenRecord) {
  return {
    account: accountOf(record),
    display_name: record.meta?.['displayName'] ?? null,
    status: record.status,
    reauth_reason: record.reauthReason ?? null,
    reauth_at: iso(record.reauthAt),
    scope: record.scope.join(' '),
    authorized_at: new Date(record.authorizedAt).toISOString(),
    refresh_token_expires_at: iso(record.refreshTokenDeadline),
    access_token_expires_at: new Date(record.accessTokenExpiresAt).toISOString(),
  };
}

export interface ListQuery {
  status: 'active' | 'reauth_required' | undefined;
  /** Active grants whose refresh-token deadline falls within this many days. */
  expiringWithinDays: number | undefined;
  /** Grants holding every one of these scopes. */
  scopes: string[];
  limit: number;
  /** List accounts after this one. */
  after: string | undefined;
}

const LIST_PARAMS = new Set(['status', 'expiring_within', 'scope', 'limit', 'cursor']);

/** The query of `GET /users`, checked: every problem is a 400 that names the parameter. */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  for (const name of Object.keys(query)) {
    if (!LIST_PARAMS.has(name))
      throw refuse(
        'bad_request',
        `Unknown parameter ${JSON.stringify(name.slice(0, 40))}; use ${[...LIST_PARAMS].join(', ')}.`,
      );
  }
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw refuse('bad_request', `The parameter "${name}" was given twice.`);
    return value;
  };
  const status = text('status');
  if (status !== undefined && status !== 'active' && status !== 'reauth_required')
    throw refuse('bad_request', 'status must be "active" or "reauth_required".');
  const expiring = text('expiring_within');
  const expiringWithinDays =
    expiring === undefined ? undefined : wholeNumber('expiring_within', expiring, 0, MAX_EXPIRING_DAYS);
  const scopeText = text('scope');
  const scopes = scopeText === undefined ? [] : scopeText.split(/[\s,]+/).filter(Boolean);
  if (scopeText !== undefined && (scopes.length === 0 || scopes.some((s) => !/^[a-z][a-z-]{0,63}$/.test(s))))
    throw refuse('bad_request', 'scope must be one or more scope names, e.g. scope=user-top-read.');
  const limitText = text('limit');
  const limit =
    limitText === undefined ? DEFAULT_PAGE_SIZE : wholeNumber('limit', limitText, 1, MAX_PAGE_SIZE);
  const cursor = text('cursor');
  return {
    status,
    expiringWithinDays,
    scopes,
    limit,
    after: cursor === undefined ? undefined : decodeCursor(cursor),
  };
}

function wholeNumber(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < min || Number(value) > max)
    throw refuse('bad_request', `${name} must be a whole number from ${min} to ${max}.`);
  return Number(value);
}

export function encodeCursor(account: string): string {
  return Buffer.from(`a:${account}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,400}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const account = decoded.startsWith('a:') ? decoded.slice(2) : '';
  if (!ACCOUNT_ID.test(account))
    throw refuse('bad_request', 'cursor is not one this API handed out; start again without it.');
  return account;
}

/** How many stored grants one read of a `GET /users` page asks the store for. */
export const LIST_BATCH = 200;

/**
 * One page of the grants a key may see, in account order, after the filters. The store is read a range of
 * LIST_BATCH keys at a time from the cursor on, until the page is full and one more match shows there is a
 * next page, so a page opens (decrypts) about as many grants as it needs, not every stored one; keys the
 * service key may not see are skipped unread. `onUnreadable` hears of unreadable grants in the ranges read.
 */
export async function pageOfGrants(
  list: (options: ListOptions) => Promise<TokenRecord[]>,
  query: ListQuery,
  permissions: KeyPermissions,
  now: number,
  onUnreadable: (record: UnreadableRecord) => void,
): Promise<{ users: TokenRecord[]; nextCursor: string | null }> {
  const horizon =
    query.expiringWithinDays === undefined ? undefined : now + query.expiringWithinDays * DAY_MS;
  const matches = (record: TokenRecord): boolean => {
    if (query.status !== undefined && record.status !== query.status) return false;
    if (
      horizon !== undefined &&
      (record.status !== 'active' ||
        record.refreshTokenDeadline === undefined ||
        record.refreshTokenDeadline > horizon)
    )
      return false;
    return query.scopes.every((scope) => record.scope.includes(scope));
  };
  const mayList = (key: string) =>
    key.startsWith(USER_PREFIX) && maySeeUser(permissions, key.slice(USER_PREFIX.length));
  const matching: TokenRecord[] = [];
  let after = query.after === undefined ? undefined : USER_PREFIX + query.after;
  for (;;) {
    const from = after;
    // The range's filters are hints to the store (another store may return everything): applied again here.
    const inRange = (key: string) => (from === undefined || key > from) && mayList(key);
    const read: string[] = [];
    const records = await list({
      ...(from === undefined ? {} : { after: from }),
      limit: LIST_BATCH,
      include: mayList,
      onUnreadable: (record) => {
        if (!inRange(record.key)) return;
        read.push(record.key);
        onUnreadable(record);
      },
    });
    for (const record of records) {
      if (!inRange(record.key)) continue;
      read.push(record.key);
      if (matches(record)) matching.push(record);
    }
    if (matching.length > query.limit || read.length < LIST_BATCH) break;
    for (const key of read) if (after === undefined || key > after) after = key;
  }
  // In key order whatever order the store listed them in.
  matching.sort(byKey);
  const users = matching.slice(0, query.limit);
  const more = matching.length > query.limit;
  const last = users.at(-1);
  return { users, nextCursor: more && last !== undefined ? encodeCursor(accountOf(last)) : null };
}
