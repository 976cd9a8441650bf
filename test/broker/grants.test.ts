// GET /api/v1/users pages read the store a range at a time (pageOfGrants), on a real encrypted SQLite store:
// a page opens about as many grants as it shows, a walk through every page sees every grant once in account
// order, and a store that ignores the range hints gives the same pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_BATCH, type ListQuery, pageOfGrants } from '../../src/broker/grants.js';
import { FULL_ACCESS, type KeyPermissions } from '../../src/broker/permissions.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import type { ListOptions, TokenRecord, UnreadableRecord } from '../../src/stores/types.js';
import { keyringOf, sampleRecord } from '../stores/helpers.js';

const USERS = 2 * LIST_BATCH + 57;
const account = (i: number) => `acct_${String(i).padStart(4, '0')}`;

describe('GET /users pages read the store a range at a time', () => {
  let dir: string;
  let store: SqliteStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotauth-grants-'));
    store = await SqliteStore.open(join(dir, 'store.sqlite'), { keyring: keyringOf('k1') });
    for (let i = 0; i < USERS; i++) {
      // Every tenth grant needs a new login: the status filter then skips most of each range.
      await store.put(
        sampleRecord(`user:${account(i)}`, i % 10 === 0 ? { status: 'reauth_required' } : {}),
        null,
      );
    }
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Lists through the store, counting the grants it opened (decrypted) and the reads. */
  function counting(honourRanges = true) {
    const count = { reads: 0, opened: 0 };
    const list = async (options: ListOptions): Promise<TokenRecord[]> => {
      count.reads++;
      const listed = await store.list(
        'user:',
        honourRanges ? options : { onUnreadable: options.onUnreadable },
      );
      count.opened += listed.length;
      return listed;
    };
    return { list, count };
  }

  const query = (overrides: Partial<ListQuery> = {}): ListQuery => ({
    status: undefined,
    expiringWithinDays: undefined,
    scopes: [],
    limit: 50,
    after: undefined,
    ...overrides,
  });
  const noUnreadable = (record: UnreadableRecord) => {
    throw new Error(`unexpected unreadable ${record.key}`);
  };

  async function walk(
    list: (options: ListOptions) => Promise<TokenRecord[]>,
    base: ListQuery,
    permissions: KeyPermissions = FULL_ACCESS,
  ): Promise<string[]> {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < USERS; pages++) {
      const page = await pageOfGrants(list, { ...base, after }, permissions, Date.now(), noUnreadable);
      seen.push(...page.users.map((record) => record.key.slice('user:'.length)));
      if (page.nextCursor === null) return seen;
      after = seen.at(-1);
    }
    throw new Error('the walk did not end');
  }

  it('a first page opens one range of grants, not every stored one', async () => {
    const { list, count } = counting();
    const page = await pageOfGrants(list, query(), FULL_ACCESS, Date.now(), noUnreadable);
    expect(page.users.map((r) => r.key)).toEqual(Array.from({ length: 50 }, (_, i) => `user:${account(i)}`));
    expect(page.nextCursor).not.toBeNull();
    expect(count).toEqual({ reads: 1, opened: LIST_BATCH });
  });

  it('walking every page sees every grant once, in account order, with or without filters', async () => {
    const all = Array.from({ length: USERS }, (_, i) => account(i));
    const { list, count } = counting();
    expect(await walk(list, query({ limit: 200 }))).toEqual(all);
    // Each page reads what it needs: about USERS grants opened in all, not USERS per page.
    expect(count.opened).toBeLessThan(2 * USERS);
    const reauth = all.filter((_, i) => i % 10 === 0);
    expect(await walk(list, query({ status: 'reauth_required', limit: 7 }))).toEqual(reauth);
    const active = all.filter((_, i) => i % 10 !== 0);
    expect(await walk(list, query({ status: 'active', limit: 200 }))).toEqual(active);
  });

  it('a key limited to some users opens only theirs', async () => {
    const users = [account(3), account(250), account(USERS - 1)];
    const { list, count } = counting();
    const limited: KeyPermissions = { users, scopes: null, proxy: false };
    expect(await walk(list, query({ limit: 2 }), limited)).toEqual(users);
    expect(count.opened).toBeLessThanOrEqual(users.length * 2);
  });

  it('a store that ignores the range hints gives the same pages', async () => {
    const honoured = counting(true);
    const ignored = counting(false);
    for (const base of [query({ limit: 200 }), query({ status: 'reauth_required', limit: 9 })]) {
      expect(await walk(ignored.list, base)).toEqual(await walk(honoured.list, base));
    }
    const limited: KeyPermissions = { users: [account(1), account(400)], scopes: null, proxy: false };
    expect(await walk(ignored.list, query({ limit: 1 }), limited)).toEqual([account(1), account(400)]);
  });
});
