// api-overhead: the per-call cost of our Web API client against a raw fetch of the same URL (GET /v1/me)
// with the same token: SpotifyApi.me() (typed helper → authorized fetch) and api.client.GET('/me')
// (openapi-fetch → authorized fetch), the token coming from a TokenManager over a MemoryStore.
// The emulator runs in its own process so its work does not share this event loop; the two cases alternate
// in short rounds (order swapped every round) to cancel drift. Both parse the JSON body.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_APP } from '../dist/emulator/index.js';
import { SpotifyApi, SpotifyAuth, TokenManager } from '../dist/index.js';
import { MemoryStore } from '../dist/stores/index.js';
import { report, sample, stats } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WARMUP = 500;
const ROUNDS = 30;
const PER_ROUND = 100; // 3000 calls per case

function startEmulatorProcess() {
  const script = `
    const { startEmulator } = await import(${JSON.stringify(`${ROOT}dist/emulator/index.js`)});
    const emulator = await startEmulator({ port: 0, quiet: true, autoApprove: 'alice' });
    console.log('ready ' + emulator.url);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /ready (\S+)/.exec(output);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
}

const { child, url } = await startEmulatorProcess();
try {
  const auth = new SpotifyAuth({
    clientId: SANDBOX_APP.clientId,
    clientSecret: SANDBOX_APP.clientSecret,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl: url,
    apiUrl: `${url}/v1`,
    allowInsecureHttp: true,
  });
  const request = await auth.createAuthorizationRequest({ scope: ['user-read-private'] });
  const redirect = await fetch(request.url, { redirect: 'manual' });
  const callback = redirect.headers.get('location');
  const tokens = await auth.exchangeCode(auth.validateCallback(callback, { state: request.state }), {
    codeVerifier: request.codeVerifier,
    redirectUri: request.redirectUri,
    requestedScope: request.scope,
  });
  const manager = new TokenManager({ auth, store: new MemoryStore() });
  const record = await manager.saveGrant(tokens, { id: 'alice', account_id: 'acct-alice' });
  const api = new SpotifyApi({ tokens: manager, user: record.key });
  const token = await manager.getAccessToken(record.key);

  // Same URL and token for every case: GET /v1/me.
  const target = `${url}/v1/me`;
  const raw = async () => {
    const response = await fetch(target, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`raw fetch: ${response.status}`);
    return response.json();
  };
  const helper = async () => {
    const me = await api.me();
    if (me?.id !== 'alice') throw new Error('api.me(): wrong body');
    return me;
  };
  const typed = async () => {
    const { data } = await api.client.GET('/me');
    if (data?.id !== 'alice') throw new Error('client.GET: wrong body');
    return data;
  };

  const cases = {
    'raw fetch': { fn: raw, times: [], cpu: 0 },
    'SpotifyApi.me()': { fn: helper, times: [], cpu: 0 },
    "client.GET('/me')": { fn: typed, times: [], cpu: 0 },
  };
  for (const { fn } of Object.values(cases)) await sample(fn, { iterations: 1, warmup: WARMUP });
  const order = Object.values(cases);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order every round so that no case always runs first (or right after another).
    const shift = round % order.length;
    for (const entry of [...order.slice(shift), ...order.slice(0, shift)]) {
      const before = process.cpuUsage();
      entry.times.push(...(await sample(entry.fn, { iterations: PER_ROUND, warmup: 0 })));
      const used = process.cpuUsage(before);
      entry.cpu += used.user + used.system;
    }
  }
  const rows = Object.entries(cases).map(([name, { times }]) => ({ name, ...stats(times) }));
  // CPU time of this process per call: less sensitive than wall time to a busy machine.
  const cpu = Object.fromEntries(
    Object.entries(cases).map(([name, { times, cpu }]) => [name, Number((cpu / times.length).toFixed(1))]),
  );
  console.log(`client-process CPU per call (µs): ${JSON.stringify(cpu)}`);
  report('api-overhead', 'raw fetch', rows, {
    goal: '<= 1.10',
    endpoint: 'GET /v1/me',
    rounds: ROUNDS,
    per_round: PER_ROUND,
    cpu_us_per_call: cpu,
  });
} finally {
  child.kill();
}
