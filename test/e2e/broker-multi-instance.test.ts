/**
 * The token broker on several instances (issue 13): 3 `spotauth serve` processes on one PostgreSQL, and
 * again on one Redis, behind the README's nginx, each running its webhook dispatcher and deadline scan.
 *
 * - Each webhook event is delivered by exactly one instance. Events come from everything that makes them:
 *   logins through nginx (`grant.linked`), `DELETE /api/v1/users/{id}` through nginx (`grant.deleted`), the
 *   deadline scan of all three instances (`grant.expiring`), and a burst of `grant.linked` for grants seeded
 *   in the store (as after an outage of the receiver). A real receiver counts deliveries per `webhook-id`;
 *   each instance's log says which events it sent. To make sure all three dispatchers really compete, the
 *   receiver holds the burst's first deliveries open until more are open at once than two instances can
 *   have in flight (a dispatcher claims at most CLAIM_BATCH events and waits for their answers before it
 *   claims more), so at least three senders held burst events at the same moment.
 * - A key revoked with `spotauth keys revoke` is refused by every instance within 1 s: each instance is
 *   asked directly (and nginx too), again and again, and every request *sent* more than 1 s after the
 *   command wrote the revocation must get 401. A slow machine can only make that stricter, never flaky.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, verifyWebhook } from '../../src/broker/webhooks/signing.js';
import type { NewOutboxEvent } from '../../src/stores/outbox.js';
import type { TokenRecordInput, TokenStore } from '../../src/stores/types.js';
import { grantEvents } from '../../src/tokens/grant-events.js';
import { expectMatchesSpec } from '../broker/helpers.js';
import { CLI } from '../cli/helpers.js';
import {
  Client,
  type Cluster,
  type Instance,
  logLines,
  STORES,
  startCluster,
  storeAvailable,
} from '../support/cluster.js';
import { control } from '../support/emulator.js';
import { nginxAvailable } from '../support/nginx.js';

const ready = nginxAvailable('BROKER MULTI-INSTANCE TESTS');

const SECRET = generateWebhookSecret();
const BOOTSTRAP_KEY = randomBytes(32).toString('hex');
const DAY_MS = 86_400_000;
/** The bound for a revocation to reach every instance. */
const REVOCATION_BOUND_MS = 1_000;
/** How many events one dispatcher claims at a time (src/broker/webhooks/dispatcher.ts). */
const CLAIM_BATCH = 20;
const BURST = 3 * CLAIM_BATCH + 30;
/** More deliveries open at once than two dispatchers can hold: a third one is sending too. */
const HOLD_UNTIL_OPEN = 2 * CLAIM_BATCH + 1;
const LOGIN_USERS = ['alice', 'bob', 'carol'];
const NEAR_DEADLINE = 3;

interface Delivery {
  id: string;
  type: string;
  user: string | undefined;
  verified: boolean;
}

/**
 * A webhook receiver on 127.0.0.1 that verifies every signature as the README tells receivers to and
 * answers 200 — except that, while `holding`, it parks deliveries until `holdUntilOpen` are open at once.
 */
