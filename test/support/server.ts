import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SpotifyAuth } from '../../src/core/index.js';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.js';
import { SANDBOX_APP } from '../../src/emulator/index.js';
import { type AppDependencies, buildApp } from '../../src/server/app.js';
import { loadServerConfig } from '../../src/server/config.js';
import { loggerOptions } from '../../src/server/logging.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { MemoryStore, type TokenStore } from '../../src/stores/index.js';
import { TokenManager, type TokenManagerOptions } from '../../src/tokens/index.js';
import { startTestEmulator } from './emulator.js';
import { must } from './must.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  url: string;
  emulator: RunningEmulator;
  tokens: TokenManager;
  store: TokenStore;
  logs: string[];
  close(): Promise<void>;
}

/**
 * The real server app, listening on a real port, with the emulator playing Spotify — as in sandbox mode,
 * but with the emulator's options in the test's hands and logs captured.
 */
export async function startTestServer(
  options: {
    emulator?: EmulatorOptions;
    env?: Record<string, string>;
    store?: TokenStore;
    tokens?: Partial<TokenManagerOptions>;
    /** Sees every request the server's SpotifyAuth sends (token endpoint, readiness probes). */
    onAuthFetch?: (url: string, init: RequestInit | undefined) => void;
    /** Broker settings (proxy limits and base, key cache, hooks). */
    broker?: AppDependencies['broker'];
    /** Reuse a running emulator (several server instances on one Spotify); the caller stops it. */
    sharedEmulator?: RunningEmulator;
  } = {},
): Promise<TestServer> {
  const emulator =
    options.sharedEmulator ?? (await startTestEmulator({ autoApprove: 'alice', ...options.emulator }));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  await fetch(`${emulator.url}/_emulator/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: SANDBOX_APP.clientId,
      client_secret: SANDBOX_APP.clientSecret,
      redirect_uris: [...SANDBOX_APP.redirectUris, `${origin}/callback`],
    }),
  });
  const config = loadServerConfig({
    PORT: String(port),
    SPOTAUTH_STORE: 'memory:',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const metrics = new ServerMetrics();
  const auth = new SpotifyAuth({
    clientId: SANDBOX_APP.clientId,
    clientSecret: SANDBOX_APP.clientSecret,
    redirectUri: config.redirectUri,
    accountsUrl: emulator.url,
    apiUrl: `${emulator.url}/v1`,
    allowInsecureHttp: true,
    fetch: observed(metrics.timedFetch(`${emulator.url}/api/token`), options.onAuthFetch),
  });
  const store = options.store ?? new MemoryStore();
  const tokens = new TokenManager({
    auth,
    store,
    retry: { baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 1_000 },
    ...options.tokens,
  });
  metrics.observe(tokens);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino(loggerOptions('debug'), sink);
  const app = await buildApp({
    config,
    auth,
    tokens,
    store,
    metrics,
    logger,
    imageOrigins: [emulator.url],
    ...(options.broker ? { broker: options.broker } : {}),
  });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url: origin,
    emulator,
    tokens,
    store,
    logs,
    close: async () => {
      await app.close();
      if (!options.sharedEmulator) await emulator.stop();
    },
  };
}

function observed(
  fetch: typeof globalThis.fetch,
  observer: ((url: string, init: RequestInit | undefined) => void) | undefined,
): typeof globalThis.fetch {
  if (!observer) return fetch;
  return (input, init) => {
    observer(input instanceof Request ? input.url : String(input), init);
    return fetch(input, init);
  };
}

/** A minimal browser: a cookie jar and manual redirects, so every hop can be inspected. */
export class Browser {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, { method: 'GET', headers });
  }

  async request(url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.cookies.size > 0 && !('cookie' in headers)) headers['cookie'] = this.cookieHeader();
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = must(pair, 'pair').indexOf('=');
      const name = must(pair, 'pair').slice(0, index).trim();
      const value = must(pair, 'pair')
        .slice(index + 1)
        .trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects (collecting every hop) until a non-redirect answer or `stopAt` matches. */
  async follow(
    url: string,
    stopAt?: (url: string) => boolean,
  ): Promise<{ response: Response; hops: string[] }> {
    const hops: string[] = [url];
    let current = url;
    for (let i = 0; i < 10; i++) {
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, hops };
      current = new URL(location, current).href;
      hops.push(current);
      if (stopAt?.(current)) return { response, hops };
    }
    throw new Error(`too many redirects: ${hops.join(' → ')}`);
  }

  /** Logs in through /login → emulator (auto-approve) → /callback → the return page. */
  async login(server: TestServer, path = '/login'): Promise<{ hops: string[]; final: Response }> {
    const { response, hops } = await this.follow(`${server.url}${path}`);
    return { hops, final: response };
  }
}
