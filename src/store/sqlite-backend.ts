/**
 * The embedded SQLite store (`sqlite://data/comfycord.sqlite`), the default: nothing to run beside the bot. It runs on
 * better-sqlite3: records go through keyv (see sqlite-keyv-adapter.ts), indexes, expiry sweeps and leases are plain SQL.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { createKeyv, type Backend } from './backend.js';
import { SqliteKeyvAdapter } from './sqlite-keyv-adapter.js';
import { createSqliteLeases } from './sqlite-leases.js';
import { createSqliteIndex, sweepExpiredIndexLists } from './sqlite-index.js';
import { enableIncrementalVacuum, prepareSchema } from './sqlite-schema.js';

/** How long a statement waits for a lock held by another connection (a backup tool, `sqlite3` in a shell). */
const BUSY_TIMEOUT_MS = 5_000;

/** Rows one sweep statement deletes: small enough that the event loop is never held for long. */
const SWEEP_BATCH = 500;

/** The file a `sqlite://` URL names: relative paths are relative to the working directory; `:memory:` is kept. */
export function sqlitePathOf(url: string, workingDirectory: string = process.cwd()): string {
  const path = decodeURIComponent(url.replace(/^sqlite:\/\//, ''));
  if (path === '' || path === ':memory:') return ':memory:';
  return resolve(workingDirectory, path);
}

/** Opens (creating the file and its directory when needed, migrating an older layout) the database `url` names. */
export async function openSqliteBackend(url: string, logger: Logger): Promise<Backend> {
  const file = sqlitePathOf(url);
  let db: Database | undefined;
  try {
    if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });
    db = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
    enableIncrementalVacuum(db);
    // WAL with synchronous=NORMAL makes each write one append instead of two fsyncs; a process crash still loses
    // nothing, only a power cut may lose the last writes (and never corrupts the file).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    prepareSchema(db, logger);
  } catch (error) {
    db?.close();
    throw new Error(`Could not open the SQLite store at ${file}: ${messageOf(error)}`, { cause: error });
  }
  logger.info({ file }, 'Opened the SQLite store');
  const open = db;
  return {
    kind: 'sqlite',
    keyv: createKeyv(new SqliteKeyvAdapter(open)),
    createIndex: (context, name, options) =>
      createSqliteIndex({ db: open, assertOpen: context.assertOpen }, name, options),
    sweep: async (now) => sweepExpired(open, now),
    leases: createSqliteLeases(open),
    close: async () => {
      open.close();
    },
  };
}

/** Deletes every record and index list whose time to live has passed, a batch at a time; returns how many rows. */
async function sweepExpired(db: Database, now: number): Promise<number> {
  const deleteBatch = db.prepare<[number, number]>(
    'DELETE FROM records WHERE rowid IN ' +
      '(SELECT rowid FROM records WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)',
  );
  let removed = 0;
  for (;;) {
    if (!db.open) return removed;
    const { changes } = deleteBatch.run(now, SWEEP_BATCH);
    removed += changes;
    if (changes < SWEEP_BATCH) break;
    await yieldToEventLoop();
  }
  removed += sweepExpiredIndexLists(db, now);
  // Gives the freed pages back to the file system (a no-op on files without incremental auto-vacuum).
  if (removed > 0) db.pragma('incremental_vacuum');
  return removed;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
