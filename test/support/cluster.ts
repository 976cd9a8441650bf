/**
 * N identical `spotauth serve` processes (the built CLI) on one PostgreSQL or one Redis, behind a real
 * nginx doing plain round-robin, with one shared emulator playing Spotify — what a production deployment
 * of several instances looks like, on one machine. The instances are configured as a normal (non-sandbox)
 * app pointed at the emulator, trust the proxy, and know nginx's address as their public URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createStore, Keyring, type TokenStore } from '../../src/stores/index.js';
import { must } from './must.js';
import { type RunningNginx, startNginx, UPSTREAM_HEADER } from './nginx.js';
import { freePort } from './server.js';
import {
  DATABASE_URL,
  deleteRedisPrefix,
  dropPostgresSchema,
  REDIS_URL,
  serviceAvailable,
} from './services.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const CLUSTER_APP = {
  clientId: 'multi-instance-app',
  clientSecret: 'multi-instance-secret',
} as const;

export type StoreKind = 'postgres' | 'redis';

export const STORES: { name: string; kind: StoreKind }[] = [
  { name: 'PostgreSQL', kind: 'postgres' },
  { name: 'Redis', kind: 'redis' },
];

/** `url` with one more query parameter. */
function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

/** A store URL of its own for one run (a fresh schema or key prefix), and how to remove it. */
export function uniqueStore(kind: StoreKind): { url: string; cleanup(): Promise<void> } {
  const suffix = randomBytes(5).toString('hex');
  if (kind === 'postgres') {
    const schema = `spotauth_mi_${suffix}`;
    return { url: withParam(DATABASE_URL, 'schema', schema), cleanup: () => dropPostgresSchema(schema) };
  }
  const prefix = `spotauth-mi-${suffix}:`;
  return { url: withParam(REDIS_URL, 'prefix', prefix), cleanup: () => deleteRedisPrefix(prefix) };
}

export interface Instance {
  index: number;
  /** Its own address, bypassing nginx (`http://127.0.0.1:PORT`). */
  url: string;
  /** `127.0.0.1:PORT`, as nginx names it in the upstream header. */
  address: string;
  process: ChildProcess;
  /** Everything it printed (pino JSON lines and the banner). */
  output(): string;
  /** Still running (not killed, not exited). */
  alive(): boolean;
}

export interface Cluster {
  /** nginx's address: the public URL of every instance. */
  url: string;
  nginx: RunningNginx;
  emulator: RunningEmulator;
  instances: Instance[];
  storeUrl: string;
  keys: string;
  /** The instance that answered a response that went through nginx (by the upstream header). */
  servedBy(response: Response): Instance | undefined;
  /** A request straight to one instance, with the headers nginx would add. */
  direct(
    instance: Instance,
    path: string,
    init?: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response>;
  /** The same store the instances use, opened in the test process. */
  openStore(): Promise<TokenStore>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  store: StoreKind;
  instances?: number;
  emulator?: EmulatorOptions;
  logLevel?: string;
  env?: Record<string, string>;
}

/** Whether the store's service is there (skips loudly when not; fails under CI). */
export function storeAvailable(kind: StoreKind): Promise<boolean> {
  return serviceAvailable(kind);
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 3;
  const nginxPort = await freePort();
  const publicUrl = `http://127.0.0.1:${nginxPort}`;
  const emulator = await startEmulator({
    port: 0,
    quiet: true,
    ...options.emulator,
    apps: [
      {
        clientId: CLUSTER_APP.clientId,
        clientSecret: CLUSTER_APP.clientSecret,
        redirectUris: [`${publicUrl}/callback`],
      },
      ...(options.emulator?.apps ?? []),
    ],
  });
  const store = uniqueStore(options.store);
  const keys = `mi1:${randomBytes(32).toString('base64')}`;
  const dir = mkdtempSync(join(tmpdir(), 'spotauth-cluster-'));
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    SPOTIFY_CLIENT_ID: CLUSTER_APP.clientId,
    SPOTIFY_CLIENT_SECRET: CLUSTER_APP.clientSecret,
    SPOTIFY_REDIRECT_URI: `${publicUrl}/callback`,
    SPOTAUTH_ACCOUNTS_URL: emulator.url,
    SPOTAUTH_API_URL: `${emulator.url}/v1`,
    SPOTAUTH_STORE: store.url,
    SPOTAUTH_ENCRYPTION_KEYS: keys,
    SPOTAUTH_PUBLIC_URL: publicUrl,
    SPOTAUTH_TRUST_PROXY: 'true',
    // Every test request comes from 127.0.0.1; the limit is per instance and per client address.
    SPOTAUTH_LOGIN_RATE_LIMIT: '600',
    LOG_LEVEL: options.logLevel ?? 'info',
    ...options.env,
  };
  const instances: Instance[] = [];
  let nginx: RunningNginx | undefined;
  const stopAll = async () => {
    await nginx?.stop();
    await Promise.all(instances.map((instance) => stopInstance(instance.process)));
    await emulator.stop();
    await store.cleanup().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The first instance creates the schema (migrations); the others then start side by side.
    instances.push(await startInstance(0, env, dir));
    instances.push(
      ...(await Promise.all(Array.from({ length: count - 1 }, (_, i) => startInstance(i + 1, env, dir)))),
    );
    nginx = await startNginx({ port: nginxPort, upstreams: instances.map((i) => i.address) });
  } catch (error) {
    await stopAll();
    throw error;
  }
  const running = nginx;
  return {
    url: publicUrl,
    nginx: running,
    emulator,
    instances,
    storeUrl: store.url,
    keys,
    servedBy(response) {
      // After a retry nginx lists every upstream it tried ("a, b"); the last one answered.
      const addresses = response.headers.get(UPSTREAM_HEADER)?.split(',') ?? [];
      const last = addresses.at(-1)?.trim();
      return instances.find((instance) => instance.address === last);
    },
    direct(instance, path, init = {}) {
      return fetch(`${instance.url}${path}`, {
        redirect: 'manual',
        ...init,
        headers: {
          'x-forwarded-host': `127.0.0.1:${nginxPort}`,
          'x-forwarded-proto': 'http',
          'x-forwarded-for': '127.0.0.1',
          ...init.headers,
        },
      });
    },
    openStore: () => createStore(store.url, { keyring: Keyring.parse(keys) }),
    stop: stopAll,
  };
}

