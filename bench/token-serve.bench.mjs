// token-serve: GET /token for a logged-in session (the real server: sandbox mode, SQLite store, encrypted
// at rest) vs a bare node:http server answering a fixed JSON body. Both run in their own process; the load
// comes from autocannon in this one, same connections and duration. The host's speed drifts by tens of
// percent within minutes (a shared virtual machine), so the rounds are short and paired — bare then ours,
// ours then bare, alternating — and the ratio is the median of the per-pair ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, loadRound, loginCookie, median, startNodeProcess } from './lib.mjs';

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

const dir = mkdtempSync(join(tmpdir(), 'spotauth-bench-'));
const serverPort = await freePort();
const barePort = await freePort();
const server = await startNodeProcess(
  [join(ROOT, 'dist/cli/main.js'), 'serve'],
  {
    PORT: String(serverPort),
    SPOTAUTH_DATA_DIR: join(dir, 'data'),
    SPOTAUTH_EMULATOR_PORT: '0',
    SPOTIFY_CLIENT_ID: '',
    LOG_LEVEL: 'warn',
    SPOTAUTH_EMULATOR_AUTO_APPROVE: 'alice',
    SPOTAUTH_LOGIN_RATE_LIMIT: '1000',
  },
  /Open http/,
);
const bare = await startNodeProcess(['-e', BARE], { PORT: String(barePort) }, /bare ready/);
try {
  const cookie = await loginCookie(`http://127.0.0.1:${serverPort}/login`);
  const check = await fetch(`http://127.0.0.1:${serverPort}/token`, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`GET /token answered ${check.status}`);
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  const oursUrl = `http://127.0.0.1:${serverPort}/token`;
  await load(bareUrl, {}); // warm-up
  await load(oursUrl, { cookie });
  const rows = { 'bare node:http': [], 'GET /token (spotauth)': [] };
  const pairRatios = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    let bareResult;
    let oursResult;
    if (pair % 2 === 0) {
      bareResult = await load(bareUrl, {});
      oursResult = await load(oursUrl, { cookie });
    } else {
      oursResult = await load(oursUrl, { cookie });
      bareResult = await load(bareUrl, {});
    }
    rows['bare node:http'].push(bareResult);
    rows['GET /token (spotauth)'].push(oursResult);
    pairRatios.push(oursResult.requests.average / bareResult.requests.average);
  }
  const summary = Object.entries(rows).map(([name, results]) => ({
    name,
    rps: median(results.map((r) => r.requests.average)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
  }));
  const ratio = median(pairRatios);
  console.log(
    `${'case'.padEnd(26)} ${'req/s'.padStart(10)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}  (medians of ${PAIRS} rounds of ${DURATION} s)`,
  );
  for (const row of summary) {
    console.log(
      `${row.name.padEnd(26)} ${row.rps.toFixed(0).padStart(10)} ${row.p99.toFixed(1).padStart(8)} ${String(row.errors).padStart(7)}`,
    );
  }
  console.log(
    `ratio (req/s, median of pairs): ${ratio.toFixed(3)}x   pairs: ${pairRatios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  console.log(
    JSON.stringify({
      bench: 'token-serve',
      baseline: summary[0].name,
      ratio: Number(ratio.toFixed(4)),
      goal: '>= 0.8',
      pair_ratios: pairRatios.map((r) => Number(r.toFixed(4))),
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
} finally {
  server.child.kill('SIGTERM');
  bare.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
