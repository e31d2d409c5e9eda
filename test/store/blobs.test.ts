/**
 * Shared blobs: on Redis, files any process of the bot can read back, expiring after their last use, deleted by a
 * sweep only when nobody used them since it looked; on SQLite, none at all (one process keeps its files on its disk).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { BlobTooLargeError } from '../../src/store/blobs.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from './helpers.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from './redis-server.js';

const MB = 1024 * 1024;

describe('shared blobs on a SQLite store', () => {
  it('do not exist: the one process keeps its files in its own data directory', async () => {
    const directory = await makeTempDir();
    const store = await openStore(`sqlite://${directory.path}/bot.sqlite`, silentLogger());
    try {
      expect(store.blobs('inputs', { ttlMs: 60_000, maxBytes: MB })).toBeUndefined();
    } finally {
      await store.close();
      await directory.remove();
    }
  });
});

describe.runIf(shouldRunRedisTests('shared blobs suite'))('shared blobs on a Redis store', () => {
  let server: RedisServer;
  let stores: Store[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(() => {
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map(async (store) => store.close()));
  });

  /** A store as one process of the fleet opens it (each call is another connection, as another process's). */
  async function openProcess(): Promise<Store> {
    const store = await openStore(server.url, silentLogger());
    stores.push(store);
    return store;
  }

  it('are written by one process and read back whole, bytes for bytes, by another', async () => {
    const bytes = randomBytes(4 * MB);
    const options = { ttlMs: 60_000, maxBytes: 8 * MB };
    await (await openProcess()).blobs('inputs-a', options)!.put('0123abcd.png', bytes);
    const read = await (await openProcess()).blobs('inputs-a', options)!.get('0123abcd.png');
    expect(Buffer.isBuffer(read)).toBe(true);
    expect(read!.equals(bytes)).toBe(true);
    expect(await (await openProcess()).blobs('inputs-a', options)!.get('missing.png')).toBeUndefined();
  });

  it('are listed with their size and last use, and a touch renews the use of one that is there only', async () => {
    const blobs = (await openProcess()).blobs('inputs-b', { ttlMs: 60_000, maxBytes: MB })!;
    await blobs.put('a.png', Buffer.alloc(100), 1_000_000);
    await blobs.put('b.webp', Buffer.alloc(200), 1_000_000);
    expect(await blobs.touch('a.png', Date.now())).toBe(true);
    expect(await blobs.touch('never.png')).toBe(false);
    const listed = (await blobs.list(1_000_000)).sort((x, y) => x.name.localeCompare(y.name));
    expect(listed.map(({ name, size }) => ({ name, size }))).toEqual([
      { name: 'a.png', size: 100 },
      { name: 'b.webp', size: 200 },
    ]);
    expect(listed[0]!.usedAt).toBeGreaterThan(1_000_000);
  });

  it('expire by themselves after their last use, and leave the catalogue when they do', async () => {
    const blobs = (await openProcess()).blobs('inputs-c', { ttlMs: 300, maxBytes: MB })!;
    await blobs.put('short.png', Buffer.from('short'));
    await sleep(500);
    expect(await blobs.get('short.png')).toBeUndefined();
    expect(await blobs.list()).toEqual([]);
  });

  it('are deleted by a sweep only when nobody used them since the sweep looked', async () => {
    const sweeper = (await openProcess()).blobs('inputs-d', { ttlMs: 60_000, maxBytes: MB })!;
    const other = (await openProcess()).blobs('inputs-d', { ttlMs: 60_000, maxBytes: MB })!;
    await sweeper.put('old.png', Buffer.from('old'), Date.now() - 10_000);
    await sweeper.put('reused.png', Buffer.from('reused'), Date.now() - 10_000);
    const seen = await sweeper.list();
    // Another process takes the same picture in again (a Reroll) between the sweep's look and its delete.
    await other.touch('reused.png');
    const deleted = await Promise.all(seen.map(async (blob) => sweeper.deleteUnlessUsedSince(blob.name, blob.usedAt)));
    expect(Object.fromEntries(seen.map((blob, index) => [blob.name, deleted[index]]))).toEqual({
      'old.png': true,
      'reused.png': false,
    });
    expect(await other.get('old.png')).toBeUndefined();
    expect((await other.get('reused.png'))?.toString()).toBe('reused');
    expect((await other.list()).map((blob) => blob.name)).toEqual(['reused.png']);
  });

  it('refuse a blob over the shelf’s limit and write nothing of it', async () => {
    const blobs = (await openProcess()).blobs('inputs-e', { ttlMs: 60_000, maxBytes: 1_000 })!;
    await expect(blobs.put('big.png', Buffer.alloc(1_001))).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await blobs.get('big.png')).toBeUndefined();
    expect(await blobs.list()).toEqual([]);
  });

  it('refuse names that could be read two ways', async () => {
    const blobs = (await openProcess()).blobs('inputs-f', { ttlMs: 60_000, maxBytes: 1_000 })!;
    for (const name of ['', '../x.png', 'a//b', 'a/../b', './b', '/abs', 'sp ace.png']) {
      await expect(blobs.put(name, Buffer.from('x')), name).rejects.toThrow(/blob name/);
    }
    // A web output's place: a job id may start with a dash.
    await blobs.put('-gen_1/0-out.png', Buffer.from('x'));
    expect((await blobs.get('-gen_1/0-out.png'))?.toString()).toBe('x');
  });
});
