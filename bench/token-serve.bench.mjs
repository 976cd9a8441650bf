// token-serve: GET /token for a logged-in session (the real server: sandbox mode, encrypted at rest) vs a
// bare node:http server answering a fixed JSON body. Both run in their own process; the load comes from
// autocannon in this one, same connections and duration. The host's speed drifts by tens of percent within
// minutes (a shared virtual machine), so the rounds are short and paired — bare then ours, ours then bare,
// alternating — and the ratio is the median of the per-pair ratios. Both get the identical request (the
// session cookie too): the load generator shares the cores, and a baseline spared the cookie header would
// be measured on easier work.
//
// The server is measured with each store holding its sessions (and grants): SQLite (the default; the goal
// of >= 0.8x is for this one), and, when they answer, Redis and PostgreSQL — one server process per store,
// one JSON line per store. Each pair index measures every store in turn, so drift affects them alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DATABASE_URL,
  BENCH_REDIS_URL,
  deleteRedisPrefix,
  dropPostgresSchema,
  freePort,
  loadRound,
  loginCookie,
  median,
  serviceUp,
  startNodeProcess,
} from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONNECTIONS = 32;
const DURATION = 2;
const PAIRS = 8;

const BARE = `
const http = require('node:http');
const body = JSON.stringify({ access_token: 'x'.repeat(180), token_type: 'Bearer', expires_at: new Date().toISOString(), expires_in: 3600, scope: 'user-read-private user-read-email' });
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('bare ready'));
`;

const load = (url, headers) => loadRound(url, { connections: CONNECTIONS, duration: DURATION, headers });

const withParam = (url, name, value) =>
  `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
const dir = mkdtempSync(join(tmpdir(), 'spotauth-bench-'));
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const stores = [{ name: 'sqlite', url: undefined, cleanup: async () => {} }];
if (await serviceUp('redis')) {
  const prefix = `spotauth-bench-${suffix}:`;
  stores.push({
    name: 'redis',
    url: withParam(BENCH_REDIS_URL, 'prefix', prefix),
    cleanup: () => deleteRedisPrefix(prefix),
  });
}
if (await serviceUp('postgres')) {
  const schema = `spotauth_bench_${suffix}`;
  stores.push({
    name: 'postgres',
    url: withParam(BENCH_DATABASE_URL, 'schema', schema),
    cleanup: () => dropPostgresSchema(schema),
  });
}

const barePort = await freePort();
const bare = await startNodeProcess(['-e', BARE], { PORT: String(barePort) }, /bare ready/);
const bareUrl = `http://127.0.0.1:${barePort}/`;
try {
  for (const store of stores) {
    const port = await freePort();
    store.server = await startNodeProcess(
      [join(ROOT, 'dist/cli/main.js'), 'serve'],
      {
        PORT: String(port),
        SPOTAUTH_DATA_DIR: join(dir, store.name),
        ...(store.url ? { SPOTAUTH_STORE: store.url } : {}),
        SPOTAUTH_EMULATOR_PORT: '0',
        SPOTIFY_CLIENT_ID: '',
        LOG_LEVEL: 'warn',
        SPOTAUTH_EMULATOR_AUTO_APPROVE: 'alice',
        SPOTAUTH_LOGIN_RATE_LIMIT: '1000',
      },
      /Open http/,
    );
    store.cookie = await loginCookie(`http://127.0.0.1:${port}/login`);
    store.tokenUrl = `http://127.0.0.1:${port}/token`;
    const check = await fetch(store.tokenUrl, { headers: { cookie: store.cookie } });
    if (check.status !== 200) throw new Error(`GET /token (${store.name}) answered ${check.status}`);
    store.bare = [];
    store.ours = [];
    store.pairRatios = [];
  }
  await load(bareUrl, { cookie: stores[0].cookie }); // warm-up
  for (const store of stores) await load(store.tokenUrl, { cookie: store.cookie });
  for (let pair = 0; pair < PAIRS; pair++) {
    // The store that goes first rotates, so no store always follows the same one.
    for (let i = 0; i < stores.length; i++) {
      const store = stores[(pair + i) % stores.length];
      let bareResult;
      let oursResult;
      if (pair % 2 === 0) {
        bareResult = await load(bareUrl, { cookie: store.cookie });
        oursResult = await load(store.tokenUrl, { cookie: store.cookie });
      } else {
        oursResult = await load(store.tokenUrl, { cookie: store.cookie });
        bareResult = await load(bareUrl, { cookie: store.cookie });
      }
      store.bare.push(bareResult);
      store.ours.push(oursResult);
      store.pairRatios.push(oursResult.requests.average / bareResult.requests.average);
    }
  }
  const summarise = (name, results) => ({
    name,
    rps: median(results.map((r) => r.requests.average)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
  });
  console.log(
    `${'case'.padEnd(34)} ${'req/s'.padStart(10)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}  ratio   (medians of ${PAIRS} rounds of ${DURATION} s)`,
  );
  const lines = [];
  for (const store of stores) {
    const summary = [
      summarise('bare node:http', store.bare),
      summarise(`GET /token (spotauth, ${store.name})`, store.ours),
    ];
    const ratio = median(store.pairRatios);
    for (const row of summary) {
      console.log(
        `${row.name.padEnd(34)} ${row.rps.toFixed(0).padStart(10)} ${row.p99.toFixed(1).padStart(8)} ${String(row.errors).padStart(7)}` +
          (row === summary[1]
            ? `  ${ratio.toFixed(3)}x  pairs: ${store.pairRatios.map((r) => r.toFixed(2)).join(' ')}`
            : ''),
      );
    }
    lines.push(
      JSON.stringify({
        bench: 'token-serve',
        store: store.name,
        baseline: summary[0].name,
        ratio: Number(ratio.toFixed(4)),
        ...(store.name === 'sqlite' ? { goal: '>= 0.8' } : {}),
        pair_ratios: store.pairRatios.map((r) => Number(r.toFixed(4))),
        connections: CONNECTIONS,
        duration_s: DURATION,
        pairs: PAIRS,
        results: summary.map((r) => ({
          name: r.name,
          rps: Math.round(r.rps),
          p99_ms: r.p99,
          errors: r.errors,
        })),
      }),
    );
  }
  for (const line of lines) console.log(line);
} finally {
  bare.child.kill('SIGTERM');
  for (const store of stores) store.server?.child.kill('SIGTERM');
  // The servers close their store connections on SIGTERM; give them a moment before dropping the data.
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const store of stores) await store.cleanup().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
