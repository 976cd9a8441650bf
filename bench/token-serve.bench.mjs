// token-serve: GET /token for a logged-in session (the real server: sandbox mode, encrypted at rest) vs a
// bare node:http server answering a fixed JSON body (bench/fixtures/bare-json-server.cjs). Two baselines:
//   - bare node:http in its own process, the goal's baseline;
//   - the same bare handler inside the server's process (preloaded, on another port), which splits the
//     gap into the process's share (whatever makes Node's http code slower in that process) and the
//     route's own.
// The load comes from autocannon in this process, same connections and duration. The host's speed drifts
// by tens of percent within minutes (a shared virtual machine), so the rounds are short and grouped — bare,
// same-process bare, ours, then the reverse, alternating — and each ratio is the median of its per-group
// ratios. All get the identical request (the session cookie too): the load generator shares the cores, and
// a baseline spared the cookie header would be measured on easier work.
//
// The server is measured with each store holding its sessions (and grants): SQLite (the default; the goal
// of >= 0.8x is for this one), and, when they answer, Redis and PostgreSQL — one server process per store,
// one JSON line per store. Each group index measures every store in turn, so drift affects them alike.
// Also reported: each process's CPU time per request (from /proc), and the ratios of those, which other
// load on the machine disturbs far less than req/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DATABASE_URL,
  BENCH_REDIS_URL,
  cpuMs,
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

const BARE = join(ROOT, 'bench/fixtures/bare-json-server.cjs');

const load = (url, headers) => loadRound(url, { connections: CONNECTIONS, duration: DURATION, headers });
/** A load round with the CPU time per request of the process `pid` that served it. */
async function measured(url, headers, pid) {
  const before = cpuMs(pid);
  const result = await load(url, headers);
  const after = cpuMs(pid);
  const served = result.requests.total;
  result.cpuUsPerRequest = before === null || served === 0 ? null : ((after - before) * 1000) / served;
  return result;
}

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
const bare = await startNodeProcess([BARE], { BENCH_BARE_PORT: String(barePort) }, /bare ready/);
const bareUrl = `http://127.0.0.1:${barePort}/`;
const CASES = ['bare', 'sameProcess', 'ours'];
try {
  for (const store of stores) {
    const port = await freePort();
    const sameProcessPort = await freePort();
    store.server = await startNodeProcess(
      ['-r', BARE, join(ROOT, 'dist/cli/main.js'), 'serve'],
      {
        PORT: String(port),
        BENCH_BARE_PORT: String(sameProcessPort),
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
    const pid = store.server.child.pid;
    store.targets = {
      bare: { url: bareUrl, pid: bare.child.pid },
      sameProcess: { url: `http://127.0.0.1:${sameProcessPort}/`, pid },
      ours: { url: `http://127.0.0.1:${port}/token`, pid },
    };
    const check = await fetch(store.targets.ours.url, { headers: { cookie: store.cookie } });
    if (check.status !== 200) throw new Error(`GET /token (${store.name}) answered ${check.status}`);
    store.results = { bare: [], sameProcess: [], ours: [] };
  }
  for (const store of stores)
    for (const name of CASES) await load(store.targets[name].url, { cookie: store.cookie }); // warm-up
  for (let group = 0; group < PAIRS; group++) {
    // The store that goes first rotates, so no store always follows the same one.
    for (let i = 0; i < stores.length; i++) {
      const store = stores[(group + i) % stores.length];
      for (const name of group % 2 === 0 ? CASES : [...CASES].reverse()) {
        const { url, pid } = store.targets[name];
        store.results[name].push(await measured(url, { cookie: store.cookie }, pid));
      }
    }
  }
  const summarise = (name, results) => ({
    name,
    rps: median(results.map((r) => r.requests.average)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
    cpuUs: results.every((r) => r.cpuUsPerRequest !== null)
      ? median(results.map((r) => r.cpuUsPerRequest))
      : null,
  });
  /** Per group: ours vs a baseline in req/s, and the baseline's CPU per request vs ours; medians. */
  const ratios = (store, baseline) => {
    const ours = store.results.ours;
    const base = store.results[baseline];
    const cpu = ours.every((r, i) => r.cpuUsPerRequest && base[i].cpuUsPerRequest)
      ? median(ours.map((r, i) => base[i].cpuUsPerRequest / r.cpuUsPerRequest))
      : null;
    const groups = ours.map((r, i) => r.requests.average / base[i].requests.average);
    return { ratio: median(groups), cpu, groups };
  };
  const fixed = (value, digits) => (value === null ? 'n/a' : value.toFixed(digits));
  console.log(
    `${'case'.padEnd(34)} ${'req/s'.padStart(10)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'µs/req'.padStart(7)}  ours vs this: ratio, cpu ratio  (medians of ${PAIRS} rounds of ${DURATION} s)`,
  );
  const lines = [];
  for (const store of stores) {
    const vsBare = ratios(store, 'bare');
    const vsSame = ratios(store, 'sameProcess');
    const rows = [
      { ...summarise('bare node:http', store.results.bare), vs: vsBare },
      { ...summarise('bare node:http in our process', store.results.sameProcess), vs: vsSame },
      summarise(`GET /token (spotauth, ${store.name})`, store.results.ours),
    ];
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(34)} ${row.rps.toFixed(0).padStart(10)} ${row.p99.toFixed(1).padStart(8)} ${String(row.errors).padStart(7)} ${fixed(row.cpuUs, 1).padStart(7)}` +
          (row.vs
            ? `  ${row.vs.ratio.toFixed(3)}x ${fixed(row.vs.cpu, 3).padStart(8)}x  rounds: ${row.vs.groups.map((r) => r.toFixed(2)).join(' ')}`
            : ''),
      );
    }
    lines.push(
      JSON.stringify({
        bench: 'token-serve',
        store: store.name,
        baseline: rows[0].name,
        ratio: Number(vsBare.ratio.toFixed(4)),
        ...(store.name === 'sqlite' ? { goal: '>= 0.8' } : {}),
        cpu_ratio: vsBare.cpu === null ? null : Number(vsBare.cpu.toFixed(4)),
        same_process_ratio: Number(vsSame.ratio.toFixed(4)),
        same_process_cpu_ratio: vsSame.cpu === null ? null : Number(vsSame.cpu.toFixed(4)),
        pair_ratios: vsBare.groups.map((r) => Number(r.toFixed(4))),
        connections: CONNECTIONS,
        duration_s: DURATION,
        pairs: PAIRS,
        results: rows.map((r) => ({
          name: r.name,
          rps: Math.round(r.rps),
          p99_ms: r.p99,
          errors: r.errors,
          cpu_us_per_request: r.cpuUs === null ? null : Number(r.cpuUs.toFixed(1)),
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
