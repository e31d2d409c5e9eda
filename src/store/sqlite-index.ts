/**
 * An index kept as rows of the `index_entries` table (see sqlite-schema.ts): one row per id, ordered by a position
 * that grows with each add. Each change is one synchronous transaction, so no two changes interleave, and adding to
 * a list of any length costs the same.
 */
import type { Database } from 'better-sqlite3';
import { assertKey, indexKey, type Index, type IndexOptions, type IndexRange } from './store.js';

/** What a SQLite index needs from the store that owns it. */
export interface SqliteIndexContext {
  readonly db: Database;
  readonly assertOpen: () => void;
}

/** Builds the index `name` over the store's SQLite file. */
export function createSqliteIndex(context: SqliteIndexContext, name: string, options: IndexOptions = {}): Index {
  let prepared: ReturnType<typeof prepareIndex> | undefined;
  // Prepared at first use, after the open check: an index made from a closed store must fail as a closed store.
  const use = (key: string) => {
    context.assertOpen();
    assertKey(key);
    prepared ??= prepareIndex(context.db, options);
    return { list: indexKey(name, key), ...prepared };
  };
  return {
    add: async (key, id) => {
      assertKey(id);
      const { list, add } = use(key);
      add.immediate(list, id);
    },
    remove: async (key, id) => {
      const { list, remove } = use(key);
      remove.immediate(list, id);
    },
    list: async (key, range: IndexRange = {}) => {
      const { list, isExpired, statements } = use(key);
      if (isExpired(list)) return [];
      return statements.page.all(list, range.limit ?? -1, range.offset ?? 0).map((row) => row.id);
    },
    count: async (key) => {
      const { list, isExpired, statements } = use(key);
      return isExpired(list) ? 0 : statements.count.get(list)!.count;
    },
  };
}

function prepareIndex(db: Database, options: IndexOptions) {
  const statements = {
    expiry: db.prepare<[string], { expires_at: number | null }>('SELECT expires_at FROM index_lists WHERE list = ?'),
    dropList: db.prepare<[string]>('DELETE FROM index_entries WHERE list = ?'),
    forgetList: db.prepare<[string]>('DELETE FROM index_lists WHERE list = ?'),
    touch: db.prepare<[string, number | null]>(
      'INSERT INTO index_lists (list, expires_at) VALUES (?, ?) ' +
        'ON CONFLICT (list) DO UPDATE SET expires_at = excluded.expires_at',
    ),
    next: db.prepare<[string], { next: number }>(
      'SELECT COALESCE(MAX(position), 0) + 1 AS next FROM index_entries WHERE list = ?',
    ),
    put: db.prepare<[string, string, number]>(
      'INSERT INTO index_entries (list, id, position) VALUES (?, ?, ?) ' +
        'ON CONFLICT (list, id) DO UPDATE SET position = excluded.position',
    ),
    trim: db.prepare<[string, string, number]>(
      'DELETE FROM index_entries WHERE list = ? AND position <= ' +
        '(SELECT position FROM index_entries WHERE list = ? ORDER BY position DESC LIMIT 1 OFFSET ?)',
    ),
    remove: db.prepare<[string, string]>('DELETE FROM index_entries WHERE list = ? AND id = ?'),
    page: db.prepare<[string, number, number], { id: string }>(
      'SELECT id FROM index_entries WHERE list = ? ORDER BY position DESC LIMIT ? OFFSET ?',
    ),
    count: db.prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM index_entries WHERE list = ?'),
  };

  // A list nothing was added to within its time to live is gone, as a Redis key with a TTL would be.
  const isExpired = (list: string): boolean => {
    const expiresAt = statements.expiry.get(list)?.expires_at;
    return expiresAt !== undefined && expiresAt !== null && expiresAt <= Date.now();
  };

  const add = db.transaction((list: string, id: string) => {
    if (isExpired(list)) statements.dropList.run(list);
    statements.put.run(list, id, statements.next.get(list)!.next);
    if (options.cap !== undefined) statements.trim.run(list, list, options.cap);
    if (options.ttlMs !== undefined) statements.touch.run(list, Date.now() + options.ttlMs);
  });

  const remove = db.transaction((list: string, id: string) => {
    statements.remove.run(list, id);
    if (statements.count.get(list)!.count === 0) statements.forgetList.run(list);
  });

  return { statements, isExpired, add, remove };
}

/** Deletes the lists whose time to live has passed; returns how many entries went. */
export function sweepExpiredIndexLists(db: Database, now: number): number {
  const sweep = db.transaction(() => {
    const entries = db
      .prepare(
        'DELETE FROM index_entries WHERE list IN (SELECT list FROM index_lists WHERE expires_at IS NOT NULL AND expires_at <= ?)',
      )
      .run(now).changes;
    db.prepare('DELETE FROM index_lists WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    return entries;
  });
  return sweep.immediate();
}
