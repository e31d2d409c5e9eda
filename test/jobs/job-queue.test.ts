import { describe, expect, it } from 'vitest';
import { MemoryCell } from '../../src/jobs/engine/shared-cell.js';
import { emptyQueueState, type QueuedJob } from '../../src/jobs/engine/queue-state.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { isUserFacing } from '../../src/errors.js';

const limits = { jobsPerMember: 1, queueLength: 10 };

function queued(id: string, memberId: string, createdAt = Date.now()): QueuedJob {
  return { id, memberId, workflow: 'txt2img', createdAt };
}

function newQueue(): JobQueue {
  return new JobQueue(new MemoryCell(emptyQueueState()));
}

describe('JobQueue', () => {
  it('counts a job and queues it in one step, and refuses the next one of the member without a trace', async () => {
    const queue = newQueue();
    expect(await queue.admit(queued('a1', 'mia'), limits)).toBe('admitted');
    expect(queue.ordered().map((job) => job.id)).toEqual(['a1']);
    const refused = await queue.admit(queued('a2', 'mia'), limits).catch((error: unknown) => error);
    expect(isUserFacing(refused) && refused.identifier).toBe('member-limit');
    expect(queue.knows('a2')).toBe(false);
    expect(Object.keys(queue.last.admitted)).toEqual(['a1']);
  });

  it('admits a job once however often it is asked', async () => {
    const queue = newQueue();
    await queue.admit(queued('a1', 'mia'), limits);
    expect(await queue.admit(queued('a1', 'mia'), limits)).toBe('admitted');
    expect(queue.ordered()).toHaveLength(1);
  });

  it('leaves a job written longer ago than the grace to the dispatcher, which takes it in once', async () => {
    const queue = newQueue();
    const late = queued('a1', 'mia', Date.now() - 61_000);
    expect(await queue.admit(late, limits, 60_000)).toBe('late');
    expect(queue.knows('a1')).toBe(false);
    expect(await queue.readmit(late)).toBe(true);
    expect(await queue.readmit(late)).toBe(false);
    expect(await queue.admit(late, limits, 60_000)).toBe('admitted');
    expect(queue.ordered().map((job) => job.id)).toEqual(['a1']);
    expect(queue.last.admitted['a1']).toEqual(expect.objectContaining({ memberId: 'mia' }));
  });

  it('hands off a job that ended unknown to the queue once, to be delivered, holding no slot', async () => {
    const queue = newQueue();
    const handOff = await queue.adopt(queued('a1', 'mia'), undefined);
    expect(handOff).toEqual(expect.objectContaining({ memberId: 'mia', workflow: 'txt2img' }));
    expect(handOff?.server).toBeUndefined();
    expect(await queue.adopt(queued('a1', 'mia'), undefined)).toBeUndefined();
    expect(queue.last.admitted['a1']).toBeUndefined();
  });

  it('hands off a job on a server unknown to the queue with its slot, counted against its member', async () => {
    const queue = newQueue();
    const handOff = await queue.adopt(queued('a1', 'mia'), 'gpu1');
    expect(handOff?.server).toBe('gpu1');
    expect(queue.slotsTaken('gpu1')).toBe(1);
    await expect(queue.admit(queued('a2', 'mia'), limits)).rejects.toThrow();
  });
});
