/**
 * A revoked or expired key gets 401 on every instance within 1 s: two server instances on one SQLite file
 * (each with its own store connection and key cache), the key created and revoked through a third
 * connection, as `spotauth keys revoke` does. The bound is checked on when requests were *sent*, so a slow
 * machine can only make the test stricter, never flaky: every request sent more than 1 s after the
 * revocation had returned must be refused, on both instances.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerKeys } from '../../src/broker/keys.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import { keyringOf } from '../stores/helpers.js';
import { startTestEmulator } from '../support/emulator.js';
import { must } from '../support/must.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectMatchesSpec } from './helpers.js';

const BOUND_MS = 1000;

interface Probe {
  instance: number;
  sentAt: number;
  status: number;
}

/** Asks every instance, again and again, until `until` (epoch ms) has passed. */
async function probe(servers: TestServer[], key: string, until: number): Promise<Probe[]> {
  const probes: Probe[] = [];
  await Promise.all(
    servers.map(async (server, instance) => {
      while (Date.now() < until) {
        const sentAt = Date.now();
        const response = await fetch(`${server.url}/api/v1/users?limit=1`, {
          headers: { authorization: `Bearer ${key}` },
        });
        expectMatchesSpec('GET', '/api/v1/users', response.status, response.headers, await response.text());
        probes.push({ instance, sentAt, status: response.status });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
  );
  return probes;
}

function expectRefusedAfter(probes: Probe[], from: number, instances: number): void {
  for (let instance = 0; instance < instances; instance++) {
    const late = probes.filter((p) => p.instance === instance && p.sentAt > from);
    expect(late.length, `instance ${instance} was asked after the bound`).toBeGreaterThan(0);
    expect(
      late.filter((p) => p.status !== 401),
      `instance ${instance} answered a revoked key after the bound`,
    ).toEqual([]);
  }
}

describe('key revocation across instances on one SQLite file', () => {
  let dir: string;
  let emulator: RunningEmulator;
  let servers: TestServer[];
  let admin: SqliteStore;
  let keys: BrokerKeys;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotauth-broker-revoke-'));
    const path = join(dir, 'spotauth.sqlite');
    emulator = await startTestEmulator();
    servers = [];
    for (let i = 0; i < 2; i++) {
      const store = await SqliteStore.open(path, { keyring: keyringOf('k1') });
      servers.push(
        await startTestServer({ store, sharedEmulator: emulator, broker: { failedKeyLimit: 10_000 } }),
      );
    }
    admin = await SqliteStore.open(path, { keyring: keyringOf('k1') });
    keys = new BrokerKeys(admin.entries);
  });
  afterAll(async () => {
    for (const server of servers) {
      await server.close();
      await server.store.close();
    }
    await admin.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a key created elsewhere works on both instances; once revoked, both refuse it within 1 s', async () => {
    const { key } = await keys.create({ name: 'revoked soon' });
    const warm = await probe(servers, key, Date.now() + 300);
    expect(warm.length).toBeGreaterThan(1);
    expect(warm.every((p) => p.status === 200)).toBe(true);

    const polling = probe(servers, key, Date.now() + 2 * BOUND_MS + 500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { id } = must(
      (await keys.list()).find((k) => k.name === 'revoked soon'),
      "(await keys.list()).find((k) => k.name === 'revoked soon')",
    );
    await keys.revoke(id);
    const revokedAt = Date.now();
    const probes = await polling;
    expectRefusedAfter(probes, revokedAt + BOUND_MS, servers.length);
    // Both instances did see the key as valid before (the test would prove nothing otherwise).
    for (let instance = 0; instance < servers.length; instance++)
      expect(probes.some((p) => p.instance === instance && p.status === 200 && p.sentAt < revokedAt)).toBe(
        true,
      );
  });

  it('an expired key is refused by both instances from its expiry on', async () => {
    const expiresAt = Date.now() + 600;
    const { key } = await keys.create({ name: 'expiring', expiresAt });
    const probes = await probe(servers, key, expiresAt + BOUND_MS + 500);
    expect(probes.some((p) => p.status === 200 && p.sentAt < expiresAt - 100)).toBe(true);
    expectRefusedAfter(probes, expiresAt + BOUND_MS, servers.length);
    expect((await keys.list()).find((k) => k.name === 'expiring')?.status).toBe('expired');
  });
});
