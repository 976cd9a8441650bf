/** Durable file writes and tolerant reads shared by the file store's token file and its entries file. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SpotauthError } from '../core/errors.js';
import { errno } from './file-lock.js';

/** Temp file in the same directory, fsync, rename, fsync the directory: a reader sees the old or the new file. */
export async function atomicWrite(target: string, data: Buffer): Promise<void> {
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new SpotauthError('STORE_UNAVAILABLE', `Could not write ${target} (${errno(error) ?? 'error'}).`);
  }
  await fsyncDir(dirname(target));
}

/** Makes the rename itself durable. Not supported on every platform (e.g. Windows), where it is skipped. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}

export async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    throw new SpotauthError('STORE_UNAVAILABLE', `Could not read ${path} (${errno(error) ?? 'error'}).`);
  }
}
