import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { redactUrl } from '../../src/store/redis-backend.js';
import type { RedisClient } from '../../src/store/redis-index.js';
import { indexKey } from '../../src/store/store.js';
import { captureLogs, warningsIn } from './helpers.js';
import { defineStoreContract, type StoreHarness } from './store-contract.js';
import { findFreePort, shouldRunRedisTests, startRedisServer, type RedisServer } from './redis-server.js';

/** Runs one command on a separate connection, as another process (or a person with redis-cli) would. */
async function withRawClient(url: string, work: (client: RedisClient) => Promise<unknown>): Promise<void> {
  const client: RedisClient = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.close();
  }
}

// Runs where redis-server is installed (and always on CI); elsewhere skipped with one printed line.
const describeWithRedis = describe.runIf(shouldRunRedisTests());

describeWithRedis('the Redis store', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  const harness: StoreHarness = {
    open: async (logger) => openStore(server.url, logger),
    writeRaw: async (fullKey, text) => withRawClient(server.url, async (client) => client.set(fullKey, text)),
    holdsRaw: async (fullKey) => {
      let exists = 0;
      await withRawClient(server.url, async (client) => (exists = await client.exists(fullKey)));
      return exists === 1;
    },
    reset: async () => withRawClient(server.url, async (client) => client.flushDb()),
  };

  defineStoreContract(() => harness);

  it('reads an index key holding something else as empty with a warning, and rebuilds it on the next add', async () => {
    const logs = captureLogs();
    const store = await openStore(server.url, logs.logger);
    try {
      await harness.writeRaw(indexKey('recent', 'member'), 'garbage');
      const recent = store.index('recent');
      expect(await recent.list('member')).toEqual([]);
      expect(warningsIn(logs.lines())).not.toHaveLength(0);
      await recent.add('member', 'a');
      expect(await recent.list('member')).toEqual(['a']);
    } finally {
      await store.close();
      await harness.reset();
    }
  });

  it('loses no index entry when two processes add to the same list at once', async () => {
    const [first, second] = await Promise.all([
      openStore(server.url, silentLogger()),
      openStore(server.url, silentLogger()),
    ]);
    try {
      const ids = Array.from({ length: 100 }, (_, index) => `g${index}`);
      await Promise.all(ids.map(async (id, index) => (index % 2 === 0 ? first : second).index('recent').add('m', id)));
      expect(new Set(await first.index('recent').list('m'))).toEqual(new Set(ids));
    } finally {
      await Promise.all([first.close(), second.close()]);
      await harness.reset();
    }
  });

  it('sees in one process what another process wrote', async () => {
    const [writer, reader] = await Promise.all([
      openStore(server.url, silentLogger()),
      openStore(server.url, silentLogger()),
    ]);
    try {
      await writer.collection('things', z.string(), { version: 1 }).set('a', 'fox');
      expect(await reader.collection('things', z.string(), { version: 1 }).get('a')).toBe('fox');
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await harness.reset();
    }
  });
});

describeWithRedis('the Redis store when the server is unreachable', () => {
  it('fails at open with a sentence naming the server, without its password', async () => {
    const port = await findFreePort();
    await expect(
      openStore(`redis://bot:hunter2@127.0.0.1:${port}`, silentLogger(), { connectTimeoutMs: 1_000 }),
    ).rejects.toThrow(new RegExp(`^Could not connect to the Redis store at redis://127\\.0\\.0\\.1:${port}: `));
  });

  it('fails a read at once while the server is away, and works again once it is back', async () => {
    const first = await startRedisServer();
    const store = await openStore(first.url, silentLogger());
    let second: RedisServer | undefined;
    try {
      const things = store.collection('things', z.string(), { version: 1 });
      await things.set('a', 'fox');
      await first.stop();
      await expect(things.get('a')).rejects.toThrow();
      second = await startRedisServer(first.port);
      await eventually(async () => things.set('b', 'owl'));
      expect(await things.get('b')).toBe('owl');
    } finally {
      await store.close();
      await second?.stop();
    }
  });
});

/** Retries `work` until it succeeds, for up to 20 s (the client reconnects with a backoff of at most 2 s). */
async function eventually(work: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await work();
      return;
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('redactUrl', () => {
  it('drops the user name and password from a Redis URL', () => {
    expect(redactUrl('redis://user:secret@cache.internal:6380/2')).toBe('redis://cache.internal:6380/2');
    expect(redactUrl('rediss://:secret@cache.internal')).toBe('rediss://cache.internal');
  });
});
