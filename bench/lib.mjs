// Shared helpers for benchmarks: timing, statistics and the result format.
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Runs `fn` `iterations` times (after `warmup` runs) and returns per-call durations in ms. */
export async function sample(fn, { iterations = 1000, warmup = 100 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    times[i] = performance.now() - start;
  }
  return times;
}

/** The middle value (the mean of the two middle values for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((s, t) => s + t, 0) / sorted.length;
  return { n: sorted.length, mean, p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), min: sorted[0] };
}

/** Prints a table of rows {name, ...stats} with the ratio of each median to the baseline's, then the JSON line. */
export function report(bench, baseline, rows, extra = {}) {
  const base = rows.find((row) => row.name === baseline);
  const fmt = (ms) => `${ms.toFixed(3)} ms`;
  console.log(
    `${'case'.padEnd(28)} ${'p50'.padStart(12)} ${'p90'.padStart(12)} ${'mean'.padStart(12)}  ratio(p50)`,
  );
  for (const row of rows) {
    const ratio = base ? row.p50 / base.p50 : Number.NaN;
    console.log(
      `${row.name.padEnd(28)} ${fmt(row.p50).padStart(12)} ${fmt(row.p90).padStart(12)} ${fmt(row.mean).padStart(12)}  ${ratio.toFixed(3)}x`,
    );
  }
  const ratios = Object.fromEntries(
    rows.filter((r) => r.name !== baseline).map((r) => [r.name, Number((r.p50 / base.p50).toFixed(4))]),
  );
  console.log(
    JSON.stringify({
      bench,
      baseline,
      ratios,
      results: rows.map((r) => ({ name: r.name, n: r.n, p50_ms: r.p50, p90_ms: r.p90, mean_ms: r.mean })),
      ...extra,
    }),
  );
}

// ---- HTTP load helpers: processes under test, logins through their routes, autocannon rounds. ----

/**
 * User + system CPU time of a process in ms (Linux /proc; null elsewhere). Per request, it is disturbed far
 * less than req/s by other load on the shared machine.
 */
export function cpuMs(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return null;
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

export function freePort() {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address();
          server.close(() => resolve(port));
        });
      }),
  );
}

/** Starts `node args…` with `env` added; resolves once its output matches `ready`. */
export async function startNodeProcess(args, env, ready) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      if (ready.test(output)) resolve({ child, output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

/** Follows a login route (an auto-approving emulator behind it) and returns the `spotauth_session=…` cookie. */
export async function loginCookie(loginUrl) {
  const cookies = new Map();
  let next = loginUrl;
  for (let i = 0; i < 6; i++) {
    const response = await fetch(next, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = pair.split('=');
      cookies.set(name, rest.join('='));
    }
    const location = response.headers.get('location');
    if (!location) break;
    next = new URL(location, next).href;
  }
  const session = cookies.get('spotauth_session');
  if (!session) throw new Error(`login through ${loginUrl} failed`);
  return `spotauth_session=${session}`;
}

/** One autocannon round (`requests`: an optional sequence each connection cycles through); resolves with its result. */
export async function loadRound(url, { connections, duration, headers = {}, requests }) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, headers, ...(requests ? { requests } : {}) }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

// ---- Service helpers (Postgres/Redis) for store benchmarks; drivers are imported lazily. ----
export const BENCH_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when the service answers within a few seconds (benchmarks skip the backend otherwise). */
export async function serviceUp(name) {
  let redis;
  try {
    if (name === 'postgres') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    } else {
      const { Redis } = await import('ioredis');
      redis = new Redis(BENCH_REDIS_URL, {
        lazyConnect: true,
        connectTimeout: 3000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null, // one try: a refused connection must not keep reconnecting all run long
      });
      redis.on('error', () => {}); // reported below, once
      await redis.connect();
      await redis.quit();
    }
    return true;
  } catch (error) {
    redis?.disconnect();
    console.warn(`(skipping ${name}: ${error?.message ?? error})`);
    return false;
  }
}

export async function dropPostgresSchema(schema) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

/** Deletes every Redis key starting with `prefix`; returns how many were deleted. */
export async function deleteRedisPrefix(prefix) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(BENCH_REDIS_URL);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  return deleted;
}

/**
 * The stores a refresh benchmark runs against, each in a namespace of its own (`tag` tells benches apart):
 * SQLite and file in a temp folder, a PostgreSQL schema, a Redis key prefix; memory first when asked for.
 */
export async function storeBackends(tag, { memory = false } = {}) {
  const { randomBytes } = await import('node:crypto');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const runId = randomBytes(4).toString('hex');
  const tmp = mkdtempSync(join(tmpdir(), `spotauth-bench-${tag}-`));
  const backends = [
    ...(memory ? [{ name: 'memory', url: 'memory:', options: {}, shared: false }] : []),
    { name: 'sqlite', url: `sqlite:${join(tmp, 'tokens.sqlite')}`, options: {}, shared: true },
    {
      name: 'postgres',
      service: 'postgres',
      url: BENCH_DATABASE_URL,
      options: { schema: `spotauth_bench_${tag}_${runId}` },
      shared: true,
      cleanup: (b) => dropPostgresSchema(b.options.schema),
    },
    {
      name: 'redis',
      service: 'redis',
      url: BENCH_REDIS_URL,
      options: { keyPrefix: `spotauth-bench-${tag}-${runId}:` },
      shared: true,
      cleanup: (b) => deleteRedisPrefix(b.options.keyPrefix),
    },
    { name: 'file', url: `file:${join(tmp, 'tokens.json')}`, options: {}, shared: true },
  ];
  return { backends, runId, removeTemp: () => rmSync(tmp, { recursive: true, force: true }) };
}

/**
 * Opens each backend's store (those whose service is up) and runs `fn(backend, store)`, closing and cleaning
 * up after each. Returns the names of the backends skipped.
 */
export async function forEachStore(backends, keysSpec, fn) {
  const { createStore, Keyring } = await import('../dist/index.js');
  const skipped = [];
  for (const backend of backends) {
    if (backend.service && !(await serviceUp(backend.service))) {
      skipped.push(backend.name);
      continue;
    }
    const store = await createStore(backend.url, { keyring: Keyring.parse(keysSpec), ...backend.options });
    try {
      await fn(backend, store);
    } finally {
      await store.close();
      await backend.cleanup?.(backend);
    }
  }
  return skipped;
}
