import { ENV, type Env } from '../core/env.js';
import { SpotauthError } from '../core/errors.js';
import { assertValidRedirectUri } from '../core/redirect-uri.js';
import { parseScopes } from '../core/scopes.js';

/** Every setting of `spotauth serve`, from the environment (a `.env` file is read first if present). */
export interface ServerConfig {
  /** No SPOTIFY_CLIENT_ID (or --sandbox): the embedded emulator plays Spotify. */
  sandbox: boolean;
  /** HOST: the address to listen on. Default `127.0.0.1`. */
  host: string;
  /** PORT: the port to listen on. Default 8888. */
  port: number;
  /** The origin users open (e.g. http://127.0.0.1:8888 or https://music.example). Cookies become __Host- + Secure on https. */
  publicUrl: URL;
  /** SPOTIFY_CLIENT_ID; undefined in sandbox mode. */
  clientId: string | undefined;
  /** SPOTIFY_CLIENT_SECRET: required outside sandbox mode (the server is a confidential client). */
  clientSecret: string | undefined;
  /** SPOTIFY_REDIRECT_URI, on the server's own origin; `<publicUrl>/callback` in sandbox mode. */
  redirectUri: string;
  /** SPOTAUTH_ACCOUNTS_URL: the accounts service, when not Spotify's. */
  accountsUrl: string | undefined;
  /** SPOTAUTH_API_URL: the Web API, when not Spotify's. */
  apiUrl: string | undefined;
  /**
   * SPOTAUTH_STORE: where tokens live: a SQLite path (default `<dataDir>/spotauth.sqlite`), postgres://…,
   * redis://…, or memory:.
   */
  storeUrl: string;
  /**
   * SPOTAUTH_DATA_DIR: folder for the default SQLite file and the sandbox's generated key. Default `.data`.
   */
  dataDir: string;
  /**
   * SPOTAUTH_SCOPE: scopes requested by "Log in with Spotify". Default: `user-read-private user-read-email
   * user-top-read user-read-currently-playing user-read-recently-played`.
   */
  scope: string[];
  /**
   * SPOTAUTH_BROKER_KEYS (comma-separated): shared secrets that other backend services present to the token
   * broker API (Bearer).
   */
  brokerKeys: string[];
  /**
   * SPOTAUTH_TRUST_PROXY=1: take the client address and protocol from X-Forwarded-* (only behind your own
   * proxy). Default false.
   */
  trustProxy: boolean;
  /** SPOTAUTH_METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <it>`. */
  metricsToken: string | undefined;
  /** LOG_LEVEL: a pino level (`fatal` … `trace`, `silent`). Default `info`. */
  logLevel: string;
  /**
   * SPOTAUTH_EMULATOR_PORT: where sandbox mode starts its emulator (another free port if taken). Default
   * 8889.
   */
  emulatorPort: number;
  /** SPOTAUTH_LOGIN_RATE_LIMIT: requests per minute per client IP on /login and /callback. Default 30. */
  loginRateLimit: number;
}

/** The scopes the standalone server asks for unless SPOTAUTH_SCOPE says otherwise. */
export const DEFAULT_SCOPE =
  'user-read-private user-read-email user-top-read user-read-currently-playing user-read-recently-played';

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Reads every setting of `spotauth serve` from the environment. Without SPOTIFY_CLIENT_ID (or with
 * `options.sandbox`) the server runs in sandbox mode, against an embedded emulator.
 *
 * @param options - Command-line overrides: `sandbox`, `port` (as typed), `host`.
 * @throws `SpotauthError` `INVALID_CONFIG` naming the variable at fault: a missing redirect URI or
 * secret, a redirect URI that breaks Spotify's rules or is not on SPOTAUTH_PUBLIC_URL's origin, a bad
 * port, log level, scope, broker key or metrics token.
 */
