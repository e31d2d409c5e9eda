/**
 * The layout of comfycord's SQLite file, and the one-time move of a file written by `@keyv/sqlite` (releases before
 * 0.2) into it. Records keep keyv's JSON rows but gain an `expires_at` column, so expired rows can be swept with one
 * indexed DELETE; index lists become rows of their own instead of one JSON array per list.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { deserializeRow, envelopeSchema, UnreadableValue } from './codec.js';
import { KEY_PREFIX } from './store.js';

/** The table `@keyv/sqlite` wrote: `key VARCHAR(255) PRIMARY KEY, value TEXT` holding keyv's `{ value, expires }`. */
export const LEGACY_TABLE = 'keyv';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS records_by_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS index_entries (
    list TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (list, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS index_entries_in_order ON index_entries (list, position);

  CREATE TABLE IF NOT EXISTS index_lists (
    list TEXT PRIMARY KEY,
    expires_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS index_lists_by_expiry ON index_lists (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/**
 * Lets sweeps give freed pages back to the file system. Call first: it only takes effect on a file with nothing
 * written yet (switching to WAL counts), and older files get it at their migration.
 */
export function enableIncrementalVacuum(db: Database): void {
  if (!hasTable(db, 'records') && !hasTable(db, LEGACY_TABLE)) db.pragma('auto_vacuum = INCREMENTAL');
}

/** Creates the tables a new file needs and moves a legacy keyv table's rows into them. */
export function prepareSchema(db: Database, logger: Logger): void {
  db.exec(SCHEMA);
  if (!hasTable(db, LEGACY_TABLE)) return;
  migrateLegacyRows(db, logger);
  // Once, at the upgrade: rewrite the file without the old table's pages, and so that later sweeps can shrink it.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
}

function hasTable(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

interface LegacyRow {
  readonly rowid: number;
  readonly key: string;
  readonly value: string | null;
}

const INDEX_PREFIX = `${KEY_PREFIX}:index:`;

/**
 * Copies every live row of the legacy table into the new layout and drops it, in one transaction: a crash halfway
 * leaves the old table as it was, and the next start migrates again.
 */
function migrateLegacyRows(db: Database, logger: Logger): void {
  const now = Date.now();
  const insertRecord = db.prepare('INSERT OR REPLACE INTO records (key, value, expires_at) VALUES (?, ?, ?)');
  const insertEntry = db.prepare('INSERT OR REPLACE INTO index_entries (list, id, position) VALUES (?, ?, ?)');
  // Pages of rows, not one iterator: better-sqlite3 runs no other statement while an iterator is open.
  const page = db.prepare<[number], LegacyRow>(
    `SELECT rowid, key, value FROM ${LEGACY_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT 500`,
  );
  const counts = { records: 0, indexLists: 0, expired: 0, unreadable: 0 };
  const migrateRow = (row: LegacyRow) => {
    const text = row.value ?? '';
    const parsed = deserializeRow<unknown>(text);
    if (parsed.expires !== undefined && parsed.expires <= now) {
      counts.expired += 1;
      return;
    }
    if (!row.key.startsWith(INDEX_PREFIX)) {
      // An unreadable record is copied as it is: the collection reads it as absent and says so, as before.
      insertRecord.run(row.key, text, parsed.expires ?? null);
      counts.records += 1;
      return;
    }
    const ids = legacyIndexIds(parsed.value);
    if (ids === undefined) {
      logger.warn({ key: row.key }, 'Dropping an unreadable index list while migrating the SQLite store');
      counts.unreadable += 1;
      return;
    }
    // The array is newest first; positions grow with recency.
    ids.forEach((id, offset) => insertEntry.run(row.key, id, ids.length - offset));
    counts.indexLists += 1;
  };
  const migrate = db.transaction(() => {
    for (let rows = page.all(0); rows.length > 0; rows = page.all(rows.at(-1)!.rowid)) rows.forEach(migrateRow);
    db.exec(`DROP TABLE ${LEGACY_TABLE}`);
  });
  migrate.immediate();
  logger.info(counts, 'Migrated the SQLite store from the keyv table of earlier releases');
}

function legacyIndexIds(value: unknown): string[] | undefined {
  if (value instanceof UnreadableValue) return undefined;
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success || !Array.isArray(envelope.data.data)) return undefined;
  const ids = envelope.data.data.filter((id): id is string => typeof id === 'string' && id.length > 0);
  return [...new Set(ids)];
}
