/**
 * The store `spotauth serve` uses, for the commands that manage what lives in it (broker keys, the
 * webhook outbox): the same settings as the server (environment, `.env`): SPOTAUTH_STORE,
 * SPOTAUTH_DATA_DIR, SPOTAUTH_ENCRYPTION_KEYS (or the sandbox's generated key) — or the one `--store` names.
 */
import { existsSync } from 'node:fs';
import { SpotauthError } from '../core/errors.js';
import type { TokenStore } from '../stores/types.js';
import { CliError, EXIT } from './exit-codes.js';

export interface StoreOption {
  store?: string;
}

export async function openServerStore(options: StoreOption): Promise<TokenStore> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = process.env;
  const dataDir = env['SPOTAUTH_DATA_DIR'] || '.data';
  const storeUrl = options.store || env['SPOTAUTH_STORE'] || `${dataDir}/spotauth.sqlite`;
  const { createStore, parseStoreUrl } = await import('../stores/index.js');
  let backend: string;
  try {
    ({ backend } = parseStoreUrl(storeUrl));
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.USAGE);
  }
  if (backend === 'memory')
    throw new CliError(
      'A memory: store lives inside one server process, so keys cannot be managed from here; point --store (or SPOTAUTH_STORE) at the server’s persistent store.',
      EXIT.USAGE,
    );
  const { loadKeyring } = await import('../server/keyring.js');
  let keyring: Awaited<ReturnType<typeof loadKeyring>>;
  try {
    keyring = await loadKeyring({ storeUrl, dataDir, sandbox: !env['SPOTIFY_CLIENT_ID'] }, env);
  } catch (error) {
    if (error instanceof SpotauthError && error.code === 'INVALID_CONFIG')
      throw new CliError(error.message, EXIT.USAGE);
    throw error;
  }
  return createStore(storeUrl, keyring ? { keyring } : {});
}
