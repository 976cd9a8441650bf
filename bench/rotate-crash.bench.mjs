// rotate-crash: what a kill -9 at a random moment of a refresh costs when Spotify rotates refresh tokens
// (the outside crash test of issue 11, redone). Per store and trial: a worker process refreshes an expired
// token while the emulator delays the request 0.5–2 s; the worker is killed at a random moment between its
// start and the answer; then a fresh caller asks for the token. Outcome: kept (a valid token) or lost (one
// clean REAUTH_REQUIRED), classified by where the kill landed, seen from the emulator at that moment:
// before the request arrived, while it was at the token endpoint, or after the endpoint had answered
// (the answer in transit or being stored). Baseline for the ratio: the kills that landed at the endpoint,
// where no client can keep the rotated token (the endpoint finishes a request whose client is gone).
// One JSON line per store: {"bench":"rotate-crash","store",...}.
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TokenManager } from '../dist/index.js';
import { spawnWorker, startSession } from './fixtures/emulator-session.mjs';
import { forEachStore, median, storeBackends } from './lib.mjs';

const BENCH = 'rotate-crash';
const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
const keysSpec = `bench:${randomBytes(32).toString('base64')}`;
const { backends, runId, removeTemp } = await storeBackends('rk');

const session = await startSession({ refreshMode: 'rotate' });
const { auth, control, stats, expiredGrant, workerEnv } = session;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How far the emulator has got with refresh requests: arrived, and answered (success or error). */
async function progress() {
  const s = await stats();
  return {
    arrived: s.token_requests.refresh_token,
    answered: s.token_successes + Object.values(s.token_errors).reduce((a, b) => a + b, 0),
  };
}

async function trial(backend, store, index) {
  const accountId = `acct-rk-${backend.name}-${index}-${runId}`;
  await expiredGrant(store, accountId);
  const latencyMs = randomInt(500, 2_001);
  await control('faults', { endpoint: 'token', kind: 'latency', latency_ms: latencyMs });
  const worker = spawnWorker({ ...workerEnv(backend, keysSpec, accountId), CONCURRENCY: '1' });
  worker.result.catch(() => {});
  await worker.ready;
  const start = await progress();
  worker.child.stdin.write('go\n');
  // Uniform over the refresh: from "go" to a little past the endpoint's answer.
  await sleep(randomInt(0, latencyMs + 150));
  const at = await progress();
  const killedAt = performance.now();
  worker.child.kill('SIGKILL');
  await worker.exited;
  const phase =
    at.arrived === start.arrived
      ? 'before_request'
      : at.answered === start.answered
        ? 'at_endpoint'
        : 'after_answer';
  // The delay was meant for the dead worker's request: one that never arrived leaves it unused.
  if (phase === 'before_request') await control('faults', undefined, 'DELETE');
  // Let the endpoint finish what it received.
  if (phase === 'at_endpoint') {
    const deadline = Date.now() + latencyMs + 5_000;
    while ((await progress()).answered === start.answered && Date.now() < deadline) await sleep(10);
  }
  const caller = new TokenManager({ auth, store });
  let outcome;
  try {
    const token = await caller.getAccessToken(accountId);
    outcome = session.emulator.state.lookupAccessToken(token) ? 'kept' : 'invalid';
  } catch (error) {
    outcome = error?.code === 'REAUTH_REQUIRED' ? 'lost' : `error:${error?.code}`;
  }
  return { phase, outcome, ms: performance.now() - killedAt };
}

const rows = [];
let skipped = [];
try {
  skipped = await forEachStore(backends, keysSpec, async (backend, store) => {
    const results = [];
    for (let i = 0; i < TRIALS; i++) results.push(await trial(backend, store, i));
    const byPhase = {};
    for (const phase of ['before_request', 'at_endpoint', 'after_answer']) {
      const inPhase = results.filter((r) => r.phase === phase);
      byPhase[phase] = { trials: inPhase.length, lost: inPhase.filter((r) => r.outcome === 'lost').length };
    }
    const lost = results.filter((r) => r.outcome === 'lost');
    const kept = results.filter((r) => r.outcome === 'kept');
    const row = {
      bench: BENCH,
      store: backend.name,
      trials: results.length,
      lost: lost.length,
      kept: kept.length,
      other: results.filter((r) => r.outcome !== 'lost' && r.outcome !== 'kept').map((r) => r.outcome),
      by_phase: byPhase,
      baseline: 'kills at the token endpoint',
      ratio_lost_to_at_endpoint: byPhase.at_endpoint.trials
        ? Number((lost.length / byPhase.at_endpoint.trials).toFixed(3))
        : null,
      reauth_after_kill_median_ms: lost.length ? Math.round(median(lost.map((r) => r.ms))) : null,
      token_after_kill_median_ms: kept.length ? Math.round(median(kept.map((r) => r.ms))) : null,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  });
} finally {
  await session.emulator.stop();
  removeTemp();
}

console.log('');
console.log(
  `${'store'.padEnd(9)} ${'trials'.padStart(6)} ${'lost'.padStart(5)} ${'at endpoint'.padStart(12)} ${'lost there'.padStart(11)} ${'before'.padStart(7)} ${'after answer'.padStart(13)}  reauth after kill (p50)`,
);
for (const r of rows) {
  const p = r.by_phase;
  console.log(
    `${r.store.padEnd(9)} ${String(r.trials).padStart(6)} ${String(r.lost).padStart(5)} ${String(p.at_endpoint.trials).padStart(12)} ${String(p.at_endpoint.lost).padStart(11)} ${`${p.before_request.lost}/${p.before_request.trials}`.padStart(7)} ${`${p.after_answer.lost}/${p.after_answer.trials}`.padStart(13)}  ${r.reauth_after_kill_median_ms ?? '-'} ms`,
  );
}
if (skipped.length) console.log(`skipped (service not reachable): ${skipped.join(', ')}`);
