import { readFile } from 'node:fs/promises';
import {
  AUTO_APPROVE_ENV,
  type EmulatorApp,
  type EmulatorOptions,
  type EmulatorUser,
  InvalidInput,
  type RunningEmulator,
  SANDBOX_APP,
  startEmulator,
} from '../../emulator/index.js';
import { CliError, EXIT } from '../exit-codes.js';

/** Raw commander options: every value arrives as a string. */
export interface EmulatorCommandOptions {
  port?: string;
  host?: string;
  accessTokenTtl?: string;
  refreshMode?: string;
  autoApprove?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string[];
  config?: string;
  rateLimit?: string;
  dailyQuota?: string;
  state?: string;
  appMode?: string;
  legacyEndpoints?: boolean;
  ownerWithoutPremium?: boolean;
  unauthorizedMessages?: string;
  catalogue?: string;
}

function parseWhole(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)}).`);
  }
  return Number(value);
}

function toApp(value: unknown, where: string): EmulatorApp {
  if (typeof value !== 'object' || value === null) throw new Error(`${where} must be an object.`);
  const raw = value as Record<string, unknown>;
  const clientId = raw['clientId'] ?? raw['client_id'];
  const clientSecret = raw['clientSecret'] ?? raw['client_secret'];
  const redirectUris = raw['redirectUris'] ?? raw['redirect_uris'];
  if (typeof clientId !== 'string') throw new Error(`${where} needs a clientId string.`);
  if (clientSecret !== undefined && typeof clientSecret !== 'string') {
    throw new Error(`${where}.clientSecret must be a string.`);
  }
  if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) {
    throw new Error(`${where} needs a redirectUris array of strings.`);
  }
  const app: EmulatorApp = { clientId, redirectUris };
  if (clientSecret !== undefined) app.clientSecret = clientSecret;
  if (typeof raw['name'] === 'string') app.name = raw['name'];
  // Checked field by field when the emulator starts (parseQuotaBudget).
  if (raw['quota'] !== undefined) app.quota = raw['quota'] as EmulatorApp['quota'];
  const mode = raw['mode'];
  if (mode !== undefined) {
    if (mode !== 'development' && mode !== 'extended') {
      throw new Error(`${where}.mode must be "development" or "extended".`);
    }
    app.mode = mode;
  }
  const legacy = raw['legacyEndpoints'] ?? raw['legacy_endpoints'];
  if (legacy !== undefined) {
    if (typeof legacy !== 'boolean') throw new Error(`${where}.legacy_endpoints must be a boolean.`);
    app.legacyEndpoints = legacy;
  }
  const premium = raw['ownerPremium'] ?? raw['owner_premium'];
  if (premium !== undefined) {
    if (typeof premium !== 'boolean') throw new Error(`${where}.owner_premium must be a boolean.`);
    app.ownerPremium = premium;
  }
  return app;
}

function toUser(value: unknown, where: string): EmulatorUser {
  if (typeof value !== 'object' || value === null) throw new Error(`${where} must be an object.`);
  const raw = value as Record<string, unknown>;
  if (typeof raw['id'] !== 'string') throw new Error(`${where} needs an id string.`);
  const displayName = raw['displayName'] ?? raw['display_name'];
  const accountId = raw['accountId'] ?? raw['account_id'];
  const user: EmulatorUser = {
    id: raw['id'],
    displayName: typeof displayName === 'string' ? displayName : raw['id'],
  };
  if (typeof accountId === 'string') user.accountId = accountId;
  for (const key of ['email', 'country', 'product'] as const) {
    if (typeof raw[key] === 'string') user[key] = raw[key];
  }
  if (Array.isArray(raw['images'])) user.images = raw['images'] as EmulatorUser['images'];
  return user;
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`Cannot read the emulator ${what} file ${path} (${code}).`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`The emulator ${what} file ${path} is not valid JSON.`);
  }
}

async function readConfigFile(path: string): Promise<{ apps: EmulatorApp[]; users: EmulatorUser[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`Cannot read the emulator config file ${path} (${code}).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`The emulator config file ${path} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(
      `The emulator config file ${path} must hold an object like {"apps": [...], "users": [...]}.`,
    );
  }
  const { apps = [], users = [] } = parsed as { apps?: unknown; users?: unknown };
  if (!Array.isArray(apps) || !Array.isArray(users)) {
    throw new Error(`In ${path}, "apps" and "users" must be arrays.`);
  }
  return {
    apps: apps.map((a, i) => toApp(a, `apps[${i}]`)),
    users: users.map((u, i) => toUser(u, `users[${i}]`)),
  };
}

/** Turns commander's strings into EmulatorOptions, with a one-sentence error for anything invalid. */
export async function emulatorOptionsFrom(options: EmulatorCommandOptions): Promise<EmulatorOptions> {
  const result: EmulatorOptions = {};
  const port = parseWhole(options.port, '--port', 0, 65535);
  if (port !== undefined) result.port = port;
  if (options.host !== undefined) {
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(options.host))
      throw new Error(`--host ${JSON.stringify(options.host)} is not an address.`);
    result.host = options.host;
  }
  const ttl = parseWhole(options.accessTokenTtl, '--access-token-ttl', 1, 31_536_000);
  if (ttl !== undefined) result.accessTokenTtlSeconds = ttl;
  if (options.refreshMode !== undefined) {
    if (options.refreshMode !== 'keep' && options.refreshMode !== 'rotate') {
      throw new Error(
        `--refresh-mode must be "keep" or "rotate" (got ${JSON.stringify(options.refreshMode)}).`,
      );
    }
    result.refreshMode = options.refreshMode;
  }
  const rateLimit = parseWhole(options.rateLimit, '--rate-limit', 1, 100_000);
  const dailyQuota = parseWhole(options.dailyQuota, '--daily-quota', 1, 1_000_000);
  if (rateLimit !== undefined || dailyQuota !== undefined) result.quota = { rateLimit, dailyQuota };
  if (options.appMode !== undefined) {
    if (options.appMode !== 'development' && options.appMode !== 'extended') {
      throw new Error(
        `--app-mode must be "development" or "extended" (got ${JSON.stringify(options.appMode)}).`,
      );
    }
    result.appMode = options.appMode;
  }
  if (options.legacyEndpoints) result.legacyEndpoints = true;
  if (options.ownerWithoutPremium) result.ownerPremium = false;
  if (options.unauthorizedMessages !== undefined) {
    if (options.unauthorizedMessages !== '2026' && options.unauthorizedMessages !== 'legacy') {
      throw new Error(
        `--unauthorized-messages must be "2026" or "legacy" (got ${JSON.stringify(options.unauthorizedMessages)}).`,
      );
    }
    result.unauthorizedMessages = options.unauthorizedMessages;
  }
  if (options.state !== undefined) {
    if (options.state.trim() === '') throw new Error('--state needs a file path.');
    result.stateFile = options.state;
  }
  if (options.catalogue !== undefined) result.catalogue = await readJsonFile(options.catalogue, 'catalogue');
  const autoApprove = options.autoApprove ?? process.env[AUTO_APPROVE_ENV];
  if (autoApprove) result.autoApprove = autoApprove;

  const apps: EmulatorApp[] = [];
  const users: EmulatorUser[] = [];
  if (options.config !== undefined) {
    const file = await readConfigFile(options.config);
    apps.push(...file.apps);
    users.push(...file.users);
  }
  const redirectUris = options.redirectUri ?? [];
  if (options.clientId !== undefined) {
    const app: EmulatorApp = {
      clientId: options.clientId,
      redirectUris: redirectUris.length > 0 ? redirectUris : [...SANDBOX_APP.redirectUris],
    };
    if (options.clientSecret !== undefined) app.clientSecret = options.clientSecret;
    apps.push(app);
  } else if (options.clientSecret !== undefined || redirectUris.length > 0) {
    throw new Error(
      '--client-secret and --redirect-uri need --client-id (the sandbox app is always registered).',
    );
  }
  if (apps.length > 0) result.apps = apps;
  if (users.length > 0) result.users = users;
  return result;
}

function usage(emulator: RunningEmulator): string {
  const apps = [...emulator.state.apps.values()];
  const lines = [
    '',
    'Registered apps:',
    ...apps.map(
      (app) =>
        `  client id ${app.clientId}${app.clientSecret ? `, secret ${app.clientSecret}` : ' (public, PKCE only)'}, ${app.mode ?? 'development'} mode${app.legacyEndpoints ? ' with legacy endpoints' : ''}${app.ownerPremium === false ? ', owner without Premium' : ''}\n    redirect URIs: ${app.redirectUris.join(', ')}`,
    ),
    `Test users: ${[...emulator.state.users.keys()].join(', ')}${emulator.state.config.autoApprove ? ` (auto-approving as ${emulator.state.config.autoApprove})` : ''}`,
    `Authorize: ${emulator.url}/authorize    Token: ${emulator.url}/api/token`,
    `Control API: ${emulator.url}/_emulator/{health,stats,users,apps,state,reset,revoke,expire,faults,config,clock,quotas}`,
    'Press Ctrl+C to stop.',
    '',
  ];
  return lines.join('\n');
}

export async function runEmulatorCommand(options: EmulatorCommandOptions): Promise<RunningEmulator> {
  // A bad flag or config file is a usage mistake (exit 2), not a crash.
  const emulatorOptions = await emulatorOptionsFrom(options).catch((error: Error) => {
    throw new CliError(error.message, EXIT.USAGE);
  });
  const host = emulatorOptions.host ?? '127.0.0.1';
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator(emulatorOptions);
  } catch (error) {
    // A bad app or quota in the config file is found while the state is built: a usage mistake too.
    if (error instanceof InvalidInput) throw new CliError(error.message, EXIT.USAGE);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `Port ${emulatorOptions.port ?? 8889} on ${host} is already in use; stop the other process or pick another with --port (0 = any free port).`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new Error(`Cannot listen on ${host}:${emulatorOptions.port ?? 8889} (${code}).`);
    }
    throw error;
  }
  // Tests wait for exactly this line.
  process.stdout.write(`Spotify emulator listening on ${emulator.url}\n`);
  process.stdout.write(usage(emulator));

  const shutdown = () => {
    process.off('SIGINT', shutdown);
    process.off('SIGTERM', shutdown);
    emulator.stop().then(
      () => {
        process.exitCode ??= 0;
      },
      () => {
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  return emulator;
}
