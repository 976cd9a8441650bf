import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { Keyring } from '../stores/encryption.js';
import { CliError } from './exit-codes.js';
import { keyFile } from './paths.js';

export type KeySource = 'environment' | 'os-keyring' | 'key-file';

export interface CliKey {
  keyring: Keyring;
  source: KeySource;
  /** Where the key lives, for `spotauth status`. */
  location: string;
}

const KEYRING_SERVICE = 'spotauth';
const KEYRING_ACCOUNT = 'credentials-encryption-key';
const KID = 'cli';

/**
 * The key that encrypts the CLI's credentials file: SPOTAUTH_ENCRYPTION_KEYS if set; else an existing key
 * file; else the OS keyring; else (no keyring reachable, as on most servers and containers) a new `0600`
 * key file beside the credentials. `create` false → null instead of creating one (read-only commands).
 */
export async function loadCliKey(dir: string, create: boolean): Promise<CliKey | null> {
  const fromEnv = Keyring.fromEnv(process.env);
  if (fromEnv) return { keyring: fromEnv, source: 'environment', location: 'SPOTAUTH_ENCRYPTION_KEYS' };
  const path = keyFile(dir);
  const fileKey = await readKeyFile(path);
  if (fileKey) return { keyring: new Keyring({ [KID]: fileKey }), source: 'key-file', location: path };
  const entry = await keyringEntry();
  const stored = entry ? safe(() => entry.getPassword()) : null;
  if (stored)
    return {
      keyring: new Keyring({ [KID]: Buffer.from(stored, 'base64') }),
      source: 'os-keyring',
      location: 'OS keyring',
    };
  if (!create) return null;
  const key = randomBytes(32);
  const savedInKeyring =
    entry !== null &&
    safe(() => {
      entry.setPassword(key.toString('base64'));
      return true;
    }) === true;
  if (savedInKeyring) {
    return { keyring: new Keyring({ [KID]: key }), source: 'os-keyring', location: 'OS keyring' };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  await chmod(path, 0o600);
  const written = await readKeyFile(path);
  if (!written) throw new CliError(`Could not create the key file ${path}.`);
  return { keyring: new Keyring({ [KID]: written }), source: 'key-file', location: path };
}

async function readKeyFile(path: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`Cannot read the key file ${path}: ${(error as Error).message}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new CliError(
      `The key file ${path} is damaged (it must hold 32 bytes in base64); without it the stored logins cannot be read.`,
    );
  }
  return key;
}

interface KeyringEntry {
  getPassword(): string | null | undefined;
  setPassword(password: string): void;
}

async function keyringEntry(): Promise<KeyringEntry | null> {
  if (process.env['SPOTAUTH_NO_KEYRING']) return null;
  try {
    const { Entry } = (await import('@napi-rs/keyring')) as {
      Entry: new (service: string, account: string) => KeyringEntry;
    };
    return new Entry(KEYRING_SERVICE, KEYRING_ACCOUNT);
  } catch {
    return null;
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn() ?? null;
  } catch {
    return null;
  }
}
