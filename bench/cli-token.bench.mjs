// Wall time of `spotauth token` with a valid cached token, against `node -e 0` (the floor: starting Node).
// Both are spawned in the same run, interleaved, so machine noise hits them alike. Goal: ratio ≤ 1.5×.
//
// Set-up: a temporary XDG_CONFIG_HOME holding a logged-in profile, written through the built package's
// FileStore with the CLI's key file (exactly what `spotauth login` leaves behind), so no network is involved.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { report, stats } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const { Keyring } = await import(join(root, 'dist/index.js'));
const { FileStore } = await import(join(root, 'dist/stores/index.js'));

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;

const xdg = mkdtempSync(join(tmpdir(), 'spotauth-bench-'));
const dir = join(xdg, 'spotauth');
mkdirSync(dir, { recursive: true, mode: 0o700 });
const key = randomBytes(32);
writeFileSync(join(dir, 'key'), `${key.toString('base64')}\n`, { mode: 0o600 });
const store = new FileStore(join(dir, 'credentials.json'), { keyring: new Keyring({ cli: key }) });
const now = Date.now();
const accessToken = `bench_${randomBytes(16).toString('hex')}`;
await store.put(
  {
    key: 'user:default:alice',
    accessToken,
    accessTokenExpiresAt: now + 3600_000,
    refreshToken: `bench_refresh_${randomBytes(16).toString('hex')}`,
    scope: ['user-read-private', 'user-read-email'],
    status: 'active',
    authorizedAt: now,
    refreshTokenDeadline: now + 182 * 24 * 3600_000,
    meta: {
      profile: 'default',
      clientId: 'spotauth-sandbox-client',
      accountsUrl: 'http://127.0.0.1:9/',
      apiUrl: 'http://127.0.0.1:9/v1',
      spotifyId: 'alice',
      displayName: 'Alice',
    },
  },
  null,
);

const env = { ...process.env, XDG_CONFIG_HOME: xdg, SPOTAUTH_NO_KEYRING: '1' };
delete env.SPOTAUTH_PROFILE;
delete env.SPOTAUTH_ENCRYPTION_KEYS;
delete env.SPOTAUTH_CONFIG_DIR;

const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'spotauth token', args: [cli, 'token'], expect: accessToken },
];

function run(c) {
  const start = performance.now();
  const result = spawnSync(process.execPath, c.args, { env, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0 || (c.expect && result.stdout.trim() !== c.expect)) {
    throw new Error(`${c.name} failed (exit ${result.status}): ${result.stderr.trim()}`);
  }
  return ms;
}

try {
  for (let i = 0; i < WARMUP; i++) for (const c of cases) run(c);
  const times = new Map(cases.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order too, so neither case always runs right after the other.
    const order = i % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) times.get(c.name).push(run(c));
  }
  const rows = cases.map((c) => ({ name: c.name, ...stats(times.get(c.name)) }));
  const ratio = rows[1].p50 / rows[0].p50;
  report('cli-token', 'node -e 0', rows, { goal: 1.5, met: ratio <= 1.5, runs: RUNS });
} finally {
  rmSync(xdg, { recursive: true, force: true });
}
