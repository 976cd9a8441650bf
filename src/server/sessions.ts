import { hash, randomBytes } from 'node:crypto';

/**
 * Browser sessions and login transactions, kept server-side and looked up by the SHA-256 of the cookie
 * value (a map lookup is not constant-time; hashing first means timing reveals nothing usable).
 * They live in this process: behind several instances, use sticky sessions (tokens themselves are in the
 * shared store, so any instance can serve a logged-in user's broker and API calls).
 */

export interface Session {
  userKey: string;
  /** Sent with every state-changing request (form field or x-csrf-token header). */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface LoginTransaction {
  state: string;
  codeVerifier: string;
  redirectUri: string;
  scope: string[];
  returnTo: string;
  expiresAt: number;
}

export const LOGIN_TTL_MS = 10 * 60 * 1000;
const IDLE_TIMEOUT_MS = 24 * 3600 * 1000;
const ABSOLUTE_TIMEOUT_MS = 30 * 24 * 3600 * 1000;
const MAX_TRANSACTIONS = 10_000;
const MAX_SESSIONS = 100_000;

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function digest(id: string): string {
  // One-shot hash(): no Hash object per request (this runs on every request that carries a cookie).
  return hash('sha256', id, 'base64url');
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #transactions = new Map<string, LoginTransaction>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  createSession(userKey: string): { id: string; session: Session } {
    const id = newSecret();
    const now = this.#now();
    const session: Session = { userKey, csrfToken: newSecret(), createdAt: now, lastSeenAt: now };
    evictOldest(this.#sessions, MAX_SESSIONS);
    this.#sessions.set(digest(id), session);
    return { id, session };
  }

  getSession(id: string | undefined): Session | undefined {
    if (!id || id.length > 128) return undefined;
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (now - session.lastSeenAt > IDLE_TIMEOUT_MS || now - session.createdAt > ABSOLUTE_TIMEOUT_MS) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  destroySession(id: string | undefined): void {
    if (id) this.#sessions.delete(digest(id));
  }

  /** Ends every session of a user (their grant was revoked or they were logged out everywhere). */
  destroyUserSessions(userKey: string): void {
    for (const [key, session] of this.#sessions) if (session.userKey === userKey) this.#sessions.delete(key);
  }

  startLogin(transaction: Omit<LoginTransaction, 'expiresAt'>): string {
    const id = newSecret();
    evictOldest(this.#transactions, MAX_TRANSACTIONS);
    this.#transactions.set(digest(id), { ...transaction, expiresAt: this.#now() + LOGIN_TTL_MS });
    return id;
  }

  /** Single use: the transaction is removed before anything is checked, whatever happens next. */
  takeLogin(id: string | undefined): LoginTransaction | undefined {
    if (!id || id.length > 128) return undefined;
    const key = digest(id);
    const transaction = this.#transactions.get(key);
    this.#transactions.delete(key);
    if (!transaction || transaction.expiresAt < this.#now()) return undefined;
    return transaction;
  }
}

function evictOldest<V>(map: Map<string, V>, max: number): void {
  while (map.size >= max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) return;
    map.delete(oldest);
  }
}