async function startInstance(index: number, env: Record<string, string>, cwd: string): Promise<Instance> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  must(child.stdout, 'child.stdout').on('data', (chunk) => {
    output += chunk;
  });
  must(child.stderr, 'child.stderr').on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 30_000;
  const banner = /Open http:\/\/127\.0\.0\.1:(\d+) in your browser/;
  while (!banner.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`instance ${index} did not start: ${output.slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const port = Number(must(banner.exec(output), 'banner.exec(output)')[1]);
  return {
    index,
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    process: child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

async function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Pino lines an instance printed, parsed (the banner and other text skipped). */
export function logLines(instance: Instance): Record<string, unknown>[] {
  return instance
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Cookie jar + manual redirects for one simulated browser talking to the cluster. */
export class Client {
  readonly cookies = new Map<string, string>();

  constructor(readonly cluster: Cluster) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** Through nginx (`instance` undefined) or straight to one instance. */
  async request(
    path: string,
    init: RequestInit & { headers?: Record<string, string>; instance?: Instance } = {},
  ): Promise<Response> {
    const { instance, ...rest } = init;
    const headers: Record<string, string> = { ...(rest.headers ?? {}) };
    if (this.cookies.size > 0 && !('cookie' in headers)) headers['cookie'] = this.cookieHeader();
    const response = instance
      ? await this.cluster.direct(instance, path, { ...rest, headers })
      : await fetch(`${this.cluster.url}${path}`, { redirect: 'manual', ...rest, headers });
    this.keep(response);
    return response;
  }

  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /**
   * Logs in with the emulator auto-approving (its `auto_approve` must name the user): /login on `start`,
   * /callback on `finish` (each an instance, or undefined for nginx). Returns the callback path and the
   * responses, for replay tests.
   */
  async login(
    start?: Instance,
    finish?: Instance,
  ): Promise<{ callbackPath: string; loginCookie: string; login: Response; callback: Response }> {
    const login = await this.request('/login', start ? { instance: start } : {});
    if (login.status !== 303) throw new Error(`/login answered ${login.status}: ${await login.text()}`);
    const loginCookie = must(this.cookies.get('spotauth_login'), 'a spotauth_login cookie');
    const authorize = await fetch(must(login.headers.get('location'), 'a location header'), {
      redirect: 'manual',
    });
    const location = authorize.headers.get('location');
    if (!location?.startsWith(`${this.cluster.url}/callback?`))
      throw new Error(`authorize did not come back: ${authorize.status} ${location}`);
    const callbackPath = location.slice(this.cluster.url.length);
    const callback = await this.request(callbackPath, finish ? { instance: finish } : {});
    return { callbackPath, loginCookie, login, callback };
  }

  /** The session's CSRF token (GET /session). */
  async csrfToken(instance?: Instance): Promise<string> {
    const response = await this.request('/session', instance ? { instance } : {});
    if (response.status !== 200) throw new Error(`/session answered ${response.status}`);
    return ((await response.json()) as { csrf_token: string }).csrf_token;
  }
}

export { UPSTREAM_HEADER };
