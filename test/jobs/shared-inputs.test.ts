/**
 * Members' images in a fleet: each process (here, two "hosts" with their own folders on one real Redis) keeps a local
 * folder, and the store's shelf is where an image taken in by one is found by the other. The retention and the cap
 * hold fleet-wide: a sweep never deletes an image another process's open job needs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isUserFacing, sentenceFor } from '../../src/errors.js';
import { InputFiles } from '../../src/jobs/input-files.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { newPromptId, type JobRecord } from '../../src/jobs/model.js';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from '../store/helpers.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

const HOUR = 60 * 60 * 1000;
const MB = 1024 * 1024;

let directory: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  directory = await makeTempDir();
});
afterEach(async () => {
  await directory.remove();
});

/** An open image-to-image job whose image was taken in on a host whose folder is `dir`. */
function openJob(id: string, dir: string, name: string): JobRecord {
  return {
    id,
    memberId: 'member-1',
    channelId: 'channel-1',
    workflow: 'img2img',
    settings: { prompt: 'a fox' },
    graph: {},
    applied: {},
    inputImage: { path: join(dir, name), filename: `comfycord_${name}` },
    state: 'waiting',
    sequence: 1,
    promptId: newPromptId(),
    attempts: 0,
    moves: 0,
    createdAt: 1,
    updatedAt: 1,
    deliveryAttempts: 0,
    outputs: [],
  };
}

/** One host's input folder on `store`, the way the engine builds it. */
async function host(store: Store, name: string, options: { maxBytes?: number; sharedMax?: number } = {}) {
  const dir = join(directory.path, name, 'inputs');
  await mkdir(dir, { recursive: true });
  const jobs = new JobRepository(store);
  const inputs = new InputFiles({
    dir,
    retentionMs: HOUR,
    maxBytes: options.maxBytes ?? 100 * MB,
    inUse: async () => new Set((await jobs.listOpen()).flatMap((job) => job.inputImage?.path ?? [])),
    shared: store.blobs('inputs', { ttlMs: HOUR, maxBytes: options.sharedMax ?? 10 * MB }),
    logger: silentLogger(),
    graceMs: 0,
  });
  return { dir, jobs, inputs };
}

describe('members’ images on one process (SQLite)', () => {
  it('are kept in its folder alone: sharing is a no-op and the store holds no copy', async () => {
    const store = await openStore(`sqlite://${join(directory.path, 'bot.sqlite')}`, silentLogger());
    try {
      const { inputs, dir } = await host(store, 'only');
      await inputs.share('abc.png', Buffer.alloc(50 * MB));
      expect(await readdir(dir)).toEqual([]);
      const missing = await inputs
        .read({ path: join(dir, 'abc.png'), filename: 'x.png' })
        .catch((error: unknown) => error);
      expect(isUserFacing(missing) && missing.identifier).toBe('input-image-missing');
    } finally {
      await store.close();
    }
  });
});

describe.runIf(shouldRunRedisTests('shared input images suite'))('members’ images in a fleet (Redis)', () => {
  let server: RedisServer;
  let stores: Store[];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    stores = [await openStore(server.url, silentLogger()), await openStore(server.url, silentLogger())];
    // Each test starts from an empty shelf.
    const shelf = stores[0]!.blobs('inputs', { ttlMs: HOUR, maxBytes: MB })!;
    for (const blob of await shelf.list()) await shelf.deleteUnlessUsedSince(blob.name, Number.MAX_SAFE_INTEGER);
  });
  afterEach(async () => {
    await Promise.all(stores.map(async (store) => store.close()));
  });

  it('taken in by one host are read by another from the store, and kept in its folder from then on', async () => {
    const a = await host(stores[0]!, 'a');
    const b = await host(stores[1]!, 'b');
    const bytes = Buffer.from('the picture, byte for byte');
    await a.inputs.share('f00d.png', bytes);
    const image = { path: join(a.dir, 'f00d.png'), filename: 'comfycord_f00d.png' };
    expect((await b.inputs.read(image)).equals(bytes)).toBe(true);
    expect(existsSync(join(b.dir, 'f00d.png'))).toBe(true);
    expect(await b.inputs.has(image)).toBe(true);
  });

  it('larger than the fleet shares are refused with one sentence, and nothing of them is kept', async () => {
    const a = await host(stores[0]!, 'a', { sharedMax: MB });
    const refused = await a.inputs.share('big.png', Buffer.alloc(MB + 1)).catch((error: unknown) => error);
    expect(isUserFacing(refused) && refused.userMessage).toBe(
      'That image is larger than the 1 MiB the bot can pass between its processes; please attach a smaller one.',
    );
    // Said in the member's language.
    expect(isUserFacing(refused) && sentenceFor(refused, 'de')).toBe(
      'Dieses Bild ist größer als die 1 MiB, die der Bot zwischen seinen Prozessen weitergeben kann; häng bitte ein kleineres an.',
    );
    expect(await stores[0]!.blobs('inputs', { ttlMs: HOUR, maxBytes: MB })!.list()).toEqual([]);
  });

  it('needed by another host’s open job outlive their retention in every host’s sweep', async () => {
    const a = await host(stores[0]!, 'a');
    const b = await host(stores[1]!, 'b');
    await a.inputs.share('needed.png', Buffer.from('needed'));
    await a.inputs.share('done.png', Buffer.from('done'));
    await a.jobs.create(openJob('job-needed', a.dir, 'needed.png'));
    // Host b's sweep, long past the retention: it sees host a's open job in the store.
    await b.inputs.sweep(Date.now() + 3 * HOUR);
    const names = (await stores[1]!.blobs('inputs', { ttlMs: HOUR, maxBytes: MB })!.list()).map((blob) => blob.name);
    expect(names).toEqual(['needed.png']);
    expect((await b.inputs.read({ path: join(a.dir, 'needed.png'), filename: 'x.png' })).toString()).toBe('needed');
  });

  it('fill the fleet’s cap only until what open jobs need leaves no room: then one sentence', async () => {
    const a = await host(stores[0]!, 'a', { maxBytes: 1_000 });
    const b = await host(stores[1]!, 'b', { maxBytes: 1_000 });
    await a.inputs.share('old.png', Buffer.alloc(400));
    await a.inputs.share('kept.png', Buffer.alloc(400));
    await a.jobs.create(openJob('job-kept', a.dir, 'kept.png'));
    // Host b takes in an image: the oldest one no job needs goes to make room, counted over every host's images.
    await b.inputs.share('new.png', Buffer.alloc(400));
    const shelf = stores[1]!.blobs('inputs', { ttlMs: HOUR, maxBytes: MB })!;
    expect((await shelf.list()).map((blob) => blob.name).sort()).toEqual(['kept.png', 'new.png']);
    await b.jobs.create(openJob('job-new', b.dir, 'new.png'));
    const refused = await a.inputs.share('more.png', Buffer.alloc(400)).catch((error: unknown) => error);
    expect(isUserFacing(refused) && refused.identifier).toBe('inputs-full');
  });
});
