// emulator-api: a mixed read/write Web API workload against the emulator vs a bare node:http server that
// answers every request with a fixed JSON body. Each runs in its own process; autocannon in this one sends
// both the same request sequence (every connection cycles through it), same connections and duration.
// The host's speed drifts (a shared virtual machine), so rounds are short and paired — bare then emulator,
// emulator then bare, alternating — and the ratio is the median of the per-pair ratios.
//
// The workload is what the emulator serves: each candidate request is tried once first and kept only if it
// succeeds, and the JSON line lists the requests kept. Writes go in pairs that undo each other (save then
// remove, add then remove), so the state stays the same size however long the run.
//
// Then the emulator's memory: a fresh process seeded with 1,000 users × 50 playlists × 100 items through
// the control API (POST /_emulator/state), RSS, heap and array buffers after a GC, against the same process before
// seeding. If the control API refuses the seed, part of the users are built through the Web API and the
// heap per item gives an extrapolated figure, marked as such in the JSON line.
import { fileURLToPath } from 'node:url';
import { TRACKS } from '../dist/emulator/index.js';
import { freePort, loadRound, median, startNodeProcess } from './lib.mjs';

const SERVER = fileURLToPath(new URL('./fixtures/emulator-api-server.mjs', import.meta.url));
const CONNECTIONS = 32;
const DURATION = 2;
const PAIRS = 8;
const USERS = 8;

const BARE = `
const http = require('node:http');
const body = JSON.stringify({ id: '4iV5W9uYEdYUVa79Axb7Rh', name: 'x'.repeat(40), type: 'track', uri: 'spotify:track:4iV5W9uYEdYUVa79Axb7Rh', duration_ms: 215000, explicit: false, popularity: 50, artists: [{ id: '1vCWHaC5f2uS3yhpwWbIA6', name: 'y'.repeat(20), type: 'artist' }], album: { id: '2noRn2Aes5aoNVsU6iWThc', name: 'z'.repeat(30), images: [{ url: 'http://127.0.0.1/i/'.padEnd(60, 'a'), height: 640, width: 640 }] } });
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private, max-age=0' }); res.end(body); }); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('bare ready'));
`;

/** Starts the emulator fixture; resolves with its JSON line and the child. */
async function startFixture(args, env = {}) {
  const { child, output } = await startNodeProcess(
    ['--expose-gc', SERVER, ...args],
    { USERS: String(USERS), ...env },
    /^\{.*\}$/m,
  );
  const line = output.split('\n').find((l) => l.startsWith('{'));
  return { child, info: JSON.parse(line) };
}

const emulator = await startFixture([]);
const { url, tokens } = emulator.info;
const barePort = await freePort();
const bare = await startNodeProcess(['-e', BARE], { PORT: String(barePort) }, /bare ready/);
const bareUrl = `http://127.0.0.1:${barePort}`;

async function call(token, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : null };
}

