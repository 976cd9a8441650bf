import * as nodeCrypto from 'node:crypto';
import { isUnreadableRecordError } from '../stores/codec.js';
import type { EntryStore, StoredEntry } from '../stores/types.js';

/**
 * Browser sessions and login transactions, kept in the configured store (entries), so that any instance
 * can serve any request: a login started on one instance finishes on another, and a logout anywhere ends
 * the session everywhere. Cookies carry only an opaque 256-bit id; the store is keyed by its SHA-256 (a
 * lookup by the raw id would not be constant-time, SECURITY §6), and the values are encrypted at rest.
 *
 * Each instance keeps what it read for `cacheMs` (default 500 ms): the hot path (`GET /token`) then reads
 * the store about twice a second per session rather than on every request, and a session ended on another
 * instance stops working here within that time.
 */

export interface Session {
  /** The session's store id (the digest of its cookie value), never the cookie value itself. */
  id: string;
  /** The store key of the user's grant (`user:…`). */
  userKey: string;
  /** Sent with every state-changing request (form field `csrf` or header `x-csrf-token`). */
  csrfToken: string;
  /** When the user logged in, epoch ms (the absolute timeout counts from here). */
  createdAt: number;
  /**
   * When the session was last used, epoch ms (written back at most hourly; the idle timeout counts from
   * here).
   */
  lastSeenAt: number;
}

export interface LoginTransaction {
  state: string;
  codeVerifier: string;
  redirectUri: string;
  scope: string[];
  returnTo: string;
}

/** Options of the session manager; `SpotauthOptions.sessions` takes all but `entries`. Durations in ms. */
export interface SessionOptions {
  /** Where sessions and login transactions are kept (the store's entries). */
  entries: EntryStore;
  /** A session unused this long ends. Default 24 h. */
  idleTimeoutMs?: number;
  /** A session ends this long after login whatever happens. Default 30 days. */
  absoluteTimeoutMs?: number;
  /** How long a login may take between /login and /callback. Default 10 min. */
  loginTtlMs?: number;
  /** How long this instance trusts a session it read. Bounds how long a logout elsewhere takes to show. Default 500 ms. */
  cacheMs?: number;
  /** Sessions cached by this instance at most (memory bound). Default 10,000. */
  maxCached?: number;
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

const SESSIONS = 'session';
const LOGINS = 'login';
/** lastSeenAt is written back at most this often (not on every request). */
const TOUCH_EVERY_MS = 3600 * 1000;
const MAX_COOKIE_VALUE = 128;

export function newSecret(): string {
  return nodeCrypto.randomBytes(32).toString('base64url');
}

// One-shot hash() (Node ≥ 20.12): no Hash object per request, and this runs on every request that carries
// a cookie. Runtimes without it (Bun, Deno's node:crypto) take createHash.
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

function digest(cookieValue: string): string {
  return oneShotHash
    ? oneShotHash('sha256', cookieValue, 'base64url')
    : nodeCrypto.createHash('sha256').update(cookieValue).digest('base64url');
}

export class SessionManager {
  readonly entries: EntryStore;
  readonly loginTtlMs: number;
  readonly #idle: number;
  readonly #absolute: number;
  readonly #cacheMs: number;
  readonly #maxCached: number;
  readonly #now: () => number;
  /** digest → what the store said (null: no such session) and until when to believe it. */
  readonly #cache = new Map<string, { session: Session | null; until: number }>();
  /** digest → the store read in flight, shared by every request for that session meanwhile. */
  readonly #reading = new Map<string, Promise<Session | null>>();

