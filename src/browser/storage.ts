import { SpotauthError } from '../core/errors.js';

/**
 * Where the browser client keeps the grant (access token, refresh token, expiry, scopes) as one JSON
 * string. Pluggable: the four built-in choices below, or any object with this shape (an encrypted wrapper,
 * a framework store…). What XSS can reach under each is in the README ("Storage and XSS").
 */
export interface BrowserTokenStorage {
  /** e.g. 'local', 'session', 'memory', 'indexeddb'. */
  readonly kind: string;
  /**
   * true when every tab of the origin reads the same data (localStorage, IndexedDB): refreshes are then
   * coordinated across tabs with a Web Lock and tabs tell each other about changes. false (memory,
   * sessionStorage): each tab has a login of its own.
   */
  readonly shared: boolean;
  /** The value stored under `key`, or null. */
  get(key: string): Promise<string | null>;
  /** Stores `value` under `key`, durably before resolving where the storage allows. */
  set(key: string, value: string): Promise<void>;
  /** Forgets `key`. */
  remove(key: string): Promise<void>;
  /**
   * Optional, for shared storage whose reads can lag behind another tab's write (localStorage): calls
   * `changed(key)` once another tab's change is readable here (`key` null: all was cleared), so that a
   * tab that read too early reads again. Returns the unsubscribe. With it, each write is also marked in
   * the lock manager, and a tab taking the refresh lock waits until it reads the newest write.
   */
  watch?(changed: (key: string | null) => void): () => void;
}

/**
 * A built-in storage by name: `'indexeddb'` ({@link IndexedDbStorage}, the default), `'local'` and
 * `'session'` ({@link WebStorage} over localStorage / sessionStorage), `'memory'` ({@link MemoryStorage}).
 */
export type StorageChoice = 'indexeddb' | 'local' | 'session' | 'memory';

/** STORE_UNAVAILABLE for a storage (`kind`: its name) that is blocked, missing or full (then transient). */
export function unavailable(kind: string, error: unknown): SpotauthError {
  const full = error instanceof Error && error.name === 'QuotaExceededError';
  return new SpotauthError(
    'STORE_UNAVAILABLE',
    full
      ? `The browser's ${kind} is full.`
      : `This page may not use ${kind} (blocked or private); choose another storage.`,
    { transient: full },
  );
}

/** localStorage or sessionStorage; reading the property itself throws where storage is blocked. */
export function webStorageArea(name: 'localStorage' | 'sessionStorage'): Storage {
  try {
    const area = globalThis[name];
    if (area) return area;
  } catch {}
  throw unavailable(name, undefined);
}

/** The grant lives in this tab's memory only: gone on reload, never written anywhere. */
export class MemoryStorage implements BrowserTokenStorage {
  readonly kind = 'memory';
  readonly shared = false;
  readonly #values = new Map<string, string>();
  async get(key: string): Promise<string | null> {
    return this.#values.get(key) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    this.#values.set(key, value);
  }
  async remove(key: string): Promise<void> {
    this.#values.delete(key);
  }
}

/**
 * localStorage (shared by the origin's tabs, kept across restarts) or sessionStorage (this tab only).
 * Chromium serves localStorage reads from a per-process cache that another tab's write reaches later, so a
 * tab that takes the refresh lock right after another may still read the old grant (without more: 9–14
 * refreshes for 8 expiries with 20 tabs), and a tab may read nothing right after it hears of
 * another tab's login. `watch` (the `storage` event, sent once the write is visible in this tab) is the
 * cure: it has the tab read again, and BrowserAuth, seeing in the lock manager that a newer write exists,
 * waits for it before it refreshes.
 */
export class WebStorage implements BrowserTokenStorage {
  readonly kind: 'local' | 'session';
  readonly shared: boolean;
  readonly #name: 'localStorage' | 'sessionStorage';

