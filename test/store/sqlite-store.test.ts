import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { sqlitePathOf } from '../../src/store/sqlite-backend.js';
import { makeTempDir } from './helpers.js';
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

/** Writes a row straight into the SQLite file, behind keyv's serializer. */
async function writeRawRow(path: string, key: string, text: string): Promise<void> {
  const raw = new KeyvSqlite({ uri: `sqlite://${path}` });
  await raw.query('INSERT OR REPLACE INTO keyv (key, value) VALUES (?, ?)', key, text);
  await raw.disconnect();
}

describe('the SQLite store', () => {
  const harness: StoreHarness = {
    open: async (logger) => {
      if (file === '') file = join(directory.path, `store-${(fileNumber += 1)}.sqlite`);
      return openStore(`sqlite://${file}`, logger);
    },
    writeRaw: async (fullKey, text) => writeRawRow(file, fullKey, text),
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
