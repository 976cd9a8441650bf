import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authConfigFromEnv } from '../core/env.js';
import { SpotauthError } from '../core/errors.js';
import { SpotifyAuth, type SpotifyAuthConfig } from '../core/index.js';
import { Keyring } from '../stores/encryption.js';
import { createStore } from '../stores/index.js';
import { TokenManager } from '../tokens/token-manager.js';
import { buildApp } from './app.js';
import { loadServerConfig, type ServerConfig, startupWarnings } from './config.js';
import { ServerMetrics } from './metrics.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  sandbox?: boolean;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** `spotauth serve` / `npm start`. */
export async function runServe(options: ServeOptions): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const server = await startServer(process.env, options);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function startServer(
  env: NodeJS.ProcessEnv,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const config = loadServerConfig(env, options);
  const closers: (() => Promise<void>)[] = [];
  const metrics = new ServerMetrics();

  let authConfig: SpotifyAuthConfig;
  let emulatorUrl: string | undefined;
  if (config.sandbox) {
    // Only sandbox mode loads the emulator: it is the other party, not part of the client.
    const { startEmulator, SANDBOX_APP } = await import('../emulator/index.js');
    const app = { ...SANDBOX_APP, redirectUris: [...SANDBOX_APP.redirectUris, config.redirectUri!] };
    const emulator = await startEmulator({
      port: config.emulatorPort,
      host: '127.0.0.1',
      apps: [app],
      quiet: true,
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' && !/in use/i.test(error.message)) throw error;
      return startEmulator({ port: 0, host: '127.0.0.1', apps: [app], quiet: true });
    });
    closers.push(() => emulator.stop());
    emulatorUrl = emulator.url;
    authConfig = {
      clientId: SANDBOX_APP.clientId,
      clientSecret: SANDBOX_APP.clientSecret,
      redirectUri: config.redirectUri,
      accountsUrl: emulator.url,
      apiUrl: `${emulator.url}/v1`,
      allowInsecureHttp: true,
    };
  } else {
    authConfig = authConfigFromEnv(env, { redirectUri: config.redirectUri });
  }
  const accountsBase = (authConfig.accountsUrl ?? 'https://accounts.spotify.com').replace(/\/+$/, '');
  const auth = new SpotifyAuth({ ...authConfig, fetch: metrics.timedFetch(`${accountsBase}/api/token`) });

  const keyring = await loadKeyring(config, env);
  const store = await createStore(config.storeUrl, keyring ? { keyring } : {});
  closers.push(() => store.close());
  const tokens = new TokenManager({ auth, store });
  metrics.observe(tokens);

  const app = await buildApp({
    config,
    auth,
    tokens,
    store,
    metrics,
    imageOrigins: emulatorUrl ? [emulatorUrl] : [],
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpotauthError(
      'INVALID_CONFIG',
      code === 'EADDRINUSE'
        ? `Port ${config.port} on ${config.host} is already in use; stop the other program or set PORT.`
        : `Cannot listen on ${config.host}:${config.port} (${code ?? 'error'}).`,
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url =
    config.publicUrl.port === String(config.port) || config.port !== 0
      ? config.publicUrl.origin
      : `http://${config.host}:${port}`;
  banner(config, url, emulatorUrl, keyring === null);
  return {
    url,
    close: async () => {
      await app.close();
      for (const close of closers.reverse()) await close().catch(() => {});
    },
  };
}

async function loadKeyring(config: ServerConfig, env: NodeJS.ProcessEnv): Promise<Keyring | null> {
  const fromEnv = Keyring.fromEnv(env);
  if (fromEnv) return fromEnv;
  if (config.storeUrl.startsWith('memory:')) return null;
  if (!config.sandbox) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      'Tokens are stored encrypted, so SPOTAUTH_ENCRYPTION_KEYS is required outside sandbox mode. Create a key with `spotauth keys generate` and set SPOTAUTH_ENCRYPTION_KEYS=<the printed kid:key>.',
    );
  }
  const path = join(config.dataDir, 'sandbox.key');
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let key: Buffer;
  try {
    key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  } catch {
    key = randomBytes(32);
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600 });
    process.stderr.write(
      `\n  WARNING: generated a local encryption key at ${path} (sandbox only). Outside the sandbox, set SPOTAUTH_ENCRYPTION_KEYS.\n`,
    );
  }
  await chmod(path, 0o600);
  if (key.length !== 32)
    throw new SpotauthError(
      'INVALID_CONFIG',
      `${path} is damaged; delete it (and ${config.storeUrl}) to start over.`,
    );
  return new Keyring({ sandbox: key });
}

function banner(
  config: ServerConfig,
  url: string,
  emulatorUrl: string | undefined,
  unencrypted: boolean,
): void {
  const lines = [
    '',
    `  spotauth server ${config.sandbox ? '(sandbox mode)' : ''}`.trimEnd(),
    '',
    `  Open ${url} in your browser.`,
    config.sandbox
      ? `  Spotify is played by the embedded emulator at ${emulatorUrl}: pick a test user on its consent page.`
      : `  Spotify app: ${config.clientId}, redirect URI ${config.redirectUri}`,
    `  Tokens: ${config.storeUrl}${unencrypted ? ' (memory, not persisted)' : ' (encrypted at rest)'}`,
    url.includes('localhost')
      ? ''
      : '  Use 127.0.0.1, not localhost: Spotify requires the loopback IP in redirect URIs.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const warning of startupWarnings(config)) process.stderr.write(`  WARNING: ${warning}\n\n`);
}
