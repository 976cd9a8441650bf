/**
 * The behaviour every TokenStore must have, as a vitest suite. Each backend's test file (ours, and a
 * third-party backend's through `spotauth/testing`) calls `storeContract` with a harness that opens stores on
 * a fresh, isolated namespace (a temp file, a schema, a key prefix) for every test.
 */
import { afterEach, assert, beforeEach, describe, expect, it } from 'vitest';
import { isSpotauthError, SpotauthError } from '../core/errors.js';
import type { Keyring } from '../stores/encryption.js';
import { reencryptAll } from '../stores/reencrypt.js';
import type { ListOptions, TokenRecordInput, TokenStore } from '../stores/types.js';
import { canary, keyringOf, sampleRecord, sleep } from './fixtures.js';

/** How the contract suite opens and cleans up stores of one backend, per test. */
export interface StoreHarness {
  /** Opens a store on this test's backend namespace. Calling it again = another process sharing the data. */
  makeStore(keyring?: Keyring): Promise<TokenStore>;
  /** False when every makeStore() call is an unrelated store (memory): cross-instance cases are skipped. */
  shared: boolean;
  /** Everything the backend persisted, read around the store (file bytes, DB pages, rows, Redis values). */
  readRaw?(): Promise<string>;
  /** Corrupts one byte of the stored access-token ciphertext of `key`, behind the store's back. */
  tamper?(key: string): Promise<void>;
  /** Removes what the test left behind (temp files, schema, keys), after its stores are closed. */
  cleanup(): Promise<void>;
}

/** Options of {@link storeContract}. */
export interface ContractOptions {
  /** Register the suite as skipped (e.g. the backend's service is not reachable on this machine). */
  skip?: boolean;
  /** False for the memory store, which keeps plaintext by design: its encryption cases are not registered. */
  encrypted?: boolean;
  /** Registered as a failing test instead of the suite (service required but missing under CI). */
  failure?: string;
  /**
   * False for a store whose `list` ignores the range hints (`after`, `limit`, `include`): its range cases
   * then only check that it returns at least the records in range. This package's stores honour them.
   */
  listRanges?: boolean;
}

/**
 * Registers the TokenStore contract as a vitest suite: compare-and-swap writes, listing, locks and their
 * leases, entries, the outbox, quarantine, encryption at rest (no secret in the raw bytes, tampering
 * detected, key rotation), and — for shared backends — the same behaviour across instances.
 *
 * @param name - Shown in the suite's title.
 * @param setup - Called before each test; returns the harness that test's stores come from.
 */