  constructor(options: SessionOptions) {
    this.entries = options.entries;
    this.#idle = options.idleTimeoutMs ?? 24 * 3600 * 1000;
    this.#absolute = options.absoluteTimeoutMs ?? 30 * 24 * 3600 * 1000;
    this.loginTtlMs = options.loginTtlMs ?? 10 * 60 * 1000;
    this.#cacheMs = options.cacheMs ?? 500;
    this.#maxCached = options.maxCached ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** A new session for a user who just logged in. Returns the cookie value (shown to no one else). */
  async create(userKey: string): Promise<{ cookie: string; session: Session }> {
    const cookie = newSecret();
    const now = this.#now();
    const session: Session = {
      id: digest(cookie),
      userKey,
      csrfToken: newSecret(),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.#write(session);
    this.#remember(session.id, session);
    return { cookie, session };
  }

  /** The live session behind a cookie value, or null. */
  async get(cookie: string | undefined): Promise<Session | null> {
    if (!isPlausible(cookie)) return null;
    const id = digest(cookie);
    const cached = this.#fromCache(id);
    if (cached !== undefined) return cached;
    // When the cached copy expires, every request in flight for the session misses at once (32 on a
    // busy GET /token): they share one store read instead of sending 32.
    const inFlight = this.#reading.get(id);
    if (inFlight) return inFlight;
    const reading = this.#load(id).finally(() => {
      if (this.#reading.get(id) === reading) this.#reading.delete(id);
    });
    this.#reading.set(id, reading);
    return reading;
  }

  async #load(id: string): Promise<Session | null> {
    const entry = await this.#readable(() => this.entries.get(SESSIONS, id));
    let session = entry ? this.#parse(id, entry.value) : null;
    const now = this.#now();
    if (session && now - session.lastSeenAt > TOUCH_EVERY_MS) {
      session.lastSeenAt = now;
      // An update, not a put: a logout that landed since the read must not be undone by this write.
      if (!(await this.#write(session, true))) session = null;
    }
    this.#remember(id, session);
    return session;
  }

  /**
   * An entry that exists but cannot be read — encrypted under a key since retired from the keyring, or
   * damaged — is no session (or no login): the user logs in again. Throwing would answer 500 to every
   * request that carries the cookie, for as long as the browser keeps it. The entry is left alone (an
   * instance that has the key, mid-rotation, can still read it; it expires on its own); a store that cannot
   * be reached still throws.
   */
  async #readable(read: () => Promise<StoredEntry | null>): Promise<StoredEntry | null> {
    try {
      return await read();
    } catch (error) {
      if (!isUnreadableRecordError(error)) throw error;
      return null;
    }
  }

  /**
   * The session if this instance read it within `cacheMs`, synchronously; undefined when only the store
   * can say (then use get). For hot paths that cannot afford a promise.
   */
  peek(cookie: string | undefined): Session | undefined {
    if (!isPlausible(cookie)) return undefined;
    return this.#fromCache(digest(cookie)) ?? undefined;
  }

  async destroy(cookie: string | undefined): Promise<void> {
    if (!isPlausible(cookie)) return;
    const id = digest(cookie);
    this.#cache.delete(id);
    this.#reading.delete(id);
    await this.entries.delete(SESSIONS, id);
  }

  /** Ends every session of a user, on every instance (within cacheMs): logout everywhere, a dead grant. */
  async destroyUser(userKey: string): Promise<void> {
    for (const [id, cached] of this.#cache) if (cached.session?.userKey === userKey) this.#cache.delete(id);
    await this.entries.deleteByTag(SESSIONS, userKey);
  }

  /** Stores a login transaction; returns the cookie value that binds it to this browser. */
  async startLogin(transaction: LoginTransaction): Promise<string> {
    const cookie = newSecret();
    await this.entries.put(LOGINS, {
      id: digest(cookie),
      value: JSON.stringify(transaction),
      expiresAt: this.#now() + this.loginTtlMs,
    });
    return cookie;
  }

  /** Single use across every instance: the transaction is gone once taken, whatever happens next. */
  async takeLogin(cookie: string | undefined): Promise<LoginTransaction | null> {
    if (!isPlausible(cookie)) return null;
    const id = digest(cookie);
    const entry = await this.#readable(() => this.entries.take(LOGINS, id));
    if (!entry) return null;
    try {
      return JSON.parse(entry.value) as LoginTransaction;
    } catch {
      return null;
    }
  }

  /** Removes expired sessions and transactions every `intervalMs`; returns the stop function. */
  startCleanup(intervalMs = 10 * 60 * 1000): () => void {
    const timer = setInterval(() => {
      this.entries.purgeExpired().catch(() => {});
      const now = this.#now();
      for (const [id, cached] of this.#cache) if (cached.until <= now) this.#cache.delete(id);
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  #fromCache(id: string): Session | null | undefined {
    const cached = this.#cache.get(id);
    if (!cached) return undefined;
    if (cached.until <= this.#now()) {
      this.#cache.delete(id);
      return undefined;
    }
    return cached.session;
  }

  #remember(id: string, session: Session | null): void {
    if (this.#cacheMs <= 0) return;
    if (this.#cache.size >= this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(id, { session, until: this.#now() + this.#cacheMs });
  }

  /** Stores the session; with `onlyIfExists`, only over a live entry (false if it is gone). */
  async #write(session: Session, onlyIfExists = false): Promise<boolean> {
    const { id, ...stored } = session;
    const entry = {
      id,
      value: JSON.stringify(stored),
      tag: session.userKey,
      expiresAt: Math.min(session.lastSeenAt + this.#idle, session.createdAt + this.#absolute),
    };
    if (onlyIfExists) return this.entries.update(SESSIONS, entry);
    await this.entries.put(SESSIONS, entry);
    return true;
  }

  #parse(id: string, value: string): Session | null {
    try {
      const stored = JSON.parse(value) as Omit<Session, 'id'>;
      if (typeof stored.userKey !== 'string' || typeof stored.csrfToken !== 'string') return null;
      return { id, ...stored };
    } catch {
      return null;
    }
  }
}

function isPlausible(cookie: string | undefined): cookie is string {
  return typeof cookie === 'string' && cookie.length > 0 && cookie.length <= MAX_COOKIE_VALUE;
}
