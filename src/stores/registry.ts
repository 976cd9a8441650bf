/**
 * Store backends by URL scheme: `createStore(url)` finds the backend registered for the URL's scheme and
 * opens it. The five built-in backends are registered by `backends.ts`; a new backend is one file plus
 * one `registerStoreBackend` call, and then works everywhere a store URL does (`createStore`, the server's
 * `SPOTAUTH_STORE` when the app registers it before starting the server).
 */
import { SpotauthError } from '../core/errors.js';
import { KEYS_ENV, type Keyring } from './encryption.js';
import type { TokenStore } from './types.js';

/**
 * Options of `createStore`, handed on to the backend's `open`; each applies only to the backends it
 * names (a custom backend may read the ones it needs).
 */
export interface CreateStoreOptions {
  /** The encryption keys for the secret fields. Required by every persistent backend (all but `memory:`). */
  keyring?: Keyring;
  /** PostgreSQL: schema for the tables (created if missing). Also `?schema=` on the URL. */
  schema?: string;
  /** PostgreSQL: table-name prefix. Default `spotauth_`. */
  tablePrefix?: string;
  /** Redis: key prefix. Default `spotauth:`. Also `?prefix=` on the URL. */
  keyPrefix?: string;
  /** PostgreSQL: connections in the pool. Default 10. */
  poolSize?: number;
  /** SQLite: how long a statement waits for another connection's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** File store: how long a write waits for another process's write lock, ms. Default 15 000. */
  lockTimeoutMs?: number;
}

/**
 * A store backend: what {@link registerStoreBackend} takes, so that `createStore` can open URLs of its
 * schemes.
 *
 * @example
 * ```ts
 * registerStoreBackend({
 *   name: 'myfs',
 *   schemes: ['myfs'],
 *   persistent: true,
 *   parseTarget: (_url, rest) => filePathOf(rest),
 *   open: async (path, options) => MyFsStore.open(path, requireKeyring(options, 'myfs')),
 * });
 * const store = await createStore('myfs:./tokens', { keyring });
 * ```
 */
export interface StoreBackend {
  /** Its name, as `parseStoreUrl` reports it (e.g. `postgres`). */
  name: string;
  /** The URL schemes it answers, lower-case, without the colon (e.g. `postgres`, `postgresql`). */
  schemes: readonly string[];
  /** Whether it keeps data beyond the process, and so must encrypt it (createStore then requires a keyring). */
  persistent: boolean;
  /**
   * Turns a store URL into what `open` is given, throwing `INVALID_CONFIG` for a URL it can't use. `rest` is
   * what follows `scheme:`. Default: `rest` as it is. File backends return a path (see `filePathOf`), network
   * ones usually the whole `url`.
   */
  parseTarget?(url: string, rest: string): string;
  /** Opens a store at `target` (from `parseTarget`). */
  open(target: string, options: CreateStoreOptions): Promise<TokenStore>;
}

const backends = new Map<string, StoreBackend>();

/**
 * Adds a backend (or replaces the one registered for the same scheme), for every `createStore` call of
 * this process — register before the server reads `SPOTAUTH_STORE`.
 *
 * @throws TypeError for a name that is not 1–32 lower-case letters, digits, `_` or `-`, or a scheme that
 * is not a valid lower-case URL scheme.
 */
export function registerStoreBackend(backend: StoreBackend): void {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(backend.name))
    throw new TypeError('store backend name must be lower-case letters, digits, _ or -');
  for (const scheme of backend.schemes) {
    if (!/^[a-z][a-z0-9+.-]{0,31}$/.test(scheme))
      throw new TypeError(`invalid store URL scheme ${JSON.stringify(scheme)}`);
    backends.set(scheme, backend);
  }
}

/** Every registered backend once, the built-in five included, in registration order. */
export function registeredStoreBackends(): StoreBackend[] {
  return [...new Set(backends.values())];
}

/**
 * The backend a store URL selects, and what it is handed. Bare paths: `*.db`/`*.sqlite*` → SQLite,
 * `*.json` → file.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a URL no registered backend answers (the message
 * masks any password), or one the backend's `parseTarget` refuses.
 */
export function parseStoreUrl(url: string): {
  /** The backend's name (e.g. `postgres`). */
  backend: string;
  /** The file path or connection URL its `open` is given. */
  target: string;
} {
  const found = resolve(url);
  return { backend: found.backend.name, target: found.target };
}

export function resolve(url: string): { backend: StoreBackend; target: string } {
  const trimmed = url.trim();
  const bare = !/^[a-z][a-z0-9+.-]*:/i.test(trimmed);
  const normalised =
    trimmed === 'memory'
      ? 'memory:'
      : bare && /\.(db|sqlite3?)$/i.test(trimmed)
        ? `sqlite:${trimmed}`
        : bare && /\.json$/i.test(trimmed)
          ? `file:${trimmed}`
          : trimmed;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(normalised)?.[1]?.toLowerCase();
  const backend = scheme === undefined ? undefined : backends.get(scheme);
  if (!backend || scheme === undefined) {
    const known = registeredStoreBackends()
      .map((b) => `${b.schemes[0]}:`)
      .join(', ');
    throw new SpotauthError(
      'INVALID_CONFIG',
      `Unrecognised store '${redactForMessage(trimmed)}'. Use one of ${known} (a .db/.sqlite path means SQLite, a .json path the file store).`,
    );
  }
  const rest = normalised.slice(scheme.length + 1);
  return { backend, target: backend.parseTarget ? backend.parseTarget(normalised, rest) : rest };
}

/**
 * The keyring a persistent backend encrypts with. `createStore` has already refused to open a persistent
 * backend without one; this narrows the type for the backend's `open`, and guards direct calls.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` without `options.keyring`, saying how to make a key.
 */
export function requireKeyring(options: CreateStoreOptions, backendName: string): Keyring {
  if (options.keyring) return options.keyring;
  throw new SpotauthError(
    'INVALID_CONFIG',
    `The ${backendName} token store needs an encryption key: set ${KEYS_ENV}="k1:<base64 of 32 bytes>" ` +
      '(create one with `spotauth keys generate`) or pass a Keyring.',
  );
}

export function redactForMessage(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@').slice(0, 200);
}
