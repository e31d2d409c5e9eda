/**
 * The embedded SQLite store (`sqlite://data/comfycord.sqlite`), the default: nothing to run beside the bot. It serves
 * one bot process; several processes sharing state need Redis.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../logger.js';
import { createKeyv, type Backend } from './backend.js';
import { createKeyvIndex } from './keyv-index.js';

/** How long a statement waits for a lock held by another connection (a backup tool, `sqlite3` in a shell). */
const BUSY_TIMEOUT_MS = 5_000;

/** The file a `sqlite://` URL names: relative paths are relative to the working directory; `:memory:` is kept. */
export function sqlitePathOf(url: string, workingDirectory: string = process.cwd()): string {
  const path = decodeURIComponent(url.replace(/^sqlite:\/\//, ''));
  if (path === '' || path === ':memory:') return ':memory:';
  return resolve(workingDirectory, path);
}

/** Opens (creating the file and its directory when needed) the SQLite database that `url` names. */
export async function openSqliteBackend(url: string, logger: Logger): Promise<Backend> {
  const file = sqlitePathOf(url);
  try {
    if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });
    const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: BUSY_TIMEOUT_MS });
    const keyv = createKeyv(adapter);
    // Asking now makes a bad path fail at start, not at the first command. WAL with synchronous=NORMAL makes each
    // write one append instead of two fsyncs; a process crash still loses nothing, only a power cut may lose the
    // last writes (and never corrupts the file).
    await adapter.query('PRAGMA journal_mode = WAL');
    await adapter.query('PRAGMA synchronous = NORMAL');
    logger.info({ file }, 'Opened the SQLite store');
    return {
      kind: 'sqlite',
      keyv,
      createIndex: createKeyvIndex,
      close: async () => keyv.disconnect(),
    };
  } catch (error) {
    throw new Error(`Could not open the SQLite store at ${file}: ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
