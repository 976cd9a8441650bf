// getAccessToken for a cached, valid token: sequential ops/s per store against a plain Map.get baseline measured
// in the same run, then SQLite and PostgreSQL with 1k vs 1M stored users (lookup time should not grow with users).
// The looked-up users are real encrypted records (saveGrant → store.put); the filler rows are bulk-inserted with SQL.
// Prints readable tables and one JSON line per case starting with {"bench":"token-lookup"}.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStore, Keyring, SpotifyAuth, TokenManager } from '../dist/index.js';
import {
  BENCH_DATABASE_URL,
  BENCH_REDIS_URL,
  deleteRedisPrefix,
  dropPostgresSchema,
  serviceUp,
  stats,
} from './lib.mjs';

const BENCH = 'token-lookup';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 1500);
const LOOKED_UP_USERS = 100;
const SMALL = 1_000;
const LARGE = Number(process.env.BENCH_LARGE_USERS ?? 1_000_000);
const ROUNDS = 2; // 1k and 1M measured alternately, best round reported
const runId = randomBytes(4).toString('hex');
const keyring = Keyring.parse(`bench:${randomBytes(32).toString('base64')}`);
const tmp = mkdtempSync(join(tmpdir(), 'spotauth-bench-tl-'));
// Never contacted: every looked-up token is valid for an hour, so no refresh happens.
const auth = new SpotifyAuth({
  clientId: 'bench-client',
  clientSecret: 'bench-secret',
  redirectUri: 'http://127.0.0.1:8888/callback',
  accountsUrl: 'http://127.0.0.1:9',
  apiUrl: 'http://127.0.0.1:9/v1',
  allowInsecureHttp: true,
});
const accountIds = Array.from(
  { length: LOOKED_UP_USERS },
  (_, i) => `acct-lookup-${String(i).padStart(4, '0')}`,
);
const sink = { n: 0 };

/** A Spotify-like token set (Spotify access tokens are ~200-300 characters). */
function tokenSet() {
  const now = Date.now();
  return {
    accessToken: `BQ${randomBytes(150).toString('base64url')}`,
    refreshToken: `AQ${randomBytes(100).toString('base64url')}`,
    tokenType: 'Bearer',
    expiresIn: 3600,
    expiresAt: now + 3_600_000,
    receivedAt: now,
    scope: ['user-read-email', 'user-read-private'],
    refreshTokenIssued: true,
  };
}

async function saveUsers(manager) {
  for (const account_id of accountIds) await manager.saveGrant(tokenSet(), { id: account_id, account_id });
}

/** Sequential awaited calls for DURATION_MS (after a short warm-up): ops/s and per-call latency stats. */
async function measure(fn) {
  const warmUntil = performance.now() + Math.min(300, DURATION_MS / 4);
  let i = 0;
  while (performance.now() < warmUntil) await fn(i++);
  const times = [];
  const start = performance.now();
  let now = start;
  const end = start + DURATION_MS;
  while (now < end) {
    const t = now;
    await fn(i++);
    now = performance.now();
    times.push(now - t);
  }
  const s = stats(times);
  return { ops_per_s: times.length / ((now - start) / 1000), ...s };
}

/** The baseline: plain synchronous Map.get of the same tokens, in batches (per-call timing would dominate). */
function measureMap(map, keys) {
  const batch = 10_000;
  let ops = 0;
  let len = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let j = 0; j < batch; j++) len += map.get(keys[(ops + j) % keys.length]).length;
    ops += batch;
    now = performance.now();
  }
  sink.n += len;
  const perOp = (now - start) / ops;
  return {
    ops_per_s: ops / ((now - start) / 1000),
    n: ops,
    mean: perOp,
    p50: perOp,
    p90: perOp,
    p99: perOp,
    min: perOp,
  };
}

const lookup = (manager) => async (i) => {
  const token = await manager.getAccessToken(accountIds[i % accountIds.length]);
  sink.n += token.length;
};

const fmtOps = (x) => Math.round(x).toLocaleString('en-US');
const fmtUs = (ms) => (ms < 0.001 ? `${(ms * 1e6).toFixed(1)} ns` : `${(ms * 1000).toFixed(1)} µs`);
const cleanups = [];

