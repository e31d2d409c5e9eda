import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputFiles } from '../../src/jobs/input-files.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { newPromptId, type JobRecord } from '../../src/jobs/model.js';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { recordFault } from '../faults/ledger.js';
import { makeTempDir } from '../store/helpers.js';

const HOUR = 60 * 60 * 1000;
let directory: Awaited<ReturnType<typeof makeTempDir>>;
let dir: string;

beforeEach(async () => {
  directory = await makeTempDir();
  dir = join(directory.path, 'inputs');
  await mkdir(dir);
});

afterEach(async () => {
  await directory.remove();
});

/** Writes an input image of `size` bytes, last touched `ageMs` ago. */
async function image(name: string, size: number, ageMs: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Buffer.alloc(size));
  const when = new Date(Date.now() - ageMs);
  await utimes(path, when, when);
  return path;
}

function janitor(inUse: string[], options: { retentionMs?: number; maxBytes?: number } = {}): InputFiles {
  return new InputFiles({
    dir,
    retentionMs: options.retentionMs ?? 24 * HOUR,
    maxBytes: options.maxBytes ?? 1_000_000,
    inUse: async () => new Set(inUse),
    logger: silentLogger(),
  });
}

describe('members’ input images', () => {
  it('are deleted once their job is delivered and the retention has passed, and kept while a job is open', async () => {
    const delivered = await image('a.png', 100, 2 * HOUR);
    const waiting = await image('b.png', 100, 30 * HOUR);
    const recent = await image('c.png', 100, 0);
    const result = await janitor([waiting], { retentionMs: HOUR }).sweep();
    expect(result.removed).toBe(1);
    expect(existsSync(delivered)).toBe(false);
    expect(existsSync(waiting)).toBe(true);
    expect(existsSync(recent)).toBe(true);
  });

  it('count their retention from when their last job left the open list, not from when they were stored', async () => {
    const long = await image('a.png', 100, 30 * HOUR);
    await janitor([long], { retentionMs: HOUR }).sweep();
    // Its job has just been delivered: the next sweep keeps it for the retention period.
    await janitor([], { retentionMs: HOUR }).sweep();
    expect(existsSync(long)).toBe(true);
    await janitor([], { retentionMs: HOUR }).sweep(Date.now() + 2 * HOUR);
    expect(existsSync(long)).toBe(false);
  });

  it('go oldest first when the folder is over its cap, never one an open job uses or one just stored', async () => {
    const oldest = await image('1.png', 400, 5 * HOUR);
    const used = await image('2.png', 400, 4 * HOUR);
    const older = await image('3.png', 400, 3 * HOUR);
    const newer = await image('4.png', 400, 2 * HOUR);
    const justStored = await image('5.png', 400, 0);
    const result = await janitor([used], { maxBytes: 1_300 }).sweep();
    expect([oldest, older].map(existsSync)).toEqual([false, false]);
    expect([used, newer, justStored].map(existsSync)).toEqual([true, true, true]);
    expect(result.keptBytes).toBe(1_200);
    recordFault("members' input images over their disk cap", []);
  });
});

describe('an image-to-image job’s input image', () => {
  it('is deleted after the job is delivered (and its retention passed), not before', async () => {
    const store = await openStore(`sqlite://${join(directory.path, 'jobs.sqlite')}`, silentLogger());
    try {
      const jobs = new JobRepository(store);
      const path = await image('fox.png', 100, 0);
      const job: JobRecord = {
        id: 'job-1',
        memberId: 'member-1',
        channelId: 'channel-1',
        workflow: 'img2img',
        settings: { prompt: 'a fox' },
        graph: {},
        applied: {},
        inputImage: { path, filename: 'comfycord_fox.png' },
        state: 'running',
        sequence: 1,
        promptId: newPromptId(),
        attempts: 1,
        moves: 0,
        createdAt: 1,
        updatedAt: 1,
        deliveryAttempts: 0,
        outputs: [],
      };
      await jobs.create(job);
      const inputs = new InputFiles({
        dir,
        retentionMs: HOUR,
        maxBytes: 1_000_000,
        inUse: async () => new Set((await jobs.listOpen()).flatMap((open) => open.inputImage?.path ?? [])),
        logger: silentLogger(),
      });
      await inputs.sweep(Date.now() + 2 * HOUR);
      expect(existsSync(path)).toBe(true);
      await jobs.save({ ...job, state: 'succeeded', deliveredAt: Date.now() });
      await inputs.sweep(Date.now() + 4 * HOUR);
      expect(existsSync(path)).toBe(false);
    } finally {
      await store.close();
    }
  });
});
