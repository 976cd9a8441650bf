// adapter-overhead: for Express, Fastify and Hono (on @hono/node-server), spotauth's GET /auth/spotify/token
// (a logged-in session, its token valid and cached; SQLite store, encrypted at rest) vs that framework's own
// minimal JSON route with a token-shaped body, both served by the same app process (bench/fixtures/
// adapter-app.mjs), so framework, process and connections are the same. The load comes from autocannon in
// this process. The shared machine drifts by tens of percent within minutes, so the rounds are short and
// paired (framework route then ours, ours then framework route, alternating) and each ratio is the median
// of its per-pair ratios. Goal: >= 0.8 for each framework. Also reported: the app process's CPU time per
// request in each round (from /proc), which other load on the machine disturbs far less than req/s does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_APP, startEmulator } from '../dist/emulator/index.js';
import { generateKey } from '../dist/stores/index.js';
import { cpuMs, freePort, loadRound, loginCookie, median, startNodeProcess } from './lib.mjs';

const APP = fileURLToPath(new URL('./fixtures/adapter-app.mjs', import.meta.url));
const FRAMEWORKS = ['express', 'fastify', 'hono'];
const CONNECTIONS = 32;
const DURATION = 2;
const PAIRS = 6;

const dir = mkdtempSync(join(tmpdir(), 'spotauth-bench-adapters-'));
const emulator = await startEmulator({ port: 0, quiet: true, autoApprove: 'alice' });
const cases = [];
try {
  for (const framework of FRAMEWORKS) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    await fetch(`${emulator.url}/_emulator/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: SANDBOX_APP.clientId,
        client_secret: SANDBOX_APP.clientSecret,
        redirect_uris: [`${origin}/auth/spotify/callback`],
      }),
    });
    const app = await startNodeProcess(
      [APP],
      {
        FRAMEWORK: framework,
        PORT: String(port),
        SPOTIFY_CLIENT_ID: SANDBOX_APP.clientId,
        SPOTIFY_CLIENT_SECRET: SANDBOX_APP.clientSecret,
        SPOTIFY_REDIRECT_URI: `${origin}/auth/spotify/callback`,
        SPOTAUTH_ACCOUNTS_URL: emulator.url,
        SPOTAUTH_API_URL: `${emulator.url}/v1`,
        SPOTAUTH_STORE: `sqlite:${join(dir, `${framework}.sqlite`)}`,
        SPOTAUTH_ENCRYPTION_KEYS: generateKey('k1').entry,
      },
      new RegExp(`${framework} ready`),
    );
    try {
      const cookie = await loginCookie(`${origin}/auth/spotify/login`);
      const check = await fetch(`${origin}/auth/spotify/token`, { headers: { cookie } });
      if (check.status !== 200)
        throw new Error(`${framework}: GET /auth/spotify/token answered ${check.status}`);
      const round = async (path, headers) => {
        const before = cpuMs(app.child.pid);
        const result = await loadRound(`${origin}${path}`, {
          connections: CONNECTIONS,
          duration: DURATION,
          headers,
        });
        const after = cpuMs(app.child.pid);
        const served = result.requests.total;
        result.cpuUsPerRequest = before === null || served === 0 ? null : ((after - before) * 1000) / served;
        return result;
      };
      // The framework's own route gets the identical request (the same cookie header): the load generator shares
      // the 2 cores, and a baseline spared parsing and sending the cookie would be measured on easier work.
      const own = () => round('/json', { cookie });
      const ours = () => round('/auth/spotify/token', { cookie });
      await own(); // warm-up
      await ours();
      const results = { own: [], ours: [] };
      const ratios = [];
      const cpuRatios = [];
      for (let pair = 0; pair < PAIRS; pair++) {
        let ownResult;
        let oursResult;
        if (pair % 2 === 0) {
          ownResult = await own();
          oursResult = await ours();
        } else {
          oursResult = await ours();
          ownResult = await own();
        }
        results.own.push(ownResult);
        results.ours.push(oursResult);
        ratios.push(oursResult.requests.average / ownResult.requests.average);
        if (ownResult.cpuUsPerRequest && oursResult.cpuUsPerRequest)
          cpuRatios.push(ownResult.cpuUsPerRequest / oursResult.cpuUsPerRequest);
      }
      const summary = (list) => ({
        rps: Math.round(median(list.map((r) => r.requests.average))),
        p99_ms: median(list.map((r) => r.latency.p99)),
        errors: list.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        cpu_us_per_request: list.every((r) => r.cpuUsPerRequest !== null)
          ? Number(median(list.map((r) => r.cpuUsPerRequest)).toFixed(1))
          : null,
      });
      cases.push({
        framework,
        ratio: median(ratios),
        ratios,
        cpuRatio: cpuRatios.length === PAIRS ? median(cpuRatios) : null,
        own: summary(results.own),
        ours: summary(results.ours),
      });
    } finally {
      app.child.kill('SIGTERM');
    }
  }
} finally {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
}

const fixed = (value, digits) => (value === null ? 'n/a' : value.toFixed(digits));
console.log(
  `${'framework'.padEnd(10)} ${'own req/s'.padStart(10)} ${'token req/s'.padStart(12)} ${'ratio'.padStart(6)}  ` +
    `${'own µs/req'.padStart(10)} ${'token µs/req'.padStart(12)} ${'cpu ratio'.padStart(9)}  req/s pair ratios`,
);
for (const c of cases) {
  console.log(
    `${c.framework.padEnd(10)} ${String(c.own.rps).padStart(10)} ${String(c.ours.rps).padStart(12)} ${c.ratio.toFixed(3).padStart(6)}  ` +
      `${fixed(c.own.cpu_us_per_request, 1).padStart(10)} ${fixed(c.ours.cpu_us_per_request, 1).padStart(12)} ${fixed(c.cpuRatio, 3).padStart(9)}  ${c.ratios.map((r) => r.toFixed(2)).join(' ')}`,
  );
}
console.log(
  `(medians of ${PAIRS} paired rounds of ${DURATION} s, ${CONNECTIONS} connections; cpu ratio = own µs/req ÷ token µs/req)`,
);
for (const c of cases) {
  console.log(
    JSON.stringify({
      bench: 'adapter-overhead',
      framework: c.framework,
      baseline: `${c.framework} GET /json`,
      ratio: Number(c.ratio.toFixed(4)),
      cpu_ratio: c.cpuRatio === null ? null : Number(c.cpuRatio.toFixed(4)),
      goal: '>= 0.8',
      pair_ratios: c.ratios.map((r) => Number(r.toFixed(4))),
      connections: CONNECTIONS,
      duration_s: DURATION,
      pairs: PAIRS,
      results: [
        { name: `${c.framework} GET /json`, ...c.own },
        { name: `${c.framework} GET /auth/spotify/token (spotauth)`, ...c.ours },
      ],
    }),
  );
}
