/**
 * keyv's storage adapter over better-sqlite3 (no maintained one exists on npm: `@keyv/sqlite` is built on the
 * unmaintained `sqlite3`). Rows hold keyv's serialised `{ value, expires }` as before, plus the expiry in a column of
 * its own, so the store can sweep expired rows with one indexed DELETE instead of reading every row.
 */
import { EventEmitter } from 'node:events';
import type { Database, Statement } from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** A keyv adapter over the `records` table (see sqlite-schema.ts). */
export class SqliteKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'sqlite' };
  namespace?: string | undefined;
  readonly #select: Statement<[string, number], { value: string }>;
  readonly #upsert: Statement<[string, string, number | null]>;
  readonly #delete: Statement<[string]>;
  readonly #clear: Statement<[]>;

  constructor(db: Database) {
    super();
    this.#select = db.prepare('SELECT value FROM records WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)');
    this.#upsert = db.prepare(
      'INSERT INTO records (key, value, expires_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
    );
    this.#delete = db.prepare('DELETE FROM records WHERE key = ?');
    this.#clear = db.prepare('DELETE FROM records');
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    // keyv deserialises the text itself; a row past its expiry reads as missing even before a sweep removes it.
    return this.#select.get(key, Date.now())?.value as StoredData<Value> | undefined;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    const expiresAt = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    this.#upsert.run(key, value, expiresAt);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.#delete.run(key).changes > 0;
  }

  async clear(): Promise<void> {
    this.#clear.run();
  }
}
