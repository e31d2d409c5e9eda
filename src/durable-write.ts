/**
 * Writing a file so that it is whole or absent after any crash, a power cut included. A plain `writeFile` leaves a
 * half-written file behind when the disk fills (ENOSPC) or the process dies, and even a finished write may sit in the
 * page cache, not on disk, when the power goes: the file is written under a temporary name, flushed (`fsync`), renamed
 * into place, and the directory flushed so the new name itself survives. What the caller records afterwards (a job
 * marked succeeded, say) then never names a file that a power cut took away.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Writes `bytes` to `target` atomically and durably; on failure nothing is left under either name. */
export async function writeFileDurably(target: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${target}.${randomBytes(6).toString('hex')}.partial`;
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Flushes a directory's entries (files renamed or created in it) to disk. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(path.resolve(directory), 'r');
  } catch (error) {
    // Windows cannot open a directory for reading; its file system does not need this flush either.
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True for the errors a full disk or an exhausted quota raises. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