export function loadServerConfig(
  env: Env,
  options: { sandbox?: boolean; port?: string; host?: string } = {},
): ServerConfig {
  const clientId = env[ENV.clientId] || undefined;
  const sandbox = options.sandbox === true || clientId === undefined;
  const host = options.host ?? env['HOST'] ?? '127.0.0.1';
  const port = parsePort('PORT', options.port ?? env['PORT'] ?? '8888');
  const publicUrl = parsePublicUrl(
    env['SPOTAUTH_PUBLIC_URL'] ??
      `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
  );
  const redirectUri = sandbox ? `${publicUrl.origin}/callback` : env[ENV.redirectUri];
  // Only a real app (not the sandbox) can be without one.
  if (!redirectUri) {
    throw configError(
      `${ENV.redirectUri} is required with ${ENV.clientId} (e.g. ${publicUrl.origin}/callback, registered in your Spotify app).`,
    );
  }
  if (!sandbox && !env[ENV.clientSecret]) {
    throw configError(
      `${ENV.clientSecret} is required: the server is a confidential client (find it in the Spotify Developer Dashboard).`,
    );
  }
  try {
    assertValidRedirectUri(redirectUri);
  } catch (error) {
    throw configError(`${ENV.redirectUri}: ${(error as Error).message}`);
  }
  const callback = new URL(redirectUri);
  if (callback.origin !== publicUrl.origin) {
    throw configError(
      `${ENV.redirectUri} (${callback.origin}) must be on the server's own origin ${publicUrl.origin}; set SPOTAUTH_PUBLIC_URL to the address users open.`,
    );
  }
  const dataDir = env['SPOTAUTH_DATA_DIR'] || '.data';
  const storeUrl = env['SPOTAUTH_STORE'] || `${dataDir}/spotauth.sqlite`;
  const logLevel = env['LOG_LEVEL'] || 'info';
  if (!LOG_LEVELS.has(logLevel)) throw configError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}.`);
  let scope: string[];
  try {
    scope = parseScopes(env['SPOTAUTH_SCOPE'] || DEFAULT_SCOPE);
  } catch (error) {
    throw configError(`SPOTAUTH_SCOPE: ${(error as Error).message}`);
  }
  const brokerKeys = (env['SPOTAUTH_BROKER_KEYS'] ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  for (const key of brokerKeys) {
    if (key.length < 32)
      throw configError(
        'Each SPOTAUTH_BROKER_KEYS entry must be at least 32 characters (use `openssl rand -hex 32`).',
      );
  }
  const metricsToken = env['SPOTAUTH_METRICS_TOKEN'] || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16)
    throw configError('SPOTAUTH_METRICS_TOKEN must be at least 16 characters (use `openssl rand -hex 32`).');
  return {
    sandbox,
    host,
    port,
    publicUrl,
    clientId,
    clientSecret: env[ENV.clientSecret] || undefined,
    redirectUri,
    accountsUrl: env[ENV.accountsUrl] || undefined,
    apiUrl: env[ENV.apiUrl] || undefined,
    storeUrl,
    dataDir,
    scope,
    brokerKeys,
    trustProxy: env['SPOTAUTH_TRUST_PROXY'] === '1' || env['SPOTAUTH_TRUST_PROXY'] === 'true',
    metricsToken,
    logLevel,
    emulatorPort: parsePort('SPOTAUTH_EMULATOR_PORT', env['SPOTAUTH_EMULATOR_PORT'] ?? '8889'),
    loginRateLimit: parsePositive('SPOTAUTH_LOGIN_RATE_LIMIT', env['SPOTAUTH_LOGIN_RATE_LIMIT'] ?? '30'),
  };
}

function parsePort(name: string, raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw configError(`${name} must be a port number (got ${JSON.stringify(raw.slice(0, 20))}).`);
  return port;
}

function parsePositive(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw configError(`${name} must be a positive whole number.`);
  return value;
}

function parsePublicUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(`SPOTAUTH_PUBLIC_URL ${JSON.stringify(raw.slice(0, 100))} is not a URL.`);
  }
  if (url.hostname === 'localhost') {
    throw configError(
      `SPOTAUTH_PUBLIC_URL uses "localhost", but Spotify refuses localhost redirect URIs; use ${raw.replace('localhost', '127.0.0.1')} and open the app there.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError('SPOTAUTH_PUBLIC_URL must be http(s).');
  return new URL(url.origin);
}

function configError(message: string): SpotauthError {
  return new SpotauthError('INVALID_CONFIG', message);
}

/**
 * What a person starting this configuration should know about its security (printed at start):
 * plain http outside the sandbox, and metrics open to the network.
 */
export function startupWarnings(config: ServerConfig): string[] {
  const warnings: string[] = [];
  if (!config.sandbox && config.publicUrl.protocol === 'http:') {
    warnings.push(
      `${config.publicUrl.origin} is plain http: browsers share cookies across ports, so any other program ` +
        "serving pages on this host can read or plant this server's cookies. Fine for local development; " +
        'deploy behind https (SPOTAUTH_PUBLIC_URL=https://…) for anything else.',
    );
  }
  if (!isLoopback(config.host) && config.metricsToken === undefined) {
    warnings.push(
      `HOST is ${config.host}, not loopback, and SPOTAUTH_METRICS_TOKEN is not set: /metrics is readable by ` +
        'anyone who can reach this port. Set SPOTAUTH_METRICS_TOKEN to require a bearer token.',
    );
  }
  return warnings;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
