/**
 * A sending instance killed with -9 in the middle of a webhook delivery loses nothing: its claim lapses and
 * another `spotauth serve` on the same store delivers the event (the same webhook-id).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/broker/webhooks/signing.js';
import { type RunningEmulator, SANDBOX_APP } from '../../src/emulator/index.js';
import { generateKey } from '../../src/stores/encryption.js';
import { CLI } from '../cli/helpers.js';
import { control, startTestEmulator } from '../support/emulator.js';
import { must } from '../support/must.js';
import { Browser, freePort } from '../support/server.js';
import { startReceiver } from '../support/webhook-receiver.js';

const SECRET = generateWebhookSecret();
let emulator: RunningEmulator;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ autoApprove: 'alice' });
  dir = mkdtempSync(join(tmpdir(), 'spotauth-webhook-crash-'));
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'],
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SPOTIFY_CLIENT_ID: SANDBOX_APP.clientId,
      SPOTIFY_CLIENT_SECRET: SANDBOX_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: `${origin}/callback`,
      SPOTAUTH_ACCOUNTS_URL: emulator.url,
      SPOTAUTH_API_URL: `${emulator.url}/v1`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(`Open ${origin}`)) resolve();
    };
    must(child.stdout, 'child.stdout').on('data', onData);
    must(child.stderr, 'child.stderr').on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${output}`)));
  });
  return child;
}

it('an instance killed mid-delivery leaves the event to another, which delivers it', async () => {
  const receiver = await startReceiver(SECRET);
  const [portA, portB] = [await freePort(), await freePort()];
  await control(emulator, 'apps', {
    client_id: SANDBOX_APP.clientId,
    client_secret: SANDBOX_APP.clientSecret,
    redirect_uris: [`http://127.0.0.1:${portA}/callback`, `http://127.0.0.1:${portB}/callback`],
  });
  const env = {
    SPOTAUTH_STORE: `sqlite:${join(dir, 'shared.db')}`,
    SPOTAUTH_ENCRYPTION_KEYS: generateKey('k1').entry,
    SPOTAUTH_WEBHOOK_URLS: receiver.url,
    SPOTAUTH_WEBHOOK_SECRET: SECRET,
    SPOTAUTH_WEBHOOK_POLL_MS: '50',
    SPOTAUTH_WEBHOOK_LEASE_MS: '1500',
  };
  try {
    receiver.state.hang = true;
    const a = await serve(portA, env);
    const { response } = await new Browser().follow(`http://127.0.0.1:${portA}/login`);
    expect(response.status).toBe(200);
    await receiver.waitFor(() => receiver.deliveries.some((d) => d.type === 'grant.linked'));
    const hung = must(
      receiver.deliveries.find((d) => d.type === 'grant.linked'),
      "receiver.deliveries.find((d) => d.type === 'grant.linked')",
    );
    expect(hung.answered).toBe('hung');
    a.kill('SIGKILL');
    await new Promise((resolve) => a.once('exit', resolve));

    receiver.state.hang = false;
    await serve(portB, env);
    await receiver.waitFor(() => receiver.acceptedIds().includes(hung.id));
    const accepted = receiver.deliveries.filter((d) => d.id === hung.id && d.answered !== 'hung');
    expect(accepted).toHaveLength(1);
    expect(must(accepted[0], 'accepted[0]').verified).toBe(true);

    // The delivery log agrees.
    const list = spawn(process.execPath, [CLI, 'webhooks', 'list', '--json', '--store', env.SPOTAUTH_STORE], {
      env: { PATH: process.env['PATH'], SPOTAUTH_ENCRYPTION_KEYS: env.SPOTAUTH_ENCRYPTION_KEYS },
    });
    let out = '';
    list.stdout.on('data', (chunk) => {
      out += chunk;
    });
    await new Promise((resolve) => list.once('exit', resolve));
    const events = JSON.parse(out) as Array<{ id: string; deliveries: Array<{ status: string }> }>;
    expect(events.find((event) => event.id === hung.id)?.deliveries[0]?.status).toBe('delivered');
  } finally {
    await receiver.close();
  }
}, 60_000);
