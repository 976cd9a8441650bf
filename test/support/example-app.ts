/**
 * Runs an app from examples/ as a real process on 127.0.0.1, with the emulator playing Spotify: the Spotify
 * app is registered at the emulator with the example's callback, and the example gets it from the
 * environment, as a user would configure it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { generateKey } from '../../src/stores/index.js';
import { startTestEmulator } from './emulator.js';
import { must } from './must.js';
import { freePort } from './server.js';
import { deleteRedisPrefix, REDIS_URL, serviceAvailable } from './services.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'node_modules/.bin');
export const CLIENT = { id: 'example-app', secret: 'example-app-secret' } as const;
export const BASE = '/auth/spotify';

export interface ExampleApp {
  url: string;
  emulator: RunningEmulator;
  /** What the example printed (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface ExampleStore {
  /** SPOTAUTH_STORE and friends for the example. */
  env: Record<string, string>;
  /** What the test runs on, for its name. */
  label: string;
  cleanup(): Promise<void>;
}

/**
 * The store an example runs on. `redis` needs the service: absent, the test runs on `fallback` instead and
 * says so loudly (under CI, serviceAvailable fails the run).
 */
export async function exampleStore(
  kind: 'sqlite' | 'redis' | 'memory',
  fallback: 'sqlite' | 'memory' = 'memory',
): Promise<ExampleStore> {
  const keys = { SPOTAUTH_ENCRYPTION_KEYS: generateKey('k1').entry };
  if (kind === 'redis') {
    if (await serviceAvailable('redis')) {
      const prefix = `spotauth-test-example-${process.pid}-${Date.now().toString(36)}:`;
      return {
        env: { ...keys, SPOTAUTH_STORE: REDIS_URL, SPOTAUTH_REDIS_PREFIX: prefix },
        label: 'Redis',
        cleanup: () => deleteRedisPrefix(prefix),
      };
    }
    console.warn(`\n*** Redis is absent: this example runs on the ${fallback} store instead ***\n`);
    kind = fallback;
  }
  if (kind === 'memory')
    return { env: { SPOTAUTH_STORE: 'memory:' }, label: 'memory', cleanup: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'spotauth-example-'));
  return {
    env: { ...keys, SPOTAUTH_STORE: `sqlite:${join(dir, 'tokens.sqlite')}` },
    label: 'SQLite',
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Starts the emulator and the example (`command args…` from `cwd`), waits until it prints `ready`.
 * The example runs in its own process group, so a launcher's children (next start → next-server) stop too.
 */
export async function startExample(options: {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  ready: RegExp;
  timeoutMs?: number;
}): Promise<ExampleApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const emulator = await startTestEmulator({
    apps: [{ clientId: CLIENT.id, clientSecret: CLIENT.secret, redirectUris: [`${url}${BASE}/callback`] }],
  });
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? tmpdir(),
      PORT: String(port),
      SPOTIFY_CLIENT_ID: CLIENT.id,
      SPOTIFY_CLIENT_SECRET: CLIENT.secret,
      SPOTIFY_REDIRECT_URI: `${url}${BASE}/callback`,
      SPOTAUTH_ACCOUNTS_URL: emulator.url,
      SPOTAUTH_API_URL: `${emulator.url}/v1`,
      ...options.env,
    },
  });
  let output = '';
  must(child.stdout, 'child.stdout').on('data', (chunk) => {
    output += chunk;
  });
  must(child.stderr, 'child.stderr').on('data', (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    await stopGroup(child);
    await emulator.stop();
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!options.ready.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the example did not start (${options.command} ${options.args.join(' ')}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, emulator, output: () => output, stop };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-must(child.pid, 'child.pid'), name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  // A launcher may exit before its children: make sure nothing of the group is left.
  signal('SIGKILL');
}
