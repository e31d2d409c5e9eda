/**
 * Intake on a fleet's real redis-server: an admission whose answer is lost after Redis committed it, and the grace
 * that decides between an intake and the dispatcher's stray pass, judged on Redis's clock whatever a host's clock says.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { FleetEngine } from '../../src/jobs/engine/fleet.js';
import { RedisCell } from '../../src/jobs/engine/redis-cell.js';
import { JobRunner } from '../../src/jobs/index.js';
import { MemoryCell } from '../../src/jobs/engine/shared-cell.js';
import { emptyQueueState, type QueueState } from '../../src/jobs/engine/queue-state.js';
import { takeRequest } from '../../src/jobs/intake.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { createJobRecord, newJobId, type JobRecord } from '../../src/jobs/model.js';
import { takeInStrayJobs } from '../../src/jobs/recovery.js';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';
import { EventLog, quickRequest, shippedWorkflows } from './harness.js';
import { startRedisCut, type RedisCut } from './redis-cut.js';

const limits = { jobsPerMember: 5, queueLength: 100 };

describe.runIf(shouldRunRedisTests('intake suite (a fleet’s Redis)'))('intake on a fleet’s Redis', () => {
  let redis: RedisServer;
  let store: Store;
  const closing: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    store = await openStore(redis.url, silentLogger());
  });

  afterEach(async () => {
    vi.useRealTimers();
    for (const close of closing.splice(0).reverse()) await close().catch(() => undefined);
    const connection = new Redis(redis.url);
    await connection.flushall();
    await connection.quit();
  });

  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  describe('an admission whose answer was lost', () => {
    let emulator: Emulator;
    let cut: RedisCut;

    beforeAll(async () => {
      emulator = await startEmulator({ stepMs: 2 });
      cut = await startRedisCut(redis.port);
    });

    afterAll(async () => {
      await cut?.close();
      await emulator?.close();
    });

    it('keeps the job Redis admitted before the connection broke, and runs it once', async () => {
      // Every connection of the process goes through the proxy; the one carrying the admission loses its answer.
      const engine = new FleetEngine({ url: cut.url, store, processName: 'cut', logger: silentLogger() });
      const runner = new JobRunner({
        store,
        servers: [{ name: 'gpu1', url: emulator.url }],
        workflows: await shippedWorkflows(),
        engine,
        fault: (point) => {
          if (point === 'intake:after-record') cut.cutAfterNextQueueChange();
        },
      });
      closing.push(() => runner.stop());
      const log = new EventLog();
      runner.onEvent(log.listener());
      await runner.resume();
      await log.until(() => runner.snapshot().servers.every((server) => server.health === 'up'), 'the server up');

      const job = await runner.enqueue(quickRequest('member-1'));
      expect(cut.cuts).toBe(1);
      expect((await log.terminalOf(job.id)).type).toBe('succeeded');
      expect(log.terminals(job.id)).toHaveLength(1);
      expect(emulator.received.filter((prompt) => prompt.promptId === log.jobs.get(job.id)?.promptId)).toHaveLength(1);
    });
  });

  describe('an admission that failed with its outcome unknown', () => {
    /** A queue whose next change fails with a lost connection, after or before it took effect. */
    class LossyCell extends MemoryCell<QueueState> {
      failNext: 'after the change' | 'before the change' | undefined;

      override async change<Result>(change: (state: QueueState, now: number) => Result): Promise<Result> {
        const failing = this.failNext;
        this.failNext = undefined;
        if (failing === 'before the change') throw new Error('Connection is closed.');
        const result = await super.change(change);
        if (failing === 'after the change') throw new Error('Connection is closed.');
        return result;
      }
    }

    /** Intake over that queue; its admission (the change right after the record is written) fails as `failing` says. */
    async function intake(failing: LossyCell['failNext']) {
      const cell = new LossyCell(emptyQueueState());
      const queue = new JobQueue(cell);
      const repository = new JobRepository(store);
      const context = {
        queue,
        repository,
        workflows: await shippedWorkflows(),
        defaultWorkflow: undefined,
        limits,
        assertOpen: () => undefined,
        assertSomeServerCanRun: () => undefined,
        intakeGraceMs: 60_000,
        fault: (point: string) => {
          if (point === 'intake:after-record') cell.failNext = failing;
        },
        queued: async () => undefined,
      };
      return { queue, repository, take: () => takeRequest(context, quickRequest('member-1')) };
    }

    it('keeps and queues a job whose admission took effect before the error', async () => {
      const { queue, repository, take } = await intake('after the change');
      const job = await take();
      expect(queue.ordered().map((waiting) => waiting.id)).toEqual([job.id]);
      expect((await repository.get(job.id))?.state).toBe('waiting');
    });

    it('leaves no entry for a job whose record could not be written', async () => {
      const { queue, repository, take } = await intake(undefined);
      repository.create = async () => {
        throw new Error('the store is away');
      };
      await expect(take()).rejects.toMatchObject({ identifier: 'store-unavailable' });
      expect(queue.last.intake).toEqual({});
    });

    it('discards a job whose admission did not take effect, and says so', async () => {
      const { queue, repository, take } = await intake('before the change');
      await expect(take()).rejects.toThrow('Connection is closed.');
      expect(queue.ordered()).toEqual([]);
      expect(queue.last.intake).toEqual({});
      expect(await repository.openIds()).toEqual([]);
    });
  });

  describe('a queue change whose answer was lost', () => {
    let cut: RedisCut;

    beforeAll(async () => {
      cut = await startRedisCut(redis.port);
    });

    afterAll(async () => {
      await cut?.close();
    });

    it('is neither lost nor done again over another process’s change made while its process was away', async () => {
      // Process A's connection as the fleet engine opens it (commands wait for Redis to be back), through the proxy.
      const connectionOfA = new Redis(cut.url, { maxRetriesPerRequest: null });
      const connectionOfB = new Redis(redis.url);
      closing.push(
        async () => connectionOfA.quit(),
        async () => connectionOfB.quit(),
      );
      const queueOfA = new JobQueue(new RedisCell(connectionOfA, silentLogger()));
      const queueOfB = new JobQueue(new RedisCell(connectionOfB, silentLogger()));
      await queueOfA.refresh();

      // A's admission is committed by Redis; its answer is lost with the connection, and A cannot reconnect at once.
      cut.cutAfterNextQueueChange();
      cut.holdConnections();
      const admissionOfA = queueOfA.admit(
        { id: 'job-a', memberId: 'member-a', workflow: 'txt2img', createdAt: 0 },
        limits,
      );
      while (cut.cuts === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // Meanwhile process B admits a job of its own.
      await queueOfB.admit({ id: 'job-b', memberId: 'member-b', workflow: 'txt2img', createdAt: 0 }, limits);
      cut.letConnectionsIn();

      expect(await admissionOfA).toBe('admitted');
      const state = await queueOfB.refresh();
      expect(queueOfB.ordered(state).map((job) => job.id)).toEqual(['job-a', 'job-b']);
      expect(Object.keys(state.admitted).sort()).toEqual(['job-a', 'job-b']);
    });
  });

  describe('the grace between an intake and the stray pass', () => {
    /** One process's view: its queue on its own connection, and the store. */
    function processView() {
      const connection = new Redis(redis.url);
      closing.push(() => connection.quit());
      return { queue: new JobQueue(new RedisCell(connection, silentLogger())), repository: new JobRepository(store) };
    }

    /** Writes a waiting job as intake does (entered, then written), without admitting it yet. */
    async function writeWaiting(view: ReturnType<typeof processView>, graceMs: number): Promise<JobRecord> {
      const id = newJobId();
      const sequence = await view.queue.nextSequence({ jobId: id, graceMs });
      const bound = { workflow: 'txt2img', settings: { prompt: 'a heron' }, graph: {}, applied: {} };
      const job = { ...createJobRecord(quickRequest('member-1'), bound, sequence), id };
      await view.repository.create(job);
      return job;
    }

    /** The dispatcher's stray pass, run in a process whose clock is `skewMs` off. */
    async function strayPass(view: ReturnType<typeof processView>, graceMs: number, skewMs: number) {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + skewMs);
      try {
        return await takeInStrayJobs({
          ...view,
          engine: { handOff: async () => undefined, changed: () => undefined },
          salvage: async () => undefined,
          orphaned: () => undefined,
          graceMs,
          logger: silentLogger(),
        });
      } finally {
        vi.useRealTimers();
      }
    }

    const queued = (job: JobRecord) => ({ id: job.id, memberId: job.memberId, workflow: job.workflow, createdAt: 0 });

    it('leaves a job being taken in to its intake however far ahead the dispatcher’s clock is', async () => {
      const intake = processView();
      const dispatcher = processView();
      const job = await writeWaiting(intake, 60_000);
      // The dispatcher's host runs ten minutes ahead: by its clock the record looks long abandoned.
      expect(await strayPass(dispatcher, 60_000, 10 * 60_000)).toBe(0);
      expect(await intake.queue.admit(queued(job), limits, 60_000)).toBe('admitted');
      expect(intake.queue.ordered().map((waiting) => waiting.id)).toEqual([job.id]);
    });

    it('takes in a job whose intake outlived its grace on Redis’s clock however far behind the dispatcher’s is', async () => {
      const intake = processView();
      const dispatcher = processView();
      const job = await writeWaiting(intake, 300);
      // The dispatcher's host runs ten minutes behind: by its clock the record is from the future.
      let taken = 0;
      while (taken === 0) taken = await strayPass(dispatcher, 300, -10 * 60_000);
      // The job runs and finishes, then its intake comes back: it is not queued a second time.
      await dispatcher.queue.take(job.id, 'gpu1');
      await dispatcher.queue.finished(job.id);
      await dispatcher.queue.settled(job.id);
      expect(await intake.queue.admit(queued(job), limits, 300)).toBe('late');
      expect(intake.queue.knows(job.id)).toBe(false);
    });
  });
});
