/**
 * The five built-in backends. Each module imports its driver (pg, ioredis, better-sqlite3) only inside
 * `open()`, so registering them loads nothing a caller does not use.
 */
import { homedir } from 'node:os';
import { SpotauthError } from '../core/errors.js';
import { MemoryStore } from './memory.js';
import { registerStoreBackend, requireKeyring } from './registry.js';

registerStoreBackend({
  name: 'memory',
  schemes: ['memory'],
  persistent: false,
  open: async () => new MemoryStore(),
});

registerStoreBackend({
  name: 'file',
  schemes: ['file'],
  persistent: true,
  parseTarget: (_url, rest) => filePathOf(rest),
  open: async (target, options) => {
    const { FileStore } = await import('./file.js');
    return new FileStore(target, {
      keyring: requireKeyring(options, 'file'),
      lockTimeoutMs: options.lockTimeoutMs,
    });
  },
});

registerStoreBackend({
  name: 'sqlite',
  schemes: ['sqlite'],
  persistent: true,
  parseTarget: (_url, rest) => filePathOf(rest),
  open: async (target, options) => {
    const { SqliteStore } = await import('./sqlite.js');
    return SqliteStore.open(target, {
      keyring: requireKeyring(options, 'sqlite'),
      busyTimeoutMs: options.busyTimeoutMs,
    });
  },
});

registerStoreBackend({
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  persistent: true,
  parseTarget: (url) => url,
  open: async (target, options) => {
    const { PostgresStore } = await import('./postgres.js');
    const location = storeLocation('postgres', target);
    return PostgresStore.open(location.url, {
      keyring: requireKeyring(options, 'postgres'),
      schema: options.schema ?? location.schema,
      tablePrefix: options.tablePrefix,
      poolSize: options.poolSize,
    });
  },
});

registerStoreBackend({
  name: 'redis',
  schemes: ['redis', 'rediss'],
  persistent: true,
  parseTarget: (url) => url,
  open: async (target, options) => {
    const { RedisStore } = await import('./redis.js');
    const location = storeLocation('redis', target);
    return RedisStore.open(location.url, {
      keyring: requireKeyring(options, 'redis'),
      keyPrefix: options.keyPrefix ?? location.keyPrefix,
    });
  },
});

/**
 * Where in a shared server a store lives can ride on its URL, so that one setting (`SPOTAUTH_STORE`,
 * `keys reencrypt --store`) names it completely: `postgres://…?schema=NAME` and `redis://…?prefix=NAME:`.
 * The parameter is removed before the URL reaches the driver (ioredis would take any query parameter as
 * one of its own options). Options passed in code win over the URL.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for a parameter given twice or empty, or a Redis prefix
 * other than 1–64 letters, digits and `:_.-`.
 */
export function storeLocation(
  backend: 'postgres' | 'redis',
  target: string,
): {
  /** The connection URL without the location parameter. */
  url: string;
  /** PostgreSQL: the `?schema=` value. */
  schema?: string;
  /** Redis: the `?prefix=` value. */
  keyPrefix?: string;
} {
  const name = backend === 'postgres' ? 'schema' : 'prefix';
  const at = target.indexOf('?');
  if (at === -1) return { url: target };
  const query = new URLSearchParams(target.slice(at + 1));
  const values = query.getAll(name);
  if (values.length === 0) return { url: target };
  const value = values[0];
  if (
    value === undefined ||
    values.length > 1 ||
    value === '' ||
    (backend === 'redis' && !REDIS_PREFIX.test(value))
  ) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      backend === 'redis'
        ? "The store URL's prefix must be given once: 1 to 64 letters, digits and ':_.-' (e.g. ?prefix=myapp:)."
        : "The store URL's schema must be given once (e.g. ?schema=myapp).",
    );
  }
  query.delete(name);
  const rest = query.toString();
  const url = target.slice(0, at) + (rest ? `?${rest}` : '');
  return backend === 'postgres' ? { url, schema: value } : { url, keyPrefix: value };
}

const REDIS_PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;

/**
 * The path in a file-backed store URL: `sqlite:///abs.db` and `sqlite://./rel.db` both work, `~/` means the
 * home directory, and an empty path is refused. For a backend's `parseTarget`.
 *
 * @throws `SpotauthError` `INVALID_CONFIG` for an empty path.
 */
export function filePathOf(rest: string): string {
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '') {
    throw new SpotauthError('INVALID_CONFIG', 'The store URL names no file path (e.g. sqlite:./tokens.db).');
  }
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}
