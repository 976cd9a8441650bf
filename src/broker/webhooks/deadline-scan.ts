/**
 * Sends `grant.expiring` ahead of Spotify's 6-month refresh-token deadline: N days before it (each
 * threshold once per grant). One instance at a time scans, under a store lock; the event is written with
 * the record's "notified" mark in one compare-and-swap, so a crash neither loses nor repeats it.
 */
import { isSpotauthError } from '../../core/errors.js';
import type { TokenRecord, TokenStore } from '../../stores/types.js';
import { grantEvents } from '../../tokens/grant-events.js';

const DAY_MS = 86_400_000;
const LOCK = 'webhooks:deadline-scan';
/** Comma-separated thresholds (days) already announced for this grant's current deadline. */
const NOTIFIED = 'expiringNotified';

export interface DeadlineScanOptions {
  store: TokenStore;
  /** Thresholds in days, e.g. [14, 2]. */
  days: readonly number[];
  now?: () => number;
}

/** One scan; returns how many events it wrote, or null when another instance holds the scan lock. */
export async function scanDeadlines(options: DeadlineScanOptions): Promise<number | null> {
  const { store } = options;
  const now = options.now ?? Date.now;
  const lock = await store.tryLock(LOCK, 5 * 60_000);
  if (!lock) return null;
  try {
    const thresholds = [...options.days].sort((a, b) => b - a);
    let written = 0;
    // Unreadable records are skipped here (the broker's user list reports them).
    for (const record of await store.list('user:', { onUnreadable: () => {} })) {
      if (await announce(store, record, thresholds, now())) written++;
    }
    return written;
  } finally {
    await lock.release().catch(() => {});
  }
}

async function announce(
  store: TokenStore,
  record: TokenRecord,
  thresholds: number[],
  now: number,
): Promise<boolean> {
  if (record.status !== 'active' || record.refreshTokenDeadline === undefined) return false;
  const daysLeft = (record.refreshTokenDeadline - now) / DAY_MS;
  if (daysLeft < 0) return false;
  const notified = new Set((record.meta?.[NOTIFIED] ?? '').split(',').filter(Boolean).map(Number));
  const crossed = thresholds.filter((days) => daysLeft <= days);
  const due = crossed.filter((days) => !notified.has(days));
  if (due.length === 0) return false;
  // Several thresholds crossed at once (a scan after downtime): one event, for the nearest.
  const threshold = Math.min(...due);
  const { version, updatedAt: _updatedAt, ...input } = record;
  const next = {
    ...input,
    meta: { ...record.meta, [NOTIFIED]: [...new Set([...notified, ...crossed])].join(',') },
  };
  try {
    await store.put(next, version, { events: [grantEvents.expiring(next, threshold, now)] });
    return true;
  } catch (error) {
    // A refresh wrote meanwhile: the next scan sees the new version and announces then.
    if (isSpotauthError(error, 'STORE_CONFLICT')) return false;
    throw error;
  }
}