export function storeContract(
  name: string,
  setup: () => Promise<StoreHarness>,
  options: ContractOptions = {},
): void {
  describe(`TokenStore contract: ${name}`, () => {
    if (options.failure) {
      it('has its service available', () => {
        throw new Error(options.failure);
      });
      return;
    }
    if (options.skip) {
      it.skip('service not reachable', () => {});
      return;
    }

    let harness: StoreHarness;
    const opened: TokenStore[] = [];
    /** Default keyring: k1. */
    const open = async (keyring: Keyring = keyringOf('k1')) => {
      const store = await harness.makeStore(keyring);
      opened.push(store);
      return store;
    };
    /** Every store the lease cases run on can wait for a lock's release. */
    const waitForRelease = (store: TokenStore, name: string, timeoutMs: number): Promise<void> => {
      assert(store.waitForRelease, `the ${store.kind} store has waitForRelease`);
      return store.waitForRelease(name, timeoutMs);
    };
    /** Only the encryption cases read raw, and only encrypted backends register them. */
    const readRaw = (): Promise<string> => {
      assert(harness.readRaw, 'the harness reads the backend raw');
      return harness.readRaw();
    };

    beforeEach(async () => {
      harness = await setup();
    });
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => {});
      await harness.cleanup();
    });

    it('creates, reads, updates and deletes a record', async () => {
      const store = await open();
      expect(await store.get('user:ada')).toBeNull();
      const input = sampleRecord('user:ada');
      const created = await store.put(input, null);
      expect(created).toMatchObject({ ...input, version: 1 });
      expect(created.updatedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(await store.get('user:ada')).toEqual(created);

      const changed = {
        ...input,
        accessToken: 'at_new',
        status: 'reauth_required' as const,
        reauthReason: 'revoked' as const,
      };
      const updated = await store.put(changed, 1);
      expect(updated).toMatchObject({ ...changed, version: 2 });
      expect(await store.get('user:ada')).toEqual(updated);

      await store.delete('user:ada');
      expect(await store.get('user:ada')).toBeNull();
      await store.delete('user:ada');
    });

    it('round-trips a record without refresh token or optional fields (app token)', async () => {
      const store = await open();
      const input: TokenRecordInput = {
        key: 'app:client-1',
        accessToken: 'at_app',
        accessTokenExpiresAt: 123,
        scope: [],
        status: 'active',
        authorizedAt: 100,
      };
      const stored = await store.put(input, null);
      const read = await store.get('app:client-1');
      expect(read).toEqual(stored);
      expect(read).not.toHaveProperty('refreshToken');
      expect(read).not.toHaveProperty('meta');
    });

    it('lists by prefix, treating SQL and glob wildcards literally', async () => {
      const store = await open();
      for (const key of ['user:a', 'user:a_b', 'user:a%c', 'user:a*x', 'user:b', 'app:1', 'userx']) {
        await store.put(sampleRecord(key), null);
      }
      const keys = async (prefix?: string) => (await store.list(prefix)).map((r) => r.key);
      expect(await keys('user:a')).toEqual(['user:a', 'user:a%c', 'user:a*x', 'user:a_b']);
      expect(await keys('user:a_')).toEqual(['user:a_b']);
      expect(await keys('user:a*')).toEqual(['user:a*x']);
      expect(await keys('user:a%')).toEqual(['user:a%c']);
      expect(await keys('user:')).toHaveLength(5);
      expect(await keys()).toHaveLength(7);
      expect(await keys('nothing')).toEqual([]);
      const [first] = await store.list('user:b');
      expect(first?.accessToken).toMatch(/^at_/);
    });

    it('lists a range: keys after `after`, accepted by `include`, at most `limit`, in key order', async () => {
      const store = await open();
      for (const key of ['user:a', 'user:b', 'user:c', 'user:d', 'user:e', 'app:1']) {
        await store.put(sampleRecord(key), null);
      }
      const cases: Array<[ListOptions, string[]]> = [
        [{ after: 'user:b' }, ['user:c', 'user:d', 'user:e']],
        [{ after: 'user:b', limit: 2 }, ['user:c', 'user:d']],
        [{ limit: 0 }, []],
        [{ after: 'user:a', include: (key) => key !== 'user:c', limit: 2 }, ['user:b', 'user:d']],
        [{ after: 'user:e' }, []],
        [{ after: 'user:' }, ['user:a', 'user:b', 'user:c', 'user:d', 'user:e']],
      ];
      for (const [range, expected] of cases) {
        const listed = (await store.list('user:', range)).map((record) => record.key);
        if (options.listRanges === false) expect(listed).toEqual(expect.arrayContaining(expected));
        else expect(listed, JSON.stringify(range)).toEqual(expected);
      }
    });

    it('refuses a create-only write when the key exists', async () => {
      const store = await open();
      const first = await store.put(sampleRecord('user:ada'), null);
      const error = await store.put(sampleRecord('user:ada'), null).catch((e: unknown) => e);
      expectCode(error, 'STORE_CONFLICT');
      expect(await store.get('user:ada')).toEqual(first);
    });

    it('refuses a stale compare-and-swap and leaves the stored record unchanged', async () => {
      const store = await open();
      const input = sampleRecord('user:ada');
      await store.put(input, null);
      const current = await store.put({ ...input, accessToken: 'at_v2' }, 1);
      const error = await store.put({ ...input, accessToken: 'at_stale' }, 1).catch((e: unknown) => e);
      expectCode(error, 'STORE_CONFLICT');
      expect((error as Error).message).not.toContain('at_stale');
      expect(await store.get('user:ada')).toEqual(current);
      expectCode(await store.put(sampleRecord('user:nobody'), 3).catch((e: unknown) => e), 'STORE_CONFLICT');
      expect(await store.get('user:nobody')).toBeNull();
    });

    it('lets exactly one of 50 concurrent writers with the same expected version win', async () => {
      const a = await open();
      const b = harness.shared ? await open() : a;
      const input = sampleRecord('user:ada');
      await a.put(input, null);
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? b : a).put({ ...input, accessToken: `at_writer_${i}` }, 1),
        ),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expectCode(r.reason, 'STORE_CONFLICT');
      const stored = await a.get('user:ada');
      expect(stored?.version).toBe(2);
      expect(stored?.accessToken).toBe(
        (winners[0] as PromiseFulfilledResult<{ accessToken: string }>).value.accessToken,
      );
    });

    it('lets exactly one of 20 concurrent creators win', async () => {
      const a = await open();
      const b = harness.shared ? await open() : a;
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).put(sampleRecord('user:new'), null)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await a.get('user:new'))?.version).toBe(1);
    });

    it('gives a lock to one holder at a time, also across store instances', async () => {
      const a = await open();
      const first = await a.tryLock('refresh:user:ada', 10_000);
      expect(first).not.toBeNull();
      expect(await a.tryLock('refresh:user:ada', 10_000)).toBeNull();
      if (harness.shared) {
        const b = await open();
        expect(await b.tryLock('refresh:user:ada', 10_000)).toBeNull();
      }
      const other = await a.tryLock('refresh:user:bob', 10_000);
      expect(other).not.toBeNull();
      await first?.release();
      const again = await a.tryLock('refresh:user:ada', 10_000);
      expect(again).not.toBeNull();
      await again?.release();
      await other?.release();
    });

    it('lets a lock expire after its ttl, and a late release does not free the new holder', async () => {
      const a = await open();
      const b = harness.shared ? await open() : a;
      const crashed = await a.tryLock('refresh:user:ada', 200);
      expect(crashed).not.toBeNull();
      expect(await b.tryLock('refresh:user:ada', 10_000)).toBeNull();
      await sleep(400);
      const successor = await b.tryLock('refresh:user:ada', 10_000);
      assert(successor, 'the lock is free');
      await crashed?.release();
      expect(await a.tryLock('refresh:user:ada', 10_000)).toBeNull();
      await successor?.release();
      const next = await a.tryLock('refresh:user:ada', 10_000);
      assert(next, 'the lock is free');
      await next?.release();
    });

    describe('leases', () => {
      it('a renewed lease outlives its first ttl and is not taken', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        const lease = await a.tryLock('refresh:user:ada', 1_000);
        assert(lease, 'the lock was free');
        expect(await lease.renew(30_000)).toBe(true);
        await sleep(1_300);
        expect(await b.tryLock('refresh:user:ada', 10_000)).toBeNull();
        expect(await lease.renew(30_000)).toBe(true);
        expect(await b.tryLock('refresh:user:ada', 10_000)).toBeNull();
        await lease.release();
        const next = await b.tryLock('refresh:user:ada', 10_000);
        assert(next, 'the lock is free');
        await next.release();
      });

      it('a lease that ran out stays lost: renew fails, and never takes a successor’s lock', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        const lapsed = await a.tryLock('refresh:user:ada', 200);
        assert(lapsed, 'the lock was free');
        await sleep(400);
        // Ran out, not yet taken: still lost (as in Redis, where the key is gone).
        expect(await lapsed.renew(10_000)).toBe(false);
        const successor = await b.tryLock('refresh:user:ada', 10_000);
        assert(successor, 'the lock is free');
        expect(await lapsed.renew(10_000)).toBe(false);
        expect(await a.tryLock('refresh:user:ada', 10_000)).toBeNull();
        expect(await successor.renew(10_000)).toBe(true);
        await successor.release();
        expect(await successor.renew(10_000)).toBe(false);
      });

      it('wakes a waiter when the holder releases (same instance and another one), not before', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        const lease = await a.tryLock('refresh:user:ada', 30_000);
        assert(lease, 'the lock was free');
        const outcome = (wait: Promise<void>) =>
          Promise.race([wait.then(() => 'woke' as const), sleep(15_000).then(() => 'hung' as const)]);
        const waiters = [outcome(waitForRelease(a, 'refresh:user:ada', 25_000))];
        if (b !== a) waiters.push(outcome(waitForRelease(b, 'refresh:user:ada', 25_000)));
        let settled = 0;
        for (const w of waiters) void w.then(() => settled++);
        await sleep(300);
        expect(settled).toBe(0);
        await lease.release();
        expect(await Promise.all(waiters)).toEqual(waiters.map(() => 'woke'));
        const next = await b.tryLock('refresh:user:ada', 10_000);
        assert(next, 'the lock is free');
        await next.release();
      });

      it('keeps a waiter waiting while the holder renews', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        const lease = await a.tryLock('refresh:user:ada', 600);
        assert(lease, 'the lock was free');
        let woke = false;
        const wait = waitForRelease(b, 'refresh:user:ada', 25_000).then(() => {
          woke = true;
        });
        for (let i = 0; i < 6; i++) {
          expect(await lease.renew(3_000)).toBe(true);
          await sleep(250);
        }
        expect(woke).toBe(false);
        await lease.release();
        await Promise.race([wait, sleep(15_000)]);
        expect(woke).toBe(true);
      });

      it('wakes a waiter when a crashed holder’s lease runs out', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await a.tryLock('refresh:user:ada', 300); // never renewed, never released
        const woke = await Promise.race([
          waitForRelease(b, 'refresh:user:ada', 20_000).then(() => true),
          sleep(15_000).then(() => false),
        ]);
        expect(woke).toBe(true);
        const next = await b.tryLock('refresh:user:ada', 10_000);
        assert(next, 'the lock is free');
        await next.release();
      });

      it('returns at once for a free lock, and at its timeout for a held one (still held)', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await waitForRelease(a, 'refresh:user:nobody', 20_000);
        const lease = await a.tryLock('refresh:user:ada', 30_000);
        assert(lease, 'the lock was free');
        await waitForRelease(b, 'refresh:user:ada', 100);
        expect(await b.tryLock('refresh:user:ada', 10_000)).toBeNull();
        await lease.release();
      });
    });

    describe('entries (sessions, login transactions)', () => {
      it('puts, gets, replaces and deletes an entry, also across store instances', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        expect(await a.entries.get('session', 'id1')).toBeNull();
        await a.entries.put('session', { id: 'id1', value: '{"user":"ada"}', tag: 'user:ada' });
        expect(await b.entries.get('session', 'id1')).toEqual({
          id: 'id1',
          value: '{"user":"ada"}',
          tag: 'user:ada',
        });
        await b.entries.put('session', { id: 'id1', value: 'v2', expiresAt: Date.now() + 60_000 });
        expect(await a.entries.get('session', 'id1')).toMatchObject({ value: 'v2' });
        expect((await a.entries.get('session', 'id1'))?.tag).toBeUndefined();
        expect(await a.entries.get('login', 'id1')).toBeNull();
        expect(await b.entries.delete('session', 'id1')).toBe(true);
        expect(await a.entries.get('session', 'id1')).toBeNull();
        expect(await a.entries.delete('session', 'id1')).toBe(false);
      });

      it('hides expired entries and purges them', async () => {
        const store = await open();
        await store.entries.put('login', { id: 'old', value: 'x', expiresAt: Date.now() + 150 });
        await store.entries.put('login', { id: 'new', value: 'y', expiresAt: Date.now() + 60_000 });
        await store.entries.put('login', { id: 'kept', value: 'z' });
        await sleep(250);
        expect(await store.entries.get('login', 'old')).toBeNull();
        expect(await store.entries.take('login', 'old')).toBeNull();
        expect((await store.entries.list('login')).map((entry) => entry.id)).toEqual(['kept', 'new']);
        await store.entries.purgeExpired();
        expect((await store.entries.list('login')).map((entry) => entry.id)).toEqual(['kept', 'new']);
      });

      it('gives an entry to exactly one of 20 concurrent takers across instances', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await a.entries.put('login', { id: 'tx', value: 'secret-verifier', expiresAt: Date.now() + 60_000 });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).entries.take('login', 'tx')),
        );
        expect(results.filter((entry) => entry !== null)).toEqual([
          { id: 'tx', value: 'secret-verifier', expiresAt: expect.any(Number) },
        ]);
        expect(await a.entries.get('login', 'tx')).toBeNull();
      });

      it("deletes by tag: every session of one user, no one else's", async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        const later = Date.now() + 60_000;
        await a.entries.put('session', { id: 's1', value: '1', tag: 'user:ada', expiresAt: later });
        await b.entries.put('session', { id: 's2', value: '2', tag: 'user:ada' });
        await a.entries.put('session', { id: 's3', value: '3', tag: 'user:bob', expiresAt: later });
        await a.entries.put('session', { id: 's4', value: '4', tag: 'user:ada', expiresAt: later });
        await a.entries.put('session', { id: 's4', value: '4', tag: 'user:cy', expiresAt: later });
        expect(await b.entries.deleteByTag('session', 'user:ada')).toBe(2);
        expect((await a.entries.list('session')).map((entry) => entry.id)).toEqual(['s3', 's4']);
        expect(await a.entries.deleteByTag('session', 'user:nobody')).toBe(0);
      });

      it('updates only an entry that still exists: a deleted one is never brought back', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await a.entries.put('session', {
          id: 'u1',
          value: 'v1',
          tag: 'user:ada',
          expiresAt: Date.now() + 60_000,
        });
        expect(
          await b.entries.update('session', {
            id: 'u1',
            value: 'v2',
            tag: 'user:ada',
            expiresAt: Date.now() + 60_000,
          }),
        ).toBe(true);
        expect(await a.entries.get('session', 'u1')).toMatchObject({ value: 'v2' });
        await a.entries.delete('session', 'u1');
        expect(await b.entries.update('session', { id: 'u1', value: 'v3', tag: 'user:ada' })).toBe(false);
        expect(await a.entries.get('session', 'u1')).toBeNull();
        await a.entries.put('session', { id: 'u2', value: 'old', expiresAt: Date.now() + 100 });
        await sleep(200);
        expect(await a.entries.update('session', { id: 'u2', value: 'new' })).toBe(false);
        expect(await a.entries.get('session', 'u2')).toBeNull();
      });

      if (options.encrypted !== false)
        it('re-encrypts entries under the active key, so the old key can go', async () => {
          const before = await open(keyringOf('k1'));
          await before.entries.put('broker_key', { id: 'key1', value: 'service-key-record' });
          await before.entries.put('session', {
            id: 's1',
            value: 'session',
            tag: 'user:ada',
            expiresAt: Date.now() + 60_000,
          });
          const rotated = await open(keyringOf('k1', 'k2'));
          expect(await rotated.entries.reencrypt()).toBe(2);
          expect(await rotated.entries.reencrypt()).toBe(0);
          const after = await open(keyringOf('k2'));
          expect(await after.entries.get('broker_key', 'key1')).toMatchObject({
            value: 'service-key-record',
          });
          expect(await after.entries.get('session', 's1')).toMatchObject({
            value: 'session',
            tag: 'user:ada',
          });
        });

      if (options.encrypted !== false)
        it('never persists an entry value in plaintext, and binds it to its id', async () => {
          const store = await open();
          const secret = canary();
          await store.entries.put('login', { id: 'tx1', value: secret, expiresAt: Date.now() + 60_000 });
          expect(await readRaw()).not.toContain(secret);
          const other = await open(keyringOf('k2'));
          expectCode(await other.entries.get('login', 'tx1').catch((e: unknown) => e), 'KEY_UNKNOWN');
        });
    });

    describe('webhook outbox', () => {
      const event = (id: string) => ({ id, type: 'grant.linked', payload: `{"n":"${id}"}` });

      it('appends events with the write that causes them, and none when the write fails', async () => {
        const store = await open();
        const created = await store.put(sampleRecord('user:ada'), null, {
          events: [event('e1'), event('e2')],
        });
        await expect(
          store.put(sampleRecord('user:ada'), null, { events: [event('lost1')] }),
        ).rejects.toThrow();
        await expect(
          store.put(sampleRecord('user:ada'), created.version + 5, { events: [event('lost2')] }),
        ).rejects.toThrow();
        await store.delete('user:nobody', { events: [event('lost3')] });
        await store.delete('user:ada', { events: [event('e3')] });
        expect(await store.get('user:ada')).toBeNull();
        const listed = await store.outbox.list();
        expect(listed.map((e) => e.id).sort()).toEqual(['e1', 'e2', 'e3']);
        expect(listed.find((e) => e.id === 'e1')).toMatchObject({
          type: 'grant.linked',
          payload: '{"n":"e1"}',
          deliveries: [],
          nextAttemptAt: expect.any(Number),
        });
      });

      it('gives each due event to one claimer at a time, across instances', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await a.outbox.append(Array.from({ length: 12 }, (_, i) => event(`c${i}`)));
        const rounds = await Promise.all([a, b, a, b].map((store) => store.outbox.claim(5, 60_000)));
        const ids = rounds.flat().map((claimed) => claimed.id);
        expect(ids.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `c${i}`).sort());
        expect(await a.outbox.claim(5, 60_000)).toEqual([]);
      });

      it('settles only with the live claim; a lapsed claim lets another sender take the event', async () => {
        const a = await open();
        const b = harness.shared ? await open() : a;
        await a.outbox.append([event('s1')]);
        const [first] = await a.outbox.claim(1, 100);
        expect(first).toMatchObject({ id: 's1', claim: expect.any(String) });
        await sleep(200);
        const [second] = await b.outbox.claim(1, 60_000);
        expect(second?.id).toBe('s1');
        assert(first && second, 'both claims were made');
        const delivered = [
          {
            url: 'https://hooks.example/x',
            status: 'delivered' as const,
            attempts: 1,
            deliveredAt: Date.now(),
          },
        ];
        expect(await a.outbox.settle('s1', first.claim, delivered, null)).toBe(false);
        expect(await b.outbox.settle('s1', second.claim, delivered, null)).toBe(true);
        expect(await a.outbox.get('s1')).toMatchObject({ nextAttemptAt: null, deliveries: delivered });
        expect(await a.outbox.claim(5, 60_000)).toEqual([]);
        expect(await a.outbox.list({ pendingOnly: true })).toEqual([]);
      });

      it('retries a failed event on demand, and purges settled old events', async () => {
        const store = await open();
        await store.outbox.append([event('r1'), event('r2')]);
        const claimed = await store.outbox.claim(2, 60_000);
        const failed = [
          { url: 'https://hooks.example/x', status: 'failed' as const, attempts: 15, lastError: 'HTTP 500' },
        ];
        for (const { id, claim } of claimed)
          expect(await store.outbox.settle(id, claim, failed, null)).toBe(true);
        expect(await store.outbox.retry('r1')).toBe(true);
        expect(await store.outbox.retry('nope')).toBe(false);
        const again = await store.outbox.claim(5, 60_000);
        expect(again.map((e) => e.id)).toEqual(['r1']);
        const [retried] = again;
        assert(retried, 'the retried event was claimed');
        expect(retried.deliveries).toEqual([
          {
            url: 'https://hooks.example/x',
            status: 'pending',
            attempts: 0,
            nextAttemptAt: expect.any(Number),
            lastError: 'HTTP 500',
          },
        ]);
        await sleep(20);
        expect(await store.outbox.purge(1)).toBe(1);
        expect(await store.outbox.get('r2')).toBeNull();
        expect(await store.outbox.get('r1')).not.toBeNull();
      });
    });

    it('returns copies: mutating a returned record does not change the store', async () => {
      const store = await open();
      const stored = await store.put(sampleRecord('user:ada'), null);
      stored.scope.push('mutated');
      (await store.get('user:ada'))?.scope.push('mutated-too');
      expect((await store.get('user:ada'))?.scope).not.toContain('mutated');
      expect((await store.get('user:ada'))?.scope).not.toContain('mutated-too');
    });

    it('describes itself without secrets', async () => {
      const store = await open();
      expect(store.describe()).toBeTypeOf('string');
      expect(store.describe()).not.toMatch(/:[^:@/]+@/);
    });

    it('declares its encryption capability', async () => {
      const keyring = keyringOf('k1', 'k2');
      const store = await open(keyring);
      if (options.encrypted === false) {
        expect(store.encryption).toBeNull();
        return;
      }
      // Key rotation trusts this: a store that left it out would report every record as current.
      expect(store.encryption, 'an encrypting store must expose `encryption`').toBeTruthy();
      expect(store.encryption?.activeKid).toBe(keyring.activeKid);
      await store.put(sampleRecord('user:ada'), null);
      expect(await store.encryption?.keyIdsInUse()).toEqual([{ key: 'user:ada', kids: ['k2'] }]);
    });

    if (options.encrypted !== false)
      describe('encryption at rest', () => {
        it('never persists a token in plaintext', async () => {
          const store = await open();
          const access = canary();
          const refresh = canary();
          await store.put(sampleRecord('user:ada', { accessToken: access, refreshToken: refresh }), null);
          await store.put(sampleRecord('user:ada', { accessToken: access, refreshToken: refresh }), 1);
          await store.tryLock('refresh:user:ada', 10_000);
          const raw = await readRaw();
          expect(raw).toContain('user:ada');
          expect(raw).toContain('v1.k1.');
          expect(raw).not.toContain(access);
          expect(raw).not.toContain(refresh);
          expect(raw).not.toContain('tok_CANARY_');
          expect(await store.get('user:ada')).toMatchObject({ accessToken: access, refreshToken: refresh });
        });

        it('detects a tampered ciphertext (DECRYPT_FAILED, not "logged out")', async () => {
          if (!harness.tamper || !harness.readRaw)
            throw new Error('an encrypted backend must provide tamper and readRaw');
          const store = await open();
          const access = canary();
          await store.put(sampleRecord('user:ada', { accessToken: access }), null);
          await harness.tamper('user:ada');
          const error = await store.get('user:ada').catch((e: unknown) => e);
          expectCode(error, 'DECRYPT_FAILED');
          expect((error as Error).message).toContain('user:ada');
          expect((error as Error).message).not.toContain(access);
          expectCode(await store.list('user:').catch((e: unknown) => e), 'DECRYPT_FAILED');
        });

        it('rotates keys: old rows stay readable, reencryptAll moves them to the new key', async () => {
          const v1 = await open(keyringOf('k1'));
          const ada = await v1.put(sampleRecord('user:ada'), null);
          const app = await v1.put(sampleRecord('app:1', { refreshToken: undefined }), null);
          await v1.close();

          const rotated = await open(keyringOf('k1', 'k2'));
          expect(await rotated.get('user:ada')).toEqual(ada);
          const fresh = await rotated.put(sampleRecord('user:bob'), null);
          const raw = await readRaw();
          expect(raw).toContain('v1.k1.');
          expect(raw).toContain('v1.k2.');

          const result = await reencryptAll(rotated);
          expect(result).toEqual({ scanned: 3, rewritten: 2, current: 1, skipped: 0, entriesRewritten: 0 });
          expect(await reencryptAll(rotated)).toEqual({
            scanned: 3,
            rewritten: 0,
            current: 3,
            skipped: 0,
            entriesRewritten: 0,
          });
          const kids = (await rotated.encryption?.keyIdsInUse()) ?? [];
          expect(kids.map((k) => k.kids)).toEqual([['k2'], ['k2'], ['k2']]);
          await rotated.close();

          const retired = await open(keyringOf('k2'));
          expect(await retired.get('user:ada')).toMatchObject({
            accessToken: ada.accessToken,
            refreshToken: ada.refreshToken,
            version: 2,
          });
          expect(await retired.get('app:1')).toMatchObject({ accessToken: app.accessToken, version: 2 });
          expect(await retired.get('user:bob')).toEqual(fresh);
        });

        it('reports a row encrypted under a key missing from the keyring as KEY_UNKNOWN', async () => {
          const writer = await open(keyringOf('k1'));
          const access = canary();
          await writer.put(sampleRecord('user:ada', { accessToken: access }), null);
          const reader = await open(keyringOf('k3'));
          const error = await reader.get('user:ada').catch((e: unknown) => e);
          expectCode(error, 'KEY_UNKNOWN');
          expect((error as Error).message).toContain("'k1' which is not in the keyring");
          expect((error as Error).message).not.toContain(access);
        });

        it('rejects a keyring with the right kid but the wrong key (DECRYPT_FAILED)', async () => {
          const writer = await open(keyringOf('k1'));
          await writer.put(sampleRecord('user:ada'), null);
          const { Keyring } = await import('../../src/stores/encryption.js');
          const impostor = await open(new Keyring({ k1: Buffer.alloc(32, 7) }));
          expectCode(await impostor.get('user:ada').catch((e: unknown) => e), 'DECRYPT_FAILED');
        });

        it('lists around unreadable records when asked, reporting each by key; throws otherwise', async () => {
          const writer = await open(keyringOf('k1'));
          await writer.put(sampleRecord('user:ada'), null);
          const reader = await open(keyringOf('k1', 'k2'));
          await reader.put(sampleRecord('user:bob'), null);
          const other = await open(keyringOf('k2'));
          expectCode(await other.list('user:').catch((e: unknown) => e), 'KEY_UNKNOWN');
          const unreadable: Array<{ key: string; code: string }> = [];
          const listed = await other.list('user:', { onUnreadable: (record) => unreadable.push(record) });
          expect(listed.map((record) => record.key)).toEqual(['user:bob']);
          expect(unreadable).toEqual([{ key: 'user:ada', code: 'KEY_UNKNOWN' }]);
          if (harness.tamper) {
            await harness.tamper('user:bob');
            unreadable.length = 0;
            expect(await reader.list('user:', { onUnreadable: (r) => unreadable.push(r) })).toHaveLength(1);
            expect(unreadable).toEqual([{ key: 'user:bob', code: 'DECRYPT_FAILED' }]);
          }
        });

        it.skipIf(options.listRanges === false)(
          'opens nothing outside a listed range: an unreadable record there is not reported',
          async () => {
            const writer = await open(keyringOf('k1'));
            await writer.put(sampleRecord('user:ada'), null);
            const reader = await open(keyringOf('k1', 'k2'));
            await reader.put(sampleRecord('user:bob'), null);
            const other = await open(keyringOf('k2'));
            const unreadable: Array<{ key: string; code: string }> = [];
            const onUnreadable = (record: { key: string; code: string }) => unreadable.push(record);
            const keys = async (range: ListOptions) =>
              (await other.list('user:', { ...range, onUnreadable })).map((record) => record.key);
            expect(await keys({ after: 'user:ada' })).toEqual(['user:bob']);
            expect(await keys({ include: (key) => key !== 'user:ada' })).toEqual(['user:bob']);
            expect(unreadable).toEqual([]);
            // An unreadable record in range counts towards the limit, and is reported.
            expect(await keys({ limit: 1 })).toEqual([]);
            expect(unreadable).toEqual([{ key: 'user:ada', code: 'KEY_UNKNOWN' }]);
          },
        );

        it('quarantines an unreadable record: moved aside, gone from the store, its key free again', async () => {
          const writer = await open(keyringOf('k1'));
          const access = canary();
          await writer.put(sampleRecord('user:ada', { accessToken: access }), null);
          await writer.put(sampleRecord('user:bob'), null);
          const reader = await open(keyringOf('k2'));
          const location = await reader.quarantine('user:ada');
          expect(location).toEqual(expect.any(String));
          expect(location).not.toContain(access);
          expect(await reader.get('user:ada')).toBeNull();
          expect(await writer.get('user:ada')).toBeNull();
          expect((await writer.list('user:')).map((record) => record.key)).toEqual(['user:bob']);
          const fresh = await reader.put(sampleRecord('user:ada'), null);
          expect(await reader.get('user:ada')).toEqual(fresh);
          expect(await reader.quarantine('user:nobody')).toBeNull();
        });
      });
  });
}

/** Asserts that `error` is a `SpotauthError` with this code (a vitest assertion). */
export function expectCode(error: unknown, code: SpotauthError['code']): void {
  expect(error, `expected a SpotauthError ${code}`).toBeInstanceOf(SpotauthError);
  expect(isSpotauthError(error) && error.code).toBe(code);
}
