import { SpotauthError } from '../core/errors.js';

/**
 * How the tabs of one origin stay in step: a Web Lock so that only one tab at a time refreshes (or writes
 * a new login), and a BroadcastChannel so the others hear about it. Messages carry no tokens: a tab that
 * hears "changed" reads the shared storage itself. Nor do the marks of writes (markWrite): a login id and
 * a version.
 */
export type TabMessage = { type: 'changed' } | { type: 'logout'; grantId: string | undefined };

export class Tabs {
  readonly #lockName: string;
  readonly #useLock: boolean;
  readonly #channel: BroadcastChannel | undefined;
  readonly #lockTimeoutMs: number;
  readonly #markPrefix: string;
  #releaseMark: (() => void) | undefined;

  /**
   * `shared`: the storage is shared by the origin's tabs, so writes need the cross-tab lock. Without Web
   * Locks (very old browsers) each tab still refreshes at most once at a time.
   */
  constructor(
    name: string,
    shared: boolean,
    lockTimeoutMs: number,
    onMessage: (message: TabMessage) => void,
  ) {
    this.#lockName = `${name}:refresh`;
    this.#markPrefix = `${name}:wrote `;
    this.#useLock = shared && typeof navigator !== 'undefined' && navigator.locks !== undefined;
    this.#lockTimeoutMs = lockTimeoutMs;
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(name);
      this.#channel.onmessage = (event: MessageEvent<TabMessage>) => {
        const message = event.data;
        if (message && (message.type === 'changed' || message.type === 'logout')) onMessage(message);
      };
    }
  }

  /** Whether other tabs' changes are announced (so a copy kept in memory stays trustworthy). */
  get hearsOthers(): boolean {
    return this.#channel !== undefined;
  }

  /** Whether writes are serialised across tabs (shared storage and Web Locks). */
  get locking(): boolean {
    return this.#useLock;
  }

  /**
   * Runs `task` while holding the origin-wide lock; waits for another tab's refresh first. `cancel` gives
   * up the wait (the task then never runs): the promise rejects with an AbortError.
   */
  async exclusive<T>(task: () => Promise<T>, cancel?: AbortSignal): Promise<T> {
    if (!this.#useLock) return task();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#lockTimeoutMs);
    const onCancel = () => controller.abort();
    cancel?.addEventListener('abort', onCancel);
    try {
      // The signal only aborts the wait: once granted, the task runs to completion.
      return await navigator.locks.request(this.#lockName, { signal: controller.signal }, task);
    } catch (error) {
      if (timedOut && !(error instanceof SpotauthError)) {
        throw new SpotauthError(
          'LOCK_TIMEOUT',
          'Another tab is still refreshing the login; try again shortly.',
          { transient: true },
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  }

  /**
   * Leaves a mark of a write in the lock manager (a shared lock named after the login and its version,
   * held until this tab writes again or closes), before the refresh lock is released. Lock names are what
   * every tab of the origin sees at once, where storage like localStorage can show the next lock holder
   * an older value for a moment: asking for the newest mark tells it to wait.
   */
  async markWrite(grantId: string | undefined, version: number): Promise<void> {
    if (!this.#useLock) return;
    const release = this.#releaseMark;
    await new Promise<void>((granted) => {
      navigator.locks
        .request(`${this.#markPrefix}${grantId} ${version}`, { mode: 'shared' }, () => {
          granted();
          return new Promise<void>((done) => (this.#releaseMark = done));
        })
        // The write itself is done: without its mark, a lagging tab may only refresh once more.
        .catch(() => granted());
    });
    release?.();
  }

  /** The newest version of login `grantId` marked by a tab still open (see markWrite), or 0. */
  async newestWrite(grantId: string | undefined): Promise<number> {
    let newest = 0;
    if (!this.#useLock) return newest;
    const prefix = `${this.#markPrefix}${grantId} `;
    const { held = [] } = await navigator.locks.query().catch(() => ({ held: [] }));
    for (const { name } of held) {
      if (name?.startsWith(prefix)) newest = Math.max(newest, Number(name.slice(prefix.length)));
    }
    return newest;
  }

  tell(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  close(): void {
    this.#channel?.close();
    this.#releaseMark?.();
  }
}
