/**
 * The dispatch pass over a queue in memory, with a server that always has a free slot and an engine that records its
 * hand-offs: what goes out, and what a slow Discord or a failing store or Redis cannot hold up or strand.
 */
import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchContext } from '../../src/jobs/dispatch.js';
import type { QueueEngine } from '../../src/jobs/engine/queue-engine.js';
import { emptyQueueState, type HandOff } from '../../src/jobs/engine/queue-state.js';
import { MemoryCell } from '../../src/jobs/engine/shared-cell.js';
import type { JobEvent } from '../../src/jobs/events.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import type { JobRecord } from '../../src/jobs/model.js';
import type { ServerPool } from '../../src/jobs/server-pool.js';
import { silentLogger } from '../../src/logger.js';

const limits = { jobsPerMember: 10, queueLength: 100 };

interface Harness {
  readonly dispatcher: Dispatcher;
  readonly queue: JobQueue;
  readonly handedOff: string[];
  readonly events: Array<{ jobId: string; type: JobEvent['type'] }>;
  /** While false, no server has a free slot. */
  free: boolean;
  /** When set, reading a job's record throws it. */
  storeError: Error | undefined;
  /** When set, the engine's hand-off (BullMQ's add) throws it. */
  redisError: Error | undefined;
}

function harness(): Harness {
  const queue = new JobQueue(new MemoryCell(emptyQueueState()));
  const h: Harness = {
    dispatcher: undefined as unknown as Dispatcher,
    queue,
    handedOff: [],
    events: [],
    free: true,
    storeError: undefined,
    redisError: undefined,
  };
  const engine = {
    kind: 'fleet',
    leading: true,
    handOff: async (jobId: string, handOff: HandOff) => {
      if (h.redisError) throw h.redisError;
      h.handedOff.push(`${jobId}:${handOff.key}`);
    },
  } as unknown as QueueEngine;
  const pool = {
    hasFreeSlot: () => h.free,
    choose: () => (h.free ? 'emu' : undefined),
    capabilities: () => undefined,
  } as unknown as ServerPool;
  const context: DispatchContext = {
    queue,
    pool,
    engine,
    workflows: { get: () => undefined } as unknown as DispatchContext['workflows'],
    recordOf: async (jobId) => {
      if (h.storeError) throw h.storeError;
      return { id: jobId, memberId: 'mia', workflow: 'txt2img', settings: {} } as unknown as JobRecord;
    },
    emit: (job, event) => {
      h.events.push({ jobId: job.id, type: event.type });
    },
    running: () => true,
    logger: silentLogger(),
  };
  (h as { dispatcher: Dispatcher }).dispatcher = new Dispatcher(context);
  return h;
}

/** Admits jobs as intake does: queued, and what they need of a server told to the dispatcher. */
async function admit(h: Harness, ...ids: string[]): Promise<void> {
  for (const id of ids) {
    await h.queue.admit({ id, memberId: `member-${id}`, workflow: 'txt2img', createdAt: 0 }, limits);
    h.dispatcher.know({ id, workflow: 'txt2img', settings: {} } as unknown as JobRecord);
  }
}

describe('Dispatcher', () => {
  it('hands jobs whose positions it showed off at once, telling the cards without waiting for them', async () => {
    const h = harness();
    h.free = false;
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    await admit(h, ...ids);
    await h.dispatcher.pump();
    expect(h.events.filter((event) => event.type === 'queued')).toHaveLength(ids.length);

    // Nothing here ever finishes its card edits (a Discord that does not answer): the pass is not held by them. (It
    // was, up to 5 s a job, one job after the other: this test ran out of its time.)
    h.free = true;
    await h.dispatcher.pump();
    expect(h.handedOff.map((entry) => entry.split(':')[0])).toEqual(ids);
    expect(h.events.filter((event) => event.type === 'leaving-queue').map((event) => event.jobId)).toEqual(ids);
  });

  it('hands a job off even when its record cannot be read once it was taken', async () => {
    const h = harness();
    h.free = false;
    await admit(h, 'a');
    await h.dispatcher.pump();
    h.free = true;
    h.storeError = new Error('the store is away');
    await h.dispatcher.pump();
    expect(h.handedOff.map((entry) => entry.split(':')[0])).toEqual(['a']);
    expect(h.queue.last.handOffs['a']?.server).toBe('emu');
  });

  it('adds a hand-off whose add failed again at the next pass, under the same key', async () => {
    const h = harness();
    await admit(h, 'a');
    h.redisError = new Error('Redis is away');
    await h.dispatcher.pump();
    expect(h.handedOff).toEqual([]);
    const held = h.queue.last.handOffs['a'];
    expect(held?.server).toBe('emu');

    h.redisError = undefined;
    await h.dispatcher.pump();
    expect(h.handedOff).toEqual([`a:${held!.key}`]);
    expect(h.queue.last.handOffs['a']).toEqual(held);
  });

  it('drops a failed add once the job’s hand-off is another (handed back and off again meanwhile)', async () => {
    const h = harness();
    await admit(h, 'a');
    h.redisError = new Error('Redis is away');
    await h.dispatcher.pump();
    const first = h.queue.last.handOffs['a']!;
    // Its server was lost: the job went back to the queue, and out again under a new key.
    await h.queue.pushFront([{ id: 'a', memberId: 'member-a', workflow: 'txt2img', createdAt: 0 }]);
    h.redisError = undefined;
    await h.dispatcher.pump();
    const second = h.queue.last.handOffs['a']!;
    expect(second.key).not.toBe(first.key);
    expect(h.handedOff).toEqual([`a:${second.key}`]);
  });
});
