// Token-endpoint calls per expiry: N concurrent getAccessToken callers (split across P processes sharing one
// store) for one user whose access token has just expired, with the emulator rotating refresh tokens.
// The emulator counts the refresh_token grants it served; single-flight means that count is 1 in every case.
// Prints a table and one JSON line per case: {"bench":"refresh-coalescing","store",...,"refreshes",...}.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TokenManager } from '../dist/index.js';
import { spawnWorker, startSession } from './fixtures/emulator-session.mjs';
import { runCallers } from './fixtures/refresh-worker.mjs';
import { forEachStore, median, storeBackends } from './lib.mjs';

const BENCH = 'refresh-coalescing';
const CALLERS = [1, 10, 100, 1000];
const PROCESSES = [1, 4];
/** Expiries per case (each a fresh grant); more repeats give a race more chances to show. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const keysSpec = `bench:${randomBytes(32).toString('base64')}`;
const { backends, runId, removeTemp } = await storeBackends('rc', { memory: true });

const { emulator, auth, control, stats, expiredGrant, workerEnv } = await startSession({
  refreshMode: 'rotate',
});

async function refreshRequests() {
  return (await stats()).token_requests.refresh_token;
}

/** Splits `total` callers over `parts` processes as evenly as possible. */
const split = (total, parts) =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

async function runExpiry(backend, store, processes, callers, repeat) {
  const accountId = `acct-bench-${backend.name}-${processes}p-${callers}c-${repeat}-${runId}`;
  const tokens = await expiredGrant(store, accountId);

  let results;
  let ms;
  if (!backend.shared) {
    const manager = new TokenManager({ auth, store });
    await control('stats/reset');
    const start = performance.now();
    results = [await runCallers(manager, accountId, callers)];
    ms = performance.now() - start;
  } else {
    const env = workerEnv(backend, keysSpec, accountId);
    const workers = split(callers, processes).map((n) => spawnWorker({ ...env, CONCURRENCY: String(n) }));
    try {
      await Promise.race([
        Promise.all(workers.map((w) => w.ready)),
        Promise.all(workers.map((w) => w.result)), // surfaces a worker that failed before "ready"
      ]);
      await control('stats/reset');
      const start = performance.now();
      for (const w of workers) w.child.stdin.write('go\n');
      results = await Promise.all(workers.map((w) => w.result));
      ms = Math.max(...results.map((r) => r.receivedAt)) - start;
      await Promise.all(workers.map((w) => w.exited));
    } catch (error) {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      throw error;
    }
  }
  const refreshes = await refreshRequests();
  const handedOut = new Set(results.flatMap((r) => r.tokens));
  return {
    refreshes,
    managerRefreshes: results.reduce((s, r) => s + r.refreshes, 0),
    errors: results.reduce((s, r) => s + r.errorCount, 0),
    errorMessages: results.flatMap((r) => r.errors),
    distinctTokens: handedOut.size,
    stale: handedOut.has(tokens.accessToken),
    ms,
    callersMs: Math.max(...results.map((r) => r.ms)),
  };
}

/** REPEATS expiries of one case, summarised: `refreshes` is the most the emulator served for any one expiry. */
async function runCase(backend, store, processes, callers) {
  const runs = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await runExpiry(backend, store, processes, callers, i));
  return {
    bench: BENCH,
    store: backend.name,
    processes,
    callers,
    refreshes: Math.max(...runs.map((r) => r.refreshes)),
    expiries: runs.length,
    refreshes_each: runs.map((r) => r.refreshes),
    manager_refreshes_each: runs.map((r) => r.managerRefreshes),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    error_messages: [...new Set(runs.flatMap((r) => r.errorMessages))],
    distinct_tokens: Math.max(...runs.map((r) => r.distinctTokens)),
    stale_token_handed_out: runs.some((r) => r.stale),
    ms: Number(median(runs.map((r) => r.ms)).toFixed(1)),
    ms_each: runs.map((r) => Number(r.ms.toFixed(1))),
    callers_ms_max: Number(Math.max(...runs.map((r) => r.callersMs)).toFixed(1)),
  };
}

const rows = [];
let skipped = [];
try {
  skipped = await forEachStore(backends, keysSpec, async (backend, store) => {
    for (const processes of PROCESSES) {
      if (processes > 1 && !backend.shared) continue; // the memory store lives in one process
      for (const callers of CALLERS) {
        if (callers < processes) continue; // nothing to split
        const row = await runCase(backend, store, processes, callers);
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  });
} finally {
  await emulator.stop();
  removeTemp();
}

console.log('');
console.log(
  `${'store'.padEnd(9)} ${'procs'.padStart(5)} ${'callers'.padStart(7)} ${'refreshes'.padStart(9)} ${'errors'.padStart(6)} ${'tokens'.padStart(6)} ${'wall ms (median)'.padStart(16)}  (${REPEATS} expiries per case; refreshes = max per expiry)`,
);
for (const r of rows) {
  console.log(
    `${r.store.padEnd(9)} ${String(r.processes).padStart(5)} ${String(r.callers).padStart(7)} ${String(r.refreshes).padStart(9)} ${String(r.errors).padStart(6)} ${String(r.distinct_tokens).padStart(6)} ${r.ms.toFixed(1).padStart(16)}`,
  );
}
const bad = rows.filter(
  (r) => r.refreshes !== 1 || r.errors > 0 || r.distinct_tokens !== 1 || r.stale_token_handed_out,
);
console.log(
  JSON.stringify({
    bench: BENCH,
    summary: true,
    cases: rows.length,
    max_refreshes: Math.max(...rows.map((r) => r.refreshes)),
    total_errors: rows.reduce((s, r) => s + r.errors, 0),
    anomalies: bad.map(
      (r) =>
        `${r.store}/${r.processes}p/${r.callers}c: refreshes=${r.refreshes} errors=${r.errors} tokens=${r.distinct_tokens}`,
    ),
    skipped,
  }),
);