try {
  const probe = tokens[0];
  const track = (await call(probe, 'GET', `/v1/tracks/${TRACKS[0].id}`)).json;
  if (!track?.artists) throw new Error('the emulator did not serve the track to build the workload from');
  const artistId = track.artists[0].id;
  const albumId = track.album.id;
  // One playlist per user for the playlist reads and writes, if playlists can be created.
  const playlists = [];
  for (const token of tokens) {
    const created = await call(token, 'POST', '/v1/me/playlists', JSON.stringify({ name: 'bench' }));
    playlists.push(created.status === 201 ? created.json.id : null);
  }
  const hasPlaylists = playlists.every((id) => id !== null);
  const uri = `spotify:track:${track.id}`;

  /** Each entry is one request or a pair of writes that undo each other; `{pl}` is the user's playlist. */
  const candidates = [
    { name: 'GET /me', steps: [['GET', '/v1/me']] },
    { name: 'GET /tracks/{id}', steps: [['GET', `/v1/tracks/${track.id}`]] },
    { name: 'GET /artists/{id}', steps: [['GET', `/v1/artists/${artistId}`]] },
    { name: 'GET /albums/{id}', steps: [['GET', `/v1/albums/${albumId}`]] },
    { name: 'GET /search', steps: [['GET', '/v1/search?q=a&type=track,artist&limit=10']] },
    { name: 'GET /me/top/tracks', steps: [['GET', '/v1/me/top/tracks?limit=20']] },
    { name: 'GET /me/playlists', steps: [['GET', '/v1/me/playlists?limit=20']] },
    { name: 'GET /me/player/recently-played', steps: [['GET', '/v1/me/player/recently-played?limit=20']] },
    ...(hasPlaylists
      ? [{ name: 'GET /playlists/{id}/items', steps: [['GET', '/v1/playlists/{pl}/items']] }]
      : []),
    {
      name: 'PUT+DELETE /me/library',
      steps: [
        ['PUT', `/v1/me/library?uris=${encodeURIComponent(uri)}`],
        ['DELETE', `/v1/me/library?uris=${encodeURIComponent(uri)}`],
      ],
    },
    ...(hasPlaylists
      ? [
          {
            name: 'POST+DELETE /playlists/{id}/items',
            steps: [
              ['POST', `/v1/playlists/{pl}/items?uris=${encodeURIComponent(uri)}`],
              ['DELETE', '/v1/playlists/{pl}/items', JSON.stringify({ items: [{ uri }] })],
            ],
          },
        ]
      : []),
  ];
  const kept = [];
  for (const candidate of candidates) {
    let ok = true;
    for (const [method, path, body] of candidate.steps) {
      const result = await call(probe, method, path.replaceAll('{pl}', playlists[0] ?? ''), body);
      if (result.status >= 300) ok = false;
    }
    if (ok) kept.push(candidate);
    else console.log(`(left out of the workload: ${candidate.name}, not served)`);
  }
  // Every user runs the whole sequence; reads outnumber writes about 3 to 1 as in a typical app.
  const requests = tokens.flatMap((token, u) =>
    kept.flatMap((candidate) =>
      candidate.steps.map(([method, path, body]) => ({
        method,
        path: path.replaceAll('{pl}', playlists[u] ?? ''),
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body } : {}),
      })),
    ),
  );
  const writes = requests.filter((r) => r.method !== 'GET').length;

  const load = (target) => loadRound(target, { connections: CONNECTIONS, duration: DURATION, requests });
  await load(bareUrl); // warm-up
  await load(url);
  const bareResults = [];
  const emulatorResults = [];
  const pairRatios = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    let b;
    let e;
    if (pair % 2 === 0) {
      b = await load(bareUrl);
      e = await load(url);
    } else {
      e = await load(url);
      b = await load(bareUrl);
    }
    bareResults.push(b);
    emulatorResults.push(e);
    pairRatios.push(e.requests.average / b.requests.average);
  }
  const summarise = (name, results) => ({
    name,
    rps: median(results.map((r) => r.requests.average)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
  });
  const summary = [summarise('bare node:http', bareResults), summarise('emulator', emulatorResults)];
  const ratio = median(pairRatios);
  console.log(
    `${'case'.padEnd(18)} ${'req/s'.padStart(10)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}  ratio   (medians of ${PAIRS} rounds of ${DURATION} s)`,
  );
  for (const row of summary) {
    console.log(
      `${row.name.padEnd(18)} ${row.rps.toFixed(0).padStart(10)} ${row.p99.toFixed(1).padStart(8)} ${String(row.errors).padStart(7)}` +
        (row === summary[1]
          ? `  ${ratio.toFixed(3)}x  pairs: ${pairRatios.map((r) => r.toFixed(2)).join(' ')}`
          : ''),
    );
  }
  console.log(`workload: ${kept.map((c) => c.name).join(', ')} (${writes}/${requests.length} writes)`);
  const workloadLine = JSON.stringify({
    bench: 'emulator-api',
    case: 'mixed-workload',
    baseline: summary[0].name,
    ratio: Number(ratio.toFixed(4)),
    pair_ratios: pairRatios.map((r) => Number(r.toFixed(4))),
    connections: CONNECTIONS,
    duration_s: DURATION,
    pairs: PAIRS,
    users: USERS,
    workload: kept.map((c) => c.name),
    write_share: Number((writes / requests.length).toFixed(3)),
    results: summary.map((r) => ({ name: r.name, rps: Math.round(r.rps), p99_ms: r.p99, errors: r.errors })),
  });
  emulator.child.kill('SIGTERM');
  bare.child.kill('SIGTERM');

  const seeded = await startFixture(['memory'], { USERS: '1000', PLAYLISTS: '50', ITEMS: '100' });
  const { memory } = seeded.info;
  const { users, playlists: perUser, items } = memory.seeded;
  const full = users === 1000;
  // Heap per seeded playlist item (with what typed arrays hold outside the heap), and the figure it gives
  // for 1,000 users when fewer were seeded.
  const held = (m) => m.heap_used_mb + (m.array_buffers_mb ?? 0);
  const perItemBytes =
    users > 0 ? ((held(memory.after) - held(memory.before)) * 1048576) / (users * perUser * items) : null;
  const extrapolatedHeapMb =
    !full && perItemBytes !== null
      ? Math.round(held(memory.before) + (perItemBytes * 1000 * perUser * items) / 1048576)
      : null;
  console.log(
    `memory: ${memory.before.rss_mb} MB RSS (${memory.before.heap_used_mb} MB heap) before seeding; ` +
      `${memory.after.rss_mb} MB RSS (${memory.after.heap_used_mb} MB heap + ${memory.after.array_buffers_mb} MB array buffers) with ${users} users × ${perUser} playlists × ${items} items` +
      ` (seeded through ${memory.via} in ${memory.seed_s.toFixed(1)} s)` +
      (perItemBytes !== null ? `; ${perItemBytes.toFixed(0)} B of heap and buffers per item` : '') +
      (extrapolatedHeapMb !== null
        ? `; about ${extrapolatedHeapMb} MB of heap for 1,000 users (extrapolated)`
        : '') +
      (memory.notes.length ? `\n  notes: ${memory.notes.join('; ')}` : ''),
  );
  const memoryLine = JSON.stringify({
    bench: 'emulator-api',
    case: 'memory',
    users,
    playlists_per_user: perUser,
    items_per_playlist: items,
    seeded_via: memory.via,
    before: memory.before,
    after: memory.after,
    heap_bytes_per_item: perItemBytes === null ? null : Math.round(perItemBytes),
    ...(extrapolatedHeapMb !== null ? { extrapolated_heap_mb_1000_users: extrapolatedHeapMb } : {}),
    seed_s: Number(memory.seed_s.toFixed(2)),
    ...(memory.notes.length ? { notes: memory.notes } : {}),
  });
  console.log(workloadLine);
  console.log(memoryLine);
} finally {
  emulator.child.kill('SIGTERM');
  bare.child.kill('SIGTERM');
}
