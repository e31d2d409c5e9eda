/**
 * The fleet's queue state split into a core and one lane per member, on a real redis-server: the same fair order as
 * FairQueue and the embedded queue through any mix of changes; a change rewrites the core and its own lanes only;
 * processes changing different lanes at once lose nothing; a process's copy of the lanes never outlives a state Redis
 * lost; and a state written whole by the previous release is read, migrated, and its waiting jobs run.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { FleetEngine } from '../../src/jobs/engine/fleet.js';
import { QUEUE_STATE_KEY, queueStateKeys, RedisCell } from '../../src/jobs/engine/redis-cell.js';
import { emptyQueueState, type QueuedJob, type QueueState } from '../../src/jobs/engine/queue-state.js';
import { MemoryCell } from '../../src/jobs/engine/shared-cell.js';
import { FairQueue } from '../../src/jobs/fair-queue.js';
import { JobRunner } from '../../src/jobs/index.js';
import { bindRequest } from '../../src/jobs/job-binding.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { createJobRecord } from '../../src/jobs/model.js';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';
import { EventLog, quickRequest, shippedWorkflows } from './harness.js';

const unlimited = { jobsPerMember: 1_000, queueLength: 10_000 };

const queued = (id: string, memberId: string): QueuedJob => ({ id, memberId, workflow: 'txt2img', createdAt: 0 });

/** A small deterministic generator (the same sequence of changes on every run). */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe.runIf(shouldRunRedisTests('queue split suite (a fleet’s Redis)'))('the queue state split into lanes', () => {
  let redis: RedisServer;
  const closing: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close().catch(() => undefined);
    const connection = new Redis(redis.url);
    await connection.flushall();
    await connection.quit();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  function connection(): Redis {
    const opened = new Redis(redis.url);
    closing.push(() => opened.quit());
    return opened;
  }

  it('keeps FairQueue’s order through admissions, takes, cancels and hand-backs, as the embedded queue does', async () => {
    const inRedis = new JobQueue(new RedisCell(connection(), silentLogger()));
    const inMemory = new JobQueue(new MemoryCell<QueueState>(emptyQueueState()));
    const reference = new FairQueue<QueuedJob>();
    const random = numbers(7);
    const taken: QueuedJob[] = [];
    let next = 0;
    for (let step = 0; step < 300; step++) {
      const roll = random();
      const waiting = reference.ordered();
      if (roll < 0.45 || waiting.length === 0) {
        const job = queued(`job-${next++}`, `member-${Math.floor(random() * 6)}`);
        reference.push(job);
        for (const queue of [inRedis, inMemory]) expect(await queue.admit(job, unlimited)).toBe('admitted');
      } else if (roll < 0.7) {
        // The dispatcher takes the first job some server can run: often the first, sometimes a later one.
        const job = waiting[random() < 0.7 ? 0 : Math.floor(random() * waiting.length)]!;
        reference.take(job.id);
        taken.push(job);
        for (const queue of [inRedis, inMemory]) expect((await queue.take(job.id, 'gpu1'))?.server).toBe('gpu1');
      } else if (roll < 0.85) {
        const job = waiting[Math.floor(random() * waiting.length)]!;
        reference.remove(job.id);
        for (const queue of [inRedis, inMemory]) {
          expect(await queue.endWaiting(job.id, { state: 'cancelled' })).toBeDefined();
        }
      } else if (roll < 0.93 && taken.length > 0) {
        const job = taken.splice(Math.floor(random() * taken.length), 1)[0]!;
        reference.pushFront(job);
        for (const queue of [inRedis, inMemory]) await queue.pushFront([job]);
      } else if (taken.length > 0) {
        const job = taken.shift()!;
        for (const queue of [inRedis, inMemory]) {
          await queue.finished(job.id);
          await queue.settled(job.id);
        }
      }
      const order = reference.ordered().map((job) => job.id);
      expect(inMemory.ordered().map((job) => job.id)).toEqual(order);
      // Another process's full read, from nothing, and this process's own view after its change.
      const other = new JobQueue(new RedisCell(connection(), silentLogger()));
      expect(other.ordered(await other.refresh()).map((job) => job.id)).toEqual(order);
      expect(inRedis.ordered().map((job) => job.id)).toEqual(order);
      expect(Object.keys((await other.refresh()).admitted).sort()).toEqual(Object.keys(inMemory.last.admitted).sort());
    }
  });

  it('rewrites the core and the admitted member’s lane only', async () => {
    const redisConnection = connection();
    const queue = new JobQueue(new RedisCell(redisConnection, silentLogger()));
    for (let index = 0; index < 20; index++)
      await queue.admit(queued(`job-${index}`, `member-${index % 4}`), unlimited);
    const keys = queueStateKeys();
    const before = await redisConnection.hgetall(keys.revisions);
    await queue.admit(queued('job-new', 'member-2'), unlimited);
    const after = await redisConnection.hgetall(keys.revisions);
    expect(Object.keys(after).sort()).toEqual(['member-0', 'member-1', 'member-2', 'member-3']);
    for (const member of ['member-0', 'member-1', 'member-3']) expect(after[member]).toBe(before[member]);
    expect(after['member-2']).not.toBe(before['member-2']);
    // The core holds no lane: it stays the same size however many jobs wait.
    const core = await redisConnection.get(QUEUE_STATE_KEY);
    expect(core).not.toContain('job-');
  });

  it('loses no change when processes change different lanes at once', async () => {
    const processes = [0, 1, 2].map(() => new JobQueue(new RedisCell(connection(), silentLogger())));
    await Promise.all(
      processes.map(async (queue, process) => {
        for (let index = 0; index < 30; index++) {
          await queue.admit(queued(`p${process}-job-${index}`, `member-${process}-${index % 3}`), unlimited);
          if (index % 5 === 4) {
            const first = queue.ordered(await queue.refresh())[0];
            if (first !== undefined) await queue.take(first.id, 'gpu1');
          }
        }
      }),
    );
    const reader = new JobQueue(new RedisCell(connection(), silentLogger()));
    const state = await reader.refresh();
    const handedOff = Object.keys(state.handOffs);
    const waiting = reader.ordered(state).map((job) => job.id);
    expect(new Set([...waiting, ...handedOff]).size).toBe(90);
    expect(waiting.length + handedOff.length).toBe(90);
    expect(Object.keys(state.admitted)).toHaveLength(90);
    expect(state.waitingCount).toBe(waiting.length);
  });

  it('reads a state Redis lost and was written anew as it is now, not as a copy kept from before', async () => {
    const admin = connection();
    const reader = new JobQueue(new RedisCell(connection(), silentLogger()));
    const writer = () => new JobQueue(new RedisCell(connection(), silentLogger()));
    const before = writer();
    for (let index = 0; index < 3; index++) await before.admit(queued(`old-${index}`, 'member-0'), unlimited);
    expect(reader.ordered(await reader.refresh()).map((job) => job.id)).toEqual(['old-0', 'old-1', 'old-2']);
    // Redis restarted empty; the fleet goes on, and the same lane is written as often (its revision count is the same).
    await admin.flushall();
    const after = writer();
    for (let index = 0; index < 3; index++) await after.admit(queued(`new-${index}`, 'member-0'), unlimited);
    expect(reader.ordered(await reader.refresh()).map((job) => job.id)).toEqual(['new-0', 'new-1', 'new-2']);
  });

  describe('a state written whole by the previous release', () => {
    let store: Store;

    beforeAll(async () => {
      store = await openStore(redis.url, silentLogger());
    });

    afterAll(async () => {
      await store?.close();
    });

    it('is read as it was, migrated by the next change, and its waiting jobs run once in their fair order', async () => {
      const repository = new JobRepository(store);
      const workflows = await shippedWorkflows();
      const legacy = new FairQueue<QueuedJob>();
      const admitted: Record<string, { memberId: string; at: number }> = {};
      const members = ['ada', 'ada', 'ada', 'bo', 'cy', 'bo'];
      for (const [sequence, memberId] of members.entries()) {
        const request = quickRequest(memberId);
        const { workflow, settings, graph, applied } = bindRequest(workflows, undefined, request);
        const job = createJobRecord(
          request,
          { workflow: workflow.name, settings, graph, applied: { ...applied } },
          sequence,
        );
        await repository.create(job);
        legacy.push({ id: job.id, memberId, workflow: job.workflow, createdAt: job.createdAt });
        admitted[job.id] = { memberId, at: job.createdAt };
      }
      const order = legacy.ordered().map((job) => job.id);
      // What the previous release kept: the whole state, one JSON value.
      const whole = { waiting: legacy.toState(), intake: {}, admitted, handOffs: {}, nextSequence: 6, nextHandOff: 1 };
      const admin = connection();
      await admin.set(QUEUE_STATE_KEY, JSON.stringify(whole));

      const reader = new JobQueue(new RedisCell(connection(), silentLogger()));
      expect(reader.ordered(await reader.refresh()).map((job) => job.id)).toEqual(order);
      expect(reader.last.admitted).toEqual(admitted);

      const emulator = await startEmulator({ stepMs: 2 });
      closing.push(() => emulator.close());
      const engine = new FleetEngine({ url: redis.url, store, processName: 'upgraded', logger: silentLogger() });
      const runner = new JobRunner({ store, servers: [{ name: 'gpu1', url: emulator.url }], workflows, engine });
      closing.push(() => runner.stop());
      const log = new EventLog();
      runner.onEvent(log.listener());
      await runner.resume();
      for (const id of order) expect((await log.terminalOf(id)).type).toBe('succeeded');
      expect(log.submissionOrder()).toEqual(order);
      for (const id of order) expect(log.terminals(id)).toHaveLength(1);
      const core = JSON.parse((await admin.get(QUEUE_STATE_KEY))!) as { format?: number; waiting?: unknown };
      expect(core.format).toBe(2);
      expect(core.waiting).toBeUndefined();
    });
  });
});
