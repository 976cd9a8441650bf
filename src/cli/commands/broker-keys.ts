/**
 * `spotauth keys create|list|revoke`: the token broker's service keys, in the server's store (not to be
 * confused with `keys generate|reencrypt`, the store's encryption keys). They open the store the server
 * uses — the same settings as `spotauth serve` (environment, `.env`): SPOTAUTH_STORE, SPOTAUTH_DATA_DIR,
 * SPOTAUTH_ENCRYPTION_KEYS (or the sandbox's generated key) — or the one `--store` names.
 */
import { type BrokerKeyInfo, BrokerKeys, KEY_ID, KeyInputError } from '../../broker/keys.js';
import type { TokenStore } from '../../stores/types.js';
import { CliError, EXIT } from '../exit-codes.js';
import { bold, dim, printable } from '../output.js';
import { openServerStore, type StoreOption } from '../server-store.js';

async function withKeys<T>(
  options: StoreOption,
  run: (keys: BrokerKeys, store: TokenStore) => Promise<T>,
): Promise<T> {
  const store = await openServerStore(options);
  try {
    return await run(new BrokerKeys(store.entries), store);
  } finally {
    await store.close();
  }
}

function items(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : items(value);
}

function usage(error: unknown): never {
  if (error instanceof KeyInputError) throw new CliError(error.message, EXIT.USAGE);
  throw error;
}

export interface CreateOptions extends StoreOption {
  name: string;
  users?: string;
  scopes?: string;
  proxy?: boolean;
  expires?: string;
  json?: boolean;
}

/** Prints the new key once (alone on stdout, pipe-friendly); what it may do goes to stderr. */
export async function runKeysCreate(options: CreateOptions): Promise<void> {
  const users = options.users === undefined || options.users.trim() === 'all' ? 'all' : items(options.users);
  const expires = options.expires;
  if (expires !== undefined && !/^\d{1,5}$/.test(expires))
    throw new CliError('--expires takes a whole number of days, e.g. --expires 90.', EXIT.USAGE);
  await withKeys(options, async (keys, store) => {
    const { key, record } = await keys
      .create({
        name: options.name,
        users,
        scopes: list(options.scopes) ?? null,
        proxy: options.proxy === true,
        ...(expires !== undefined ? { expiresInDays: Number(expires) } : {}),
      })
      .catch(usage);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ key, ...keyJson({ ...record, lastUsedAt: null, status: 'active' }) })}\n`,
      );
    } else {
      process.stdout.write(`${key}\n`);
    }
    process.stderr.write(
      `Created broker key ${record.id} (${printable(record.name)}) in ${store.describe()}: ${describePermissions(record)}.\n` +
        'The key is shown only this once; give it to the service as `Authorization: Bearer <key>`.\n',
    );
  });
}

export async function runKeysList(options: StoreOption & { json?: boolean }): Promise<void> {
  await withKeys(options, async (keys) => {
    const all = await keys.list();
    if (options.json) {
      process.stdout.write(`${JSON.stringify(all.map(keyJson))}\n`);
      return;
    }
    if (all.length === 0) {
      process.stdout.write('No broker keys. Create one with `spotauth keys create --name NAME`.\n');
      return;
    }
    for (const key of all) {
      const when = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());
      process.stdout.write(
        `${bold(key.id)}  ${printable(key.name)}  ${key.status === 'active' ? key.status : bold(key.status.toUpperCase())}\n` +
          `  ${describePermissions(key)}\n` +
          dim(
            `  created ${when(key.createdAt)}, last used ${when(key.lastUsedAt)}, expires ${when(key.expiresAt)}` +
              (key.revokedAt !== null ? `, revoked ${when(key.revokedAt)}` : ''),
          ) +
          '\n',
      );
    }
  });
}

export async function runKeysRevoke(id: string, options: StoreOption): Promise<void> {
  if (!KEY_ID.test(id))
    throw new CliError(
      `${JSON.stringify(printable(id.slice(0, 40)))} is not a broker key id (16 hex digits, the part after "sk_"; see \`spotauth keys list\`).`,
      EXIT.USAGE,
    );
  await withKeys(options, async (keys) => {
    const before = await keys.find(id);
    const revoked = await keys.revoke(id);
    if (!revoked)
      throw new CliError(`There is no broker key ${id} in this store (see \`spotauth keys list\`).`);
    process.stdout.write(
      before?.record.revokedAt !== null
        ? `Key ${id} (${printable(revoked.name)}) was already revoked.\n`
        : `Revoked key ${id} (${printable(revoked.name)}). Every server instance refuses it within 1 s.\n`,
    );
  });
}

function describePermissions(key: Pick<BrokerKeyInfo, 'users' | 'scopes' | 'proxy'>): string {
  const users = key.users === 'all' ? 'all users' : `users ${key.users.map(printable).join(', ')}`;
  const scopes = key.scopes === null ? 'any scopes' : `scopes ${key.scopes.join(', ')}`;
  return `${users}; ${scopes}; ${key.proxy ? 'may' : 'may not'} use the Web API proxy`;
}

function keyJson(key: BrokerKeyInfo) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: key.id,
    name: key.name,
    status: key.status,
    users: key.users,
    scopes: key.scopes,
    proxy: key.proxy,
    created_at: iso(key.createdAt),
    last_used_at: iso(key.lastUsedAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
  };
}