async function startReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  const parked: ServerResponse[] = [];
  const state = { holding: false, holdUntilOpen: Number.POSITIVE_INFINITY, mostOpen: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const parsed = JSON.parse(body) as { type: string; data?: { user?: string } };
      deliveries.push({
        id: String(req.headers['webhook-id'] ?? ''),
        type: parsed.type,
        user: parsed.data?.user,
        verified: verifyWebhook(secret, req.headers as Record<string, string>, body),
      });
      if (!state.holding) {
        res.writeHead(200).end();
        return;
      }
      parked.push(res);
      state.mostOpen = Math.max(state.mostOpen, parked.length);
      if (parked.length < state.holdUntilOpen) return;
      state.holding = false;
      for (const held of parked.splice(0)) held.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    state,
    close: async () => {
      for (const held of parked.splice(0)) held.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A grant as a login would store it, its access token valid for an hour. */
function seededGrant(account: string, now: number, deadline = now + 180 * DAY_MS): TokenRecordInput {
  return {
    key: `user:${account}`,
    accessToken: `seeded-access-${account}-${randomBytes(8).toString('hex')}`,
    accessTokenExpiresAt: now + 3_600_000,
    refreshToken: `seeded-refresh-${account}-${randomBytes(8).toString('hex')}`,
    scope: ['user-read-private', 'user-read-email'],
    status: 'active',
    authorizedAt: now,
    refreshTokenDeadline: deadline,
    meta: { displayName: account },
  };
}

/** The webhook ids each instance logged as delivered. */
function deliveredBy(instance: Instance): string[] {
  return logLines(instance)
    .filter((line) => line['event'] === 'webhook_delivery' && line['ok'] === true)
    .map((line) => String(line['webhook_id']));
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Runs the built CLI with the cluster's store and keys; resolves with its stdout and when it first printed. */
function cli(
  cluster: Cluster,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; printedAt: number }> {
  const child = spawn(process.execPath, [CLI, ...args, '--store', cluster.storeUrl], {
    env: { PATH: process.env['PATH'], SPOTAUTH_ENCRYPTION_KEYS: cluster.keys },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let printedAt = Number.NaN;
  child.stdout.on('data', (chunk) => {
    if (Number.isNaN(printedAt)) printedAt = Date.now();
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr, printedAt })));
}

describe.skipIf(!ready).each(STORES)('the broker on 3 instances behind nginx, on $name', ({ kind }) => {
  let cluster: Cluster;
  let store: TokenStore;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let available = false;

  beforeAll(async () => {
    available = await storeAvailable(kind);
    if (!available) return;
    receiver = await startReceiver(SECRET);
    cluster = await startCluster({
      store: kind,
      env: {
        SPOTAUTH_BROKER_KEYS: BOOTSTRAP_KEY,
        SPOTAUTH_WEBHOOK_URLS: receiver.url,
        SPOTAUTH_WEBHOOK_SECRET: SECRET,
        SPOTAUTH_WEBHOOK_POLL_MS: '50',
        // Claims last 20 s, so a request (timeout: half the lease) is never cut off while the burst is held.
        SPOTAUTH_WEBHOOK_LEASE_MS: '20000',
        SPOTAUTH_WEBHOOK_SCAN_INTERVAL_MS: '700',
      },
    });
    store = await cluster.openStore();
  }, 90_000);
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
    await receiver?.close();
  });

  it('every webhook event is delivered once, by exactly one instance; all three send', async (context) => {
    if (!available) return context.skip();
    const now = Date.now();

    // A burst: grants stored, then their events appended in one step, held at the receiver until three
    // dispatchers have claimed some of them.
    const burst = Array.from({ length: BURST }, (_, i) => seededGrant(`burst_${i}`, now));
    await Promise.all(burst.map((grant) => store.put(grant, null)));
    const burstEvents: NewOutboxEvent[] = burst.map((grant) => grantEvents.linked(grant, now));
    receiver.state.holdUntilOpen = HOLD_UNTIL_OPEN;
    receiver.state.holding = true;
    await store.outbox.append(burstEvents);
    await until(() => receiver.deliveries.length >= BURST, 'the burst was delivered');
    expect(receiver.state.holding).toBe(false);
    expect(receiver.state.mostOpen).toBeGreaterThanOrEqual(HOLD_UNTIL_OPEN);

    // Logins through nginx: /login and /callback land on different instances; each writes grant.linked.
    const loggedIn: string[] = [];
    for (const user of LOGIN_USERS) {
      await control(cluster.emulator, 'config', { auto_approve: user });
      const { callback } = await new Client(cluster).login();
      expect(callback.status).toBe(303);
    }
    await until(
      () => receiver.deliveries.filter((d) => d.type === 'grant.linked').length >= BURST + LOGIN_USERS.length,
      'the logins were announced',
    );
    for (const delivery of receiver.deliveries.slice(BURST))
      if (delivery.type === 'grant.linked' && delivery.user) loggedIn.push(delivery.user);
    expect(loggedIn).toHaveLength(LOGIN_USERS.length);

    // Grants near the 6-month deadline: every instance's scan sees them; one grant.expiring each.
    const near = Array.from({ length: NEAR_DEADLINE }, (_, i) =>
      seededGrant(`near_${i}`, now, now + 10 * DAY_MS),
    );
    await Promise.all(near.map((grant) => store.put(grant, null)));

    // Unlinks through nginx (round-robin: every instance takes some): the logged-in users and 9 of the burst.
    const unlinked = [...loggedIn, ...burst.slice(0, 9).map((grant) => grant.key.slice('user:'.length))];
    const servers = new Set<string>();
    for (const account of unlinked) {
      const response = await fetch(`${cluster.url}/api/v1/users/${encodeURIComponent(account)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` },
      });
      expectMatchesSpec(
        'DELETE',
        '/api/v1/users/x',
        response.status,
        response.headers,
        await response.text(),
      );
      expect(response.status).toBe(204);
      servers.add(cluster.servedBy(response)?.address ?? 'unknown');
    }
    expect(servers.size).toBe(3);

    const total = BURST + LOGIN_USERS.length + NEAR_DEADLINE + unlinked.length;
    await until(() => receiver.deliveries.length >= total, `${total} deliveries arrived`);
    // Scans keep running every 700 ms on each instance, dispatchers every 50 ms: a duplicate would show now.
    await sleep(2_000);

    const events = await store.outbox.list({ limit: 1000 });
    const byType = (type: string) => events.filter((event) => event.type === type);
    expect(events).toHaveLength(total);
    expect(byType('grant.linked')).toHaveLength(BURST + LOGIN_USERS.length);
    expect(byType('grant.deleted')).toHaveLength(unlinked.length);
    expect(
      byType('grant.expiring')
        .map((event) => JSON.parse(event.payload).data.user)
        .sort(),
    ).toEqual(near.map((grant) => grant.key.slice('user:'.length)).sort());
    for (const event of events) expect(event.deliveries.map((d) => d.status)).toEqual(['delivered']);

    // The receiver: exactly one delivery per webhook id, each one an event of the outbox, all signed.
    const ids = receiver.deliveries.map((d) => d.id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect([...ids].sort()).toEqual(events.map((event) => event.id).sort());
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);

    // The instances: each event sent by exactly one, and every instance sent some of the burst.
    const sent = cluster.instances.map(deliveredBy);
    expect(sent.flat().sort()).toEqual([...ids].sort());
    const burstIds = new Set(burstEvents.map((event) => event.id));
    for (const [index, own] of sent.entries())
      expect(
        own.filter((id) => burstIds.has(id)).length,
        `instance ${index} sent none of the burst`,
      ).toBeGreaterThan(0);
  }, 120_000);

  it('a key revoked with `spotauth keys revoke` is refused by every instance within 1 s', async (context) => {
    if (!available) return context.skip();
    const account = 'revocation_probe';
    await store.put(seededGrant(account, Date.now()), null);
    const created = await cli(cluster, ['keys', 'create', '--name', 'revoked-soon', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    const path = `/api/v1/users/${account}/token`;

    interface Probe {
      target: string;
      sentAt: number;
      status: number;
    }
    const probes: Probe[] = [];
    let stopAt = Number.POSITIVE_INFINITY;
    let client = 0;
    const ask = async (target: string, send: () => Promise<Response>) => {
      while (Date.now() < stopAt) {
        const sentAt = Date.now();
        const response = await send();
        expectMatchesSpec('GET', path, response.status, response.headers, await response.text());
        probes.push({ target, sentAt, status: response.status });
        await sleep(20);
      }
    };
    // Each direct probe comes from a client address of its own, so the per-client limit on failed key
    // attempts (429) never answers in the key check's place.
    const direct = cluster.instances.map((instance) =>
      ask(instance.address, () =>
        cluster.direct(instance, path, {
          headers: {
            authorization: `Bearer ${key}`,
            'x-forwarded-for': `10.${instance.index}.${(++client >> 8) & 255}.${client & 255}`,
          },
        }),
      ),
    );
    // Through nginx, fewer: at most a handful of refusals per instance for 127.0.0.1.
    const viaNginx = ask('nginx', async () => {
      await sleep(80);
      return fetch(`${cluster.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    });

    await sleep(500);
    const revoked = await cli(cluster, ['keys', 'revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked key ${id}`);
    const revokedAt = revoked.printedAt;
    stopAt = revokedAt + REVOCATION_BOUND_MS + 700;
    await Promise.all([...direct, viaNginx]);

    for (const target of [...cluster.instances.map((instance) => instance.address), 'nginx']) {
      const mine = probes.filter((probe) => probe.target === target);
      // The key worked on this target before (else the test would prove nothing)…
      expect(
        mine.some((probe) => probe.status === 200 && probe.sentAt < revokedAt - 200),
        target,
      ).toBe(true);
      // …and after the bound, it is refused every time.
      const late = mine.filter((probe) => probe.sentAt > revokedAt + REVOCATION_BOUND_MS);
      expect(late.length, `${target} was asked after the bound`).toBeGreaterThan(0);
      expect(
        late.filter((probe) => probe.status !== 401),
        `${target} accepted a revoked key after the bound`,
      ).toEqual([]);
      const lastAccepted = Math.max(
        ...mine.filter((probe) => probe.status === 200).map((probe) => probe.sentAt),
      );
      console.info(`${kind} ${target}: last accepted ${lastAccepted - revokedAt} ms after the revocation`);
    }
    const listed = await cli(cluster, ['keys', 'list', '--json']);
    expect(
      (JSON.parse(listed.stdout) as { id: string; status: string }[]).find((k) => k.id === id)?.status,
    ).toBe('revoked');
  }, 60_000);
});