  constructor(kind: 'local' | 'session') {
    this.kind = kind;
    this.shared = kind === 'local';
    this.#name = `${kind}Storage`;
  }

  async get(key: string): Promise<string | null> {
    return webStorageArea(this.#name).getItem(key);
  }
  async set(key: string, value: string): Promise<void> {
    const area = webStorageArea(this.#name);
    try {
      area.setItem(key, value);
    } catch (error) {
      throw unavailable(this.#name, error);
    }
  }
  async remove(key: string): Promise<void> {
    webStorageArea(this.#name).removeItem(key);
  }
  watch(changed: (key: string | null) => void): () => void {
    // sessionStorage belongs to this tab: no other tab changes it.
    if (!this.shared || typeof addEventListener !== 'function') return () => {};
    const listener = (event: StorageEvent) => {
      if (event.storageArea === globalThis.localStorage) changed(event.key);
    };
    addEventListener('storage', listener);
    return () => removeEventListener('storage', listener);
  }
}

/**
 * IndexedDB, the default: shared by the origin's tabs like localStorage, but read through the browser's
 * one database, so a write committed before the refresh lock is released is what the next tab reads
 * (exactly one refresh across tabs). Also reachable from workers. Writes are `durability: 'strict'`: a
 * rotated refresh token is on disk before the new access token is handed out.
 */
export class IndexedDbStorage implements BrowserTokenStorage {
  readonly kind = 'indexeddb';
  readonly shared = true;
  readonly #database: string;
  #db: Promise<IDBDatabase> | undefined;

  constructor(database = 'spotauth') {
    this.#database = database;
  }

  #open(): Promise<IDBDatabase> {
    this.#db ??= new Promise<IDBDatabase>((resolve, reject) => {
      let request: IDBOpenDBRequest;
      try {
        request = globalThis.indexedDB.open(this.#database, 1);
      } catch (error) {
        reject(unavailable('IndexedDB', error));
        return;
      }
      request.onupgradeneeded = () => request.result.createObjectStore('grants');
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the database must not wait for this one forever.
        db.onversionchange = () => {
          db.close();
          this.#db = undefined;
        };
        resolve(db);
      };
      request.onerror = () => reject(unavailable('IndexedDB', request.error));
      request.onblocked = () => reject(unavailable('IndexedDB', new Error('blocked')));
    }).catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  async #run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.#open();
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction('grants', mode, { durability: 'strict' });
      const request = action(transaction.objectStore('grants'));
      // Resolve on commit, not on the request: a write is durable before the caller goes on.
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(unavailable('IndexedDB', transaction.error));
      transaction.onabort = () => reject(unavailable('IndexedDB', transaction.error));
    });
  }

  async get(key: string): Promise<string | null> {
    const value = await this.#run('readonly', (store) => store.get(key));
    return typeof value === 'string' ? value : null;
  }
  async set(key: string, value: string): Promise<void> {
    await this.#run('readwrite', (store) => store.put(value, key));
  }
  async remove(key: string): Promise<void> {
    await this.#run('readwrite', (store) => store.delete(key));
  }
}

export function resolveStorage(choice: StorageChoice | BrowserTokenStorage | undefined): BrowserTokenStorage {
  if (choice === 'indexeddb' || (choice === undefined && typeof indexedDB !== 'undefined')) {
    return new IndexedDbStorage();
  }
  if (choice === undefined || choice === 'local') return new WebStorage('local');
  if (choice === 'session') return new WebStorage('session');
  if (choice === 'memory') return new MemoryStorage();
  if (
    typeof choice === 'object' &&
    choice !== null &&
    typeof choice.get === 'function' &&
    typeof choice.set === 'function' &&
    typeof choice.remove === 'function' &&
    typeof choice.shared === 'boolean'
  ) {
    return choice;
  }
  throw new SpotauthError(
    'INVALID_CONFIG',
    'storage must be "indexeddb", "local", "session", "memory" or a BrowserTokenStorage.',
  );
}
