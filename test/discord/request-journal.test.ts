import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cardNonce,
  REQUEST_TTL_MS,
  refineJobId,
  RequestJournal,
  type ReceivedImagine,
  type ReceivedRefine,
} from '../../src/discord/request-journal.js';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { recordKey, type Store } from '../../src/store/store.js';
import { makeTempDir } from '../store/helpers.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

function imagine(id: string, receivedAt: number): ReceivedImagine {
  return {
    kind: 'imagine',
    id,
    memberId: 'member-1',
    guildId: 'guild-1',
    channelId: 'channel-1',
    ageRestricted: false,
    receivedAt,
    interactionId: `interaction-${id}`,
    delivery: { applicationId: 'app', interactionToken: 'token', tokenExpiresAt: receivedAt + 900_000, channelId: 'c' },
    inThread: false,
    text: 'a fox --steps 3',
    options: { aspect: '16:9', loras: [{ name: 'ink.safetensors', weight: 0.5 }] },
    attachment: { url: 'https://cdn.example/a.png', name: 'a.png', size: 10, contentType: 'image/png' },
  };
}

function refine(messageId: string): ReceivedRefine {
  return {
    kind: 'refine',
    id: refineJobId(messageId),
    memberId: 'member-1',
    channelId: 'channel-1',
    ageRestricted: false,
    receivedAt: 1_500,
    messageId,
    inThread: false,
    repliedTo: 'result-1',
    text: '+ at night',
    threads: true,
  };
}

/** The journal's behaviour on one kind of store. */
function defineJournalTests(open: () => Promise<Store>, expiresIn: (store: Store, id: string) => Promise<void>) {
  let store: Store;

  beforeAll(async () => {
    store = await open();
  });

  afterAll(async () => {
    await store?.close();
  });

  it('lists what was written, oldest first, and forgets what was removed', async () => {
    const journal = new RequestJournal(store);
    await journal.write(imagine('later-one', 2_000));
    await journal.write(imagine('early-one', 1_000));
    await journal.write(refine('111'));
    expect((await journal.list()).map((entry) => entry.id)).toEqual(['early-one', refineJobId('111'), 'later-one']);
    expect(await journal.get('early-one')).toEqual(imagine('early-one', 1_000));
    await journal.remove('early-one');
    await journal.remove(refineJobId('111'));
    expect((await journal.list()).map((entry) => entry.id)).toEqual(['later-one']);
    await journal.remove('later-one');
    expect(await journal.list()).toEqual([]);
  });

  it('notes a change on an entry still there, and does not bring back one removed', async () => {
    const journal = new RequestJournal(store);
    const entry = refine('222');
    await journal.write(entry);
    await journal.note(entry.id, { statusMessageId: 'card-1' });
    expect(await journal.get(entry.id)).toEqual({ ...entry, statusMessageId: 'card-1' });
    await journal.remove(entry.id);
    await journal.note(entry.id, { statusMessageId: 'card-2' });
    expect(await journal.get(entry.id)).toBeUndefined();
  });

  it('keeps an entry nobody finished for a day at most', async () => {
    const journal = new RequestJournal(store);
    await journal.write(imagine('forgotten', 3_000));
    await expiresIn(store, 'forgotten');
  });
}

describe('the request journal on SQLite', () => {
  let directory: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    directory = await makeTempDir();
  });
  afterAll(async () => {
    await directory.remove();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  defineJournalTests(
    async () => openStore(`sqlite://${directory.path}/journal.sqlite`, silentLogger()),
    async (store, id) => {
      const journal = new RequestJournal(store);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + REQUEST_TTL_MS - 60_000);
      expect(await journal.get(id)).toBeDefined();
      vi.setSystemTime(Date.now() + 120_000);
      expect(await journal.get(id)).toBeUndefined();
      // The list drops the id whose entry expired.
      expect(await journal.list()).toEqual([]);
      await store.sweep();
    },
  );
});

describe.runIf(shouldRunRedisTests('request journal on Redis'))('the request journal on Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  defineJournalTests(
    async () => openStore(server.url, silentLogger()),
    async (_store, id) => {
      // Redis expires the key itself: its time to live is the journal's.
      const client = createClient({ url: server.url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const ttl = await client.pTTL(recordKey('received-requests', id));
        expect(ttl).toBeGreaterThan(REQUEST_TTL_MS - 60_000);
        expect(ttl).toBeLessThanOrEqual(REQUEST_TTL_MS);
      } finally {
        await client.close();
      }
    },
  );
});

describe('the ids a request journal gives', () => {
  it('gives a reply one job id, the same each time it is handled, fit for a button', () => {
    expect(refineJobId('1234567890123456789')).toBe(refineJobId('1234567890123456789'));
    expect(refineJobId('1234567890123456789')).not.toBe(refineJobId('1234567890123456788'));
    expect(refineJobId('1234567890123456789')).toMatch(/^[\w-]{12}$/);
  });

  it('gives a status card a nonce Discord takes (at most 25 characters)', () => {
    expect(cardNonce(refine('333')).length).toBeLessThanOrEqual(25);
  });
});
