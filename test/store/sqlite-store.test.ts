import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { sqlitePathOf } from '../../src/store/sqlite-backend.js';
import { indexKey, recordKey } from '../../src/store/store.js';
import { captureLogs, makeTempDir, warningsIn } from './helpers.js';
import { defineStoreContract, type StoreHarness } from './store-contract.js';

let directory: Awaited<ReturnType<typeof makeTempDir>>;
let fileNumber = 0;
let file = '';

beforeAll(async () => {
  directory = await makeTempDir();
});

afterAll(async () => {
  await directory.remove();
});

/** Runs `work` on a connection of its own, as a person with the `sqlite3` shell would. */
function withRawDatabase<T>(path: string, work: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describe('the SQLite store', () => {
  const harness: StoreHarness = {
    open: async (logger) => {
      if (file === '') file = join(directory.path, `store-${(fileNumber += 1)}.sqlite`);
      return openStore(`sqlite://${file}`, logger);
    },
    writeRaw: async (fullKey, text) =>
      withRawDatabase(file, (db) => {
        db.prepare('INSERT OR REPLACE INTO records (key, value) VALUES (?, ?)').run(fullKey, text);
      }),
    holdsRaw: async (fullKey) =>
      withRawDatabase(file, (db) => {
        const record = db.prepare('SELECT 1 FROM records WHERE key = ?').get(fullKey);
        const entry = db.prepare('SELECT 1 FROM index_entries WHERE list = ?').get(fullKey);
        return record !== undefined || entry !== undefined;
      }),
    // A new file per test: nothing leaks from one test into the next.
    reset: async () => {
      file = '';
    },
  };

  defineStoreContract(() => harness);

  it('creates the directory of a new database file', async () => {
    const path = join(directory.path, 'nested', 'deeper', 'bot.sqlite');
    const store = await openStore(`sqlite://${path}`, silentLogger());
    await store.collection('things', z.string(), { version: 1 }).set('a', 'b');
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  it('fails at open with a sentence naming the file when the path cannot hold a database', async () => {
    const blocker = join(directory.path, 'a-file');
    await writeFile(blocker, 'not a directory');
    await expect(openStore(`sqlite://${blocker}/bot.sqlite`, silentLogger())).rejects.toThrow(
      `Could not open the SQLite store at ${blocker}/bot.sqlite`,
    );
  });

  it('rejects a URL of another scheme with a sentence', async () => {
    await expect(openStore('postgres://localhost/db', silentLogger())).rejects.toThrow(
      'The store URL must start with sqlite:// or redis://, not "postgres:".',
    );
  });
});

describe('sqlitePathOf', () => {
  it('resolves a relative path against the working directory', () => {
    expect(sqlitePathOf('sqlite://data/comfycord.sqlite', '/srv/bot')).toBe('/srv/bot/data/comfycord.sqlite');
  });

  it('keeps an absolute path and an in-memory database as they are', () => {
    expect(sqlitePathOf('sqlite:///var/lib/comfycord/bot.sqlite', '/srv/bot')).toBe('/var/lib/comfycord/bot.sqlite');
    expect(sqlitePathOf('sqlite://:memory:', '/srv/bot')).toBe(':memory:');
  });
});

/**
 * A file as `@keyv/sqlite` (releases before the move to better-sqlite3) left it: one `keyv` table whose rows hold
 * keyv's `{ value, expires }` JSON, index lists included as JSON arrays. Written with plain SQL, not the old driver.
 */
function writeLegacyFile(path: string, rows: Record<string, unknown>): void {
  withRawDatabase(path, (db) => {
    db.exec('CREATE TABLE keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)');
    const insert = db.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
    for (const [key, row] of Object.entries(rows)) insert.run(key, typeof row === 'string' ? row : JSON.stringify(row));
  });
}

describe('a SQLite file written by earlier releases (the keyv table of @keyv/sqlite)', () => {
  const job = { id: 'job-1', state: 'running' };
  const later = Date.now() + 60_000;

  it('opens with its jobs, sessions and history, and no keyv table left behind', async () => {
    const path = join(directory.path, 'legacy.sqlite');
    writeLegacyFile(path, {
      [recordKey('jobs', 'job-1')]: { value: { v: 1, data: job } },
      [recordKey('sessions', 's1')]: { value: { v: 1, data: 'a session' }, expires: later },
      [recordKey('sessions', 'old')]: { value: { v: 1, data: 'expired' }, expires: Date.now() - 1_000 },
      [indexKey('history', 'member')]: { value: { v: 1, data: ['g3', 'g2', 'g1'] } },
      [indexKey('open-jobs', 'all')]: { value: { v: 1, data: ['job-1'] } },
    });
    const store = await openStore(`sqlite://${path}`, silentLogger());
    try {
      expect(await store.collection('jobs', z.object({ id: z.string() }).loose(), { version: 1 }).get('job-1')).toEqual(
        job,
      );
      expect(await store.collection('sessions', z.string(), { version: 1 }).get('s1')).toBe('a session');
      expect(await store.collection('sessions', z.string(), { version: 1 }).get('old')).toBeUndefined();
      expect(await store.index('history').list('member')).toEqual(['g3', 'g2', 'g1']);
      await store.index('history').add('member', 'g4');
      expect(await store.index('history').list('member', { limit: 2 })).toEqual(['g4', 'g3']);
      expect(await store.index('open-jobs').list('all')).toEqual(['job-1']);
    } finally {
      await store.close();
    }
    withRawDatabase(path, (db) => {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'keyv'").get()).toBeUndefined();
      // The record's expiry moved into its own column, where sweeps find it.
      expect(db.prepare('SELECT expires_at FROM records WHERE key = ?').get(recordKey('sessions', 's1'))).toEqual({
        expires_at: later,
      });
    });
  });

  it('keeps an unreadable record as unreadable and drops an unreadable index list, with a warning', async () => {
    const path = join(directory.path, 'legacy-broken.sqlite');
    writeLegacyFile(path, {
      [recordKey('jobs', 'broken')]: 'not json {',
      [indexKey('history', 'member')]: 'garbage',
    });
    const logs = captureLogs();
    const store = await openStore(`sqlite://${path}`, logs.logger);
    try {
      expect(await store.index('history').list('member')).toEqual([]);
      expect(await store.collection('jobs', z.unknown(), { version: 1 }).get('broken')).toBeUndefined();
      expect(warningsIn(logs.lines())).toEqual([
        expect.objectContaining({ key: indexKey('history', 'member') }),
        expect.objectContaining({ collection: 'jobs', key: 'broken', problem: expect.stringContaining('not JSON') }),
      ]);
      await store.index('history').add('member', 'g1');
      expect(await store.index('history').list('member')).toEqual(['g1']);
    } finally {
      await store.close();
    }
  });
});

describe('the SQLite store over time', () => {
  it('gives the space of swept rows back, so the file does not keep growing', async () => {
    const path = join(directory.path, 'bounded.sqlite');
    const store = await openStore(`sqlite://${path}`, silentLogger());
    const blobs = store.collection('blobs', z.string(), { version: 1 });
    try {
      const graph = 'x'.repeat(20_000);
      for (let round = 0; round < 3; round += 1) {
        for (let index = 0; index < 200; index += 1) await blobs.set(`r${round}-${index}`, graph, 20);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await store.sweep()).toBe(200);
      }
      withRawDatabase(path, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
      // 200 rows of 20 kB written three times over: about 12 MB without sweeps, a few pages with them.
      expect(statSync(path).size).toBeLessThan(1_000_000);
    } finally {
      await store.close();
    }
  });
});
