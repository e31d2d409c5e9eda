import { afterEach, describe, expect, it } from 'vitest';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { newPromptId, type JobRecord } from '../../src/jobs/model.js';
import { Harness } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

function job(id: string, sequence: number, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    memberId: 'member-1',
    channelId: 'channel-1',
    workflow: 'txt2img',
    settings: { prompt: 'a fox' },
    graph: { '3': { class_type: 'KSampler', inputs: { seed: 7 } } },
    applied: { seed: 7 },
    state: 'waiting',
    sequence,
    promptId: newPromptId(),
    attempts: 0,
    moves: 0,
    createdAt: 1,
    updatedAt: 1,
    deliveryAttempts: 0,
    outputs: [],
    ...overrides,
  };
}

describe('JobRepository', () => {
  it('lists undelivered jobs oldest first and forgets delivered ones, across a reopen', async () => {
    const url = await harness.storeUrl();
    const store = await harness.openStore(url);
    const repository = new JobRepository(store);
    await repository.create(job('b', 2));
    await repository.create(job('a', 1));
    await repository.create(job('c', 3));
    await repository.save(job('b', 2, { state: 'succeeded', deliveredAt: 5 }));
    await repository.save(job('c', 3, { state: 'running', server: 'gpu1' }));
    await store.close();

    const reopened = new JobRepository(await harness.openStore(url));
    const open = await reopened.listOpen();
    expect(open.map((record) => [record.id, record.state])).toEqual([
      ['a', 'waiting'],
      ['c', 'running'],
    ]);
    expect((await reopened.get('b'))?.deliveredAt).toBe(5);
  });

  it('keeps one ComfyUI client id for the bot', async () => {
    const url = await harness.storeUrl();
    const store = await harness.openStore(url);
    const first = await new JobRepository(store).clientId();
    expect(first).toMatch(/^comfycord-/);
    await store.close();
    expect(await new JobRepository(await harness.openStore(url)).clientId()).toBe(first);
  });
});
