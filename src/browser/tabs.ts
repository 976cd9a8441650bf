import { SpotauthError } from '../core/errors.js';

/**
 * How the tabs of one origin stay in step: a Web Lock so that only one tab at a time refreshes (or writes
 * a new login), and a BroadcastChannel so the others hear about it. Messages carry no tokens: a tab that
 * hears "changed" reads the shared storage itself.
 */
export type TabMessage = { type: 'changed' } | { type: 'logout'; grantId: string | undefined };

export class Tabs {
  readonly #lockName: string;
  readonly #useLock: boolean;
  readonly #channel: BroadcastChannel | undefined;
  readonly #lockTimeoutMs: number;

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

  tell(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  close(): void {
    this.#channel?.close();
  }
}
