import { existsSync } from 'node:fs';
import { keepTickShapesAlive } from '../auth/tick-shapes.js';
import { loadWebhookConfig } from '../broker/webhooks/config.js';
import { authConfigFromEnv } from '../core/env.js';
import { SpotauthError } from '../core/errors.js';
import { SpotifyAuth, type SpotifyAuthConfig } from '../core/index.js';
import { createStore } from '../stores/index.js';
import { TokenManager } from '../tokens/token-manager.js';
import { buildApp } from './app.js';
import { loadServerConfig, parsePort, type ServerConfig, startupWarnings } from './config.js';
import { loadKeyring } from './keyring.js';
import { ServerMetrics } from './metrics.js';

/** Command-line overrides of the environment, for {@link startServer}. */
export interface ServeOptions {
  /** Where to listen; 0 for any free port (overrides PORT). Default 8888. */
  port?: number;
  /** Address to bind. Default: HOST, else 127.0.0.1. */
  host?: string;
  /** Play Spotify with the embedded emulator even if SPOTIFY_CLIENT_ID is set. */
  sandbox?: boolean;
}

/** `spotauth serve`'s flags as the command line gives them: text, parsed in {@link runServe}. */
export interface ServeFlags {
  /** The port, as typed (overrides PORT). */
  port?: string;
  /** The address to listen on (overrides HOST). */
  host?: string;
  /** Run against the embedded emulator even with SPOTIFY_CLIENT_ID set. */
  sandbox?: boolean;
}

/** A listening server. */
export interface RunningServer {
  /** The public URL (SPOTAUTH_PUBLIC_URL, or where it listens). */
  url: string;
  /** Stops listening, closes the store, and stops the sandbox's emulator. */
  close(): Promise<void>;
}

/** `spotauth serve` / `npm start`. */
export async function runServe(flags: ServeFlags): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { port, ...rest } = flags;
  const options: ServeOptions = port === undefined ? rest : { ...rest, port: parsePort('--port', port) };
  const server = await startServer(process.env, options);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * Starts the standalone server from an environment, as `spotauth serve` does: the settings, the store,
 * the keyring, the token manager, webhooks, and in sandbox mode the emulator.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for bad settings, a missing encryption key, or a port
 * already in use; `STORE_UNAVAILABLE` when the store cannot be opened.
 *
 * @example
 * ```ts
 * const server = await startServer(process.env, { port: '8888' });
 * console.log(`Open ${server.url}`);
 * process.once('SIGTERM', () => void server.close());
 * ```
 */
export async function startServer(
  env: NodeJS.ProcessEnv,
  options: ServeOptions = {},
): Promise<RunningServer> {
  // Before the emulator, the store and the app start (and collect garbage): see keepTickShapesAlive.
  keepTickShapesAlive();
  const config = loadServerConfig(env, options);
  const webhooks = loadWebhookConfig(env);
  const closers: (() => Promise<void>)[] = [];
  const metrics = new ServerMetrics();

  let authConfig: SpotifyAuthConfig;
  let emulatorUrl: string | undefined;
  if (config.sandbox) {
    // Only sandbox mode loads the emulator: it is the other party, not part of the client.
    const { startEmulator, SANDBOX_APP } = await import('../emulator/index.js');
    const app = { ...SANDBOX_APP, redirectUris: [...SANDBOX_APP.redirectUris, config.redirectUri] };
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
  const tokens = new TokenManager({ auth, store, webhookEvents: webhooks !== null });
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
  if (webhooks) {
    const { startWebhooks } = await import('../broker/webhooks/service.js');
    const running = startWebhooks(store, webhooks, app.log);
    closers.push(() => running.stop());
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