try {
  // ---------------------------------------------------------------- part 1: stores vs Map.get
  const usable = {
    postgres: await serviceUp('postgres'),
    redis: await serviceUp('redis'),
  };
  const pgSchema = (tag) => `spotauth_bench_tl_${tag}_${runId}`;
  const storeCases = [
    { name: 'memory', url: 'memory:', options: {} },
    { name: 'sqlite', url: `sqlite:${join(tmp, 'lookup.sqlite')}`, options: {} },
    usable.postgres && {
      name: 'postgres',
      url: BENCH_DATABASE_URL,
      options: { schema: pgSchema('stores') },
      cleanup: () => dropPostgresSchema(pgSchema('stores')),
    },
    usable.redis && {
      name: 'redis',
      url: BENCH_REDIS_URL,
      options: { keyPrefix: `spotauth-bench-tl-${runId}:` },
      cleanup: () => deleteRedisPrefix(`spotauth-bench-tl-${runId}:`),
    },
    { name: 'file', url: `file:${join(tmp, 'lookup.json')}`, options: {} },
  ].filter(Boolean);

  const map = new Map();
  const mapKeys = [];
  const rows = [];
  for (const c of storeCases) {
    if (c.cleanup) cleanups.push(c.cleanup);
    const store = await createStore(c.url, { keyring, ...c.options });
    try {
      const manager = new TokenManager({ auth, store });
      await saveUsers(manager);
      if (map.size === 0) {
        for (const id of accountIds) {
          map.set(`user:${id}`, await manager.getAccessToken(id));
          mapKeys.push(`user:${id}`);
        }
      }
      rows.push({ name: `${c.name} (in-process cache)`, ...(await measure(lookup(manager))) });
      // cacheTtlMs 0: every call reads the store and decrypts (what another process's change costs to see).
      const direct = new TokenManager({ auth, store, cacheTtlMs: 0 });
      rows.push({ name: `${c.name} (store read)`, ...(await measure(lookup(direct))) });
    } finally {
      await store.close();
    }
  }
  const base = measureMap(map, mapKeys);
  const asyncMap = await measure(async (i) => {
    sink.n += (await Promise.resolve(map.get(mapKeys[i % mapKeys.length]))).length;
  });
  const all = [{ name: 'Map.get (baseline)', ...base }, { name: 'await Map.get', ...asyncMap }, ...rows];

  console.log(
    `\ngetAccessToken, cached valid token, ${LOOKED_UP_USERS} users, sequential, ${DURATION_MS} ms per case`,
  );
  console.log(
    `${'case'.padEnd(30)} ${'ops/s'.padStart(14)} ${'p50'.padStart(11)} ${'p99'.padStart(11)} ${'ratio ops/s vs Map.get'.padStart(24)}`,
  );
  for (const r of all) {
    const ratio = r.ops_per_s / base.ops_per_s;
    console.log(
      `${r.name.padEnd(30)} ${fmtOps(r.ops_per_s).padStart(14)} ${fmtUs(r.p50).padStart(11)} ${fmtUs(r.p99).padStart(11)} ${ratio.toExponential(2).padStart(24)}`,
    );
  }
  for (const r of all) {
    console.log(
      JSON.stringify({
        bench: BENCH,
        part: 'stores',
        case: r.name === 'Map.get (baseline)' ? 'map' : r.name === 'await Map.get' ? 'map-await' : r.name,
        baseline: 'map',
        users: LOOKED_UP_USERS,
        ops_per_s: Math.round(r.ops_per_s),
        ratio_vs_map: Number((r.ops_per_s / base.ops_per_s).toPrecision(3)),
        n: r.n,
        p50_ms: r.p50,
        p99_ms: r.p99,
        mean_ms: r.mean,
      }),
    );
  }

  // ---------------------------------------------------------------- part 2: 1k vs 1M stored users
  const { default: Database } = await import('better-sqlite3');
  const { default: pg } = await import('pg');

  /** Bulk-inserts `count` filler rows shaped like `sample` (sizes of a real sealed row) into SQLite. */
  function fillSqlite(path, count, sample) {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 10000');
      db.prepare(
        `INSERT INTO spotauth_tokens (key, version, updated_at, access_token, refresh_token, data)
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)
         SELECT 'user:filler-' || printf('%08d', x), 1, ?, substr(hex(randomblob(?)), 1, ?),
                substr(hex(randomblob(?)), 1, ?), ? FROM c`,
      ).run(
        count,
        Date.now(),
        Math.ceil(sample.access_token.length / 2),
        sample.access_token.length,
        Math.ceil((sample.refresh_token ?? '').length / 2),
        (sample.refresh_token ?? '').length,
        sample.data,
      );
      return db.prepare('SELECT count(*) AS n FROM spotauth_tokens').get().n;
    } finally {
      db.close();
    }
  }

  async function fillPostgres(schema, count) {
    const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
    await client.connect();
    try {
      const table = `"${schema}".spotauth_tokens`;
      const {
        rows: [sample],
      } = await client.query(
        `SELECT length(access_token) AS a, length(refresh_token) AS r, data FROM ${table} LIMIT 1`,
      );
      await client.query(
        `INSERT INTO ${table} (key, version, updated_at, access_token, refresh_token, data)
         SELECT 'user:filler-' || lpad(g::text, 8, '0'), 1, $2,
                substr(repeat(md5(g::text), ceil($3::int / 32.0)::int), 1, $3),
                substr(repeat(md5((g + 1)::text), ceil($4::int / 32.0)::int), 1, $4), $5::jsonb
         FROM generate_series(1, $1::int) g`,
        [count, Date.now(), Number(sample.a), Number(sample.r), JSON.stringify(sample.data)],
      );
      await client.query(`ANALYZE ${table}`);
      const {
        rows: [info],
      } = await client.query(
        `SELECT count(*)::int AS n, pg_size_pretty(pg_total_relation_size('${table}')) AS size FROM ${table}`,
      );
      return info;
    } finally {
      await client.end();
    }
  }

  const scaleCases = [];
  for (const users of [SMALL, LARGE]) {
    const path = join(tmp, `scale-${users}.sqlite`);
    scaleCases.push({
      store: 'sqlite',
      users,
      async open() {
        const store = await createStore(`sqlite:${path}`, { keyring });
        await saveUsers(new TokenManager({ auth, store }));
        const started = performance.now();
        const probe = new Database(path, { readonly: true });
        const sample = probe.prepare('SELECT * FROM spotauth_tokens LIMIT 1').get();
        probe.close();
        const n = fillSqlite(path, users - LOOKED_UP_USERS, sample);
        this.fill = { rows: n, fill_ms: Math.round(performance.now() - started) };
        return store;
      },
    });
  }
  if (usable.postgres) {
    for (const users of [SMALL, LARGE]) {
      const schema = pgSchema(`scale${users}`);
      cleanups.push(() => dropPostgresSchema(schema));
      scaleCases.push({
        store: 'postgres',
        users,
        async open() {
          const store = await createStore(BENCH_DATABASE_URL, { keyring, schema });
          await saveUsers(new TokenManager({ auth, store }));
          const started = performance.now();
          const info = await fillPostgres(schema, users - LOOKED_UP_USERS);
          this.fill = {
            rows: info.n,
            table_size: info.size,
            fill_ms: Math.round(performance.now() - started),
          };
          return store;
        },
      });
    }
  }
  for (const c of scaleCases) {
    c.storeHandle = await c.open();
    // No in-process cache: the point is whether the store's own lookup grows with the number of users.
    c.manager = new TokenManager({ auth, store: c.storeHandle, cacheTtlMs: 0 });
    c.results = [];
    console.log(
      `(filled ${c.store} to ${c.fill.rows.toLocaleString('en-US')} rows in ${c.fill.fill_ms} ms${c.fill.table_size ? `, ${c.fill.table_size}` : ''})`,
    );
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of scaleCases) c.results.push(await measure(lookup(c.manager)));
    }
  } finally {
    for (const c of scaleCases) await c.storeHandle.close();
  }

  console.log(
    `\ngetAccessToken at ${SMALL.toLocaleString('en-US')} vs ${LARGE.toLocaleString('en-US')} stored users (random lookups among ${LOOKED_UP_USERS} real records; best of ${ROUNDS} alternating rounds)`,
  );
  console.log(
    `${'store'.padEnd(10)} ${'users'.padStart(10)} ${'ops/s'.padStart(12)} ${'p50'.padStart(11)} ${'p99'.padStart(11)} ${'ratio vs 1k'.padStart(12)}`,
  );
  for (const storeName of ['sqlite', 'postgres']) {
    const pair = scaleCases.filter((c) => c.store === storeName);
    if (pair.length === 0) continue;
    const best = (c) => c.results.reduce((a, b) => (b.ops_per_s > a.ops_per_s ? b : a));
    const small = best(pair[0]);
    for (const c of pair) {
      const r = best(c);
      const ratio = r.ops_per_s / small.ops_per_s;
      console.log(
        `${storeName.padEnd(10)} ${c.fill.rows.toLocaleString('en-US').padStart(10)} ${fmtOps(r.ops_per_s).padStart(12)} ${fmtUs(r.p50).padStart(11)} ${fmtUs(r.p99).padStart(11)} ${ratio.toFixed(3).padStart(12)}`,
      );
      c.best = r;
    }
    const large = pair[1].best;
    console.log(
      JSON.stringify({
        bench: BENCH,
        part: 'scale',
        case: storeName,
        users_small: pair[0].fill.rows,
        users_large: pair[1].fill.rows,
        ops_per_s_small: Math.round(small.ops_per_s),
        ops_per_s_large: Math.round(large.ops_per_s),
        ratio_large_vs_small: Number((large.ops_per_s / small.ops_per_s).toFixed(3)),
        p50_ms_small: small.p50,
        p50_ms_large: large.p50,
        p99_ms_small: small.p99,
        p99_ms_large: large.p99,
        rounds_ops_per_s_small: pair[0].results.map((r) => Math.round(r.ops_per_s)),
        rounds_ops_per_s_large: pair[1].results.map((r) => Math.round(r.ops_per_s)),
        fill_ms_large: pair[1].fill.fill_ms,
        ...(pair[1].fill.table_size ? { table_size_large: pair[1].fill.table_size } : {}),
      }),
    );
  }
} finally {
  for (const cleanup of cleanups) await cleanup().catch((e) => console.error(`cleanup failed: ${e.message}`));
  rmSync(tmp, { recursive: true, force: true });
}
if (sink.n === -1) console.log('');
