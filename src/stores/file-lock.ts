/**
 * Cross-process lock files for the file store, on one machine (or a filesystem with atomic link/unlink).
 *
 * Protocol (documented because other tools may want to honour it):
 * - A lock is the file `<path>` holding JSON `{owner, pid, host, expiresAt}`. It is created atomically complete:
 *   the content is written to a private temp file which is then hard-linked to `<path>` (link fails with EEXIST,
 *   exactly like O_EXCL `wx`, but no reader can ever observe a half-written lock and mistake it for garbage).
 * - A lock is stale when `expiresAt` has passed, its content is unreadable, or its pid is dead on this host.
 * - Every unlink of `<path>` (release or breaking a stale lock), and every renewal (a complete new file renamed
 *   over `<path>` with a later `expiresAt`), happens while holding `<path>.break` (same create-by-link), after
 *   re-reading `<path>` and checking it is still the lock we meant to change. So a breaker can never delete a lock
 *   that a third process has just taken, a late release never frees a new holder, and a renewal never revives a
 *   lease that ran out.
 */

import { randomBytes, randomInt } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { SpotauthError } from '../core/errors.js';
import { newLockOwner } from './lock-owner.js';

interface LockInfo {
  owner: string;
  pid: number;
  host: string;
  expiresAt: number;
}

const BREAKER_TTL_MS = 5_000;

/** Takes the lock if it is free (or stale). Returns the owner id, or null if someone else holds it. */
export async function tryAcquireFileLock(path: string, ttlMs: number): Promise<string | null> {
  const owner = newLockOwner();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (
      await createLockFile(path, { owner, pid: process.pid, host: hostname(), expiresAt: Date.now() + ttlMs })
    ) {
      return owner;
    }
    const raw = await readOrNull(path);
    if (raw === null) continue;
    if (!isStale(raw)) return null;
    await withBreaker(path, async () => {
      if ((await readOrNull(path)) === raw) await unlinkIfExists(path);
    });
  }
  return null;
}

/** Waits (with jittered backoff) until the lock is taken, or throws LOCK_TIMEOUT. */
export async function acquireFileLock(path: string, ttlMs: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const owner = await tryAcquireFileLock(path, ttlMs);
    if (owner) return owner;
    if (Date.now() >= deadline) {
      const holder = parse((await readOrNull(path)) ?? '');
      throw new SpotauthError(
        'LOCK_TIMEOUT',
        `Timed out after ${timeoutMs} ms waiting for the lock file ${path}` +
          (holder ? ` (held by process ${holder.pid} on ${holder.host}).` : '.'),
        { transient: true },
      );
    }
    await sleep(delay + randomInt(delay + 1));
    delay = Math.min(delay * 2, 50);
  }
}

/** Removes the lock only if `owner` still holds it. Returns whether it did. */
export async function releaseFileLock(path: string, owner: string): Promise<boolean> {
  let released = false;
  await withBreaker(path, async () => {
    if (parse((await readOrNull(path)) ?? '')?.owner === owner) {
      await unlinkIfExists(path);
      released = true;
    }
  });
  return released;
}

/** Extends `owner`'s lease to `ttlMs` from now; false if the lease ran out or is someone else's. */
export async function renewFileLock(path: string, owner: string, ttlMs: number): Promise<boolean> {
  let renewed = false;
  await withBreaker(path, async () => {
    const raw = await readOrNull(path);
    const info = raw === null ? null : parse(raw);
    if (raw === null || info?.owner !== owner || isStale(raw)) return;
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify({ ...info, expiresAt: Date.now() + ttlMs }), {
      mode: 0o600,
      flag: 'wx',
    });
    try {
      await rename(temp, path);
      renewed = true;
    } finally {
      await unlinkIfExists(temp);
    }
  });
  return renewed;
}

/** Milliseconds until the lock's lease runs out: 0 when it is free or stale (its holder's pid is dead here). */
export async function fileLockRemainingMs(path: string): Promise<number> {
  const raw = await readOrNull(path);
  if (raw === null || isStale(raw)) return 0;
  return Math.max(1, (parse(raw)?.expiresAt ?? 0) - Date.now());
}

async function withBreaker(path: string, fn: () => Promise<void>): Promise<void> {
  const breaker = `${path}.break`;
  const deadline = Date.now() + BREAKER_TTL_MS;
  while (
    !(await createLockFile(breaker, {
      owner: newLockOwner(),
      pid: process.pid,
      host: hostname(),
      expiresAt: Date.now() + BREAKER_TTL_MS,
    }))
  ) {
    // A breaker is held for microseconds; one that outlives its ttl belongs to a crashed process.
    const raw = await readOrNull(breaker);
    if (raw !== null && isStale(raw)) await unlinkIfExists(breaker);
    if (Date.now() > deadline) {
      throw new SpotauthError('LOCK_TIMEOUT', `Could not take ${breaker} to update the lock file ${path}.`, {
        transient: true,
      });
    }
    await sleep(1 + randomInt(3));
  }
  try {
    await fn();
  } finally {
    await unlinkIfExists(breaker);
  }
}

async function createLockFile(path: string, info: LockInfo): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(info), { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlinkIfExists(temp);
  }
}

function isStale(raw: string): boolean {
  const info = parse(raw);
  if (!info || info.expiresAt <= Date.now()) return true;
  return info.host === hostname() && !isAlive(info.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errno(error) === 'EPERM';
  }
}

function parse(raw: string): LockInfo | null {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo>;
    if (
      typeof value.owner !== 'string' ||
      typeof value.expiresAt !== 'number' ||
      typeof value.pid !== 'number'
    ) {
      return null;
    }
    return { owner: value.owner, pid: value.pid, host: String(value.host ?? ''), expiresAt: value.expiresAt };
  } catch {
    return null;
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    throw error;
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
}

export function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
