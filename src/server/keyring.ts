import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotauthError } from '../core/errors.js';
import { Keyring } from '../stores/encryption.js';
import type { ServerConfig } from './config.js';

/**
 * The store's encryption keys: SPOTAUTH_ENCRYPTION_KEYS, or in the sandbox a generated local key (also what
 * `spotauth keys create|list|revoke` use, so they open the server's store with the server's key).
 */
export async function loadKeyring(
  config: Pick<ServerConfig, 'storeUrl' | 'sandbox' | 'dataDir'>,
  env: NodeJS.ProcessEnv,
): Promise<Keyring | null> {
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
