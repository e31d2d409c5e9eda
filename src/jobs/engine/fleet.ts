/**
 * The fleet engine: any number of comfycord processes on one Redis (`STORE_URL=redis://…`) form one bot.
 *
 * What rests on BullMQ and Redis, not on our code:
 * - the hand-off of a job to the process that carries it is a BullMQ job (`jobId` = the hand-off's key: a second add
 *   of the same key is ignored, so a dispatcher that dies between its bookkeeping and the add, and adds again after a
 *   takeover, neither loses nor doubles it);
 * - one process carries it at a time, under BullMQ's lock, renewed while the process lives;
 * - a process killed while carrying jobs loses its locks; BullMQ's stalled-job check (in every worker) hands them to
 *   another process, which reconciles the prompt id recorded before submission instead of submitting again;
 * - the queue's shared state (fair order, member limits, server slots) changes in Redis transactions (redis-cell.ts);
 * - the one dispatcher is the holder of a lease in Redis with an expiry (the store's leases), taken over when its
 *   holder dies.
 *
 * Why a leased dispatcher rather than BullMQ priorities: members take turns (round-robin by member, with rounds that
 * move up when a job is cancelled) and a job may only go to a server with a free slot that can run its workflow.
 * BullMQ's open-source edition has neither group round-robin nor a per-job choice of consumer; priorities fixed at
 * add time cannot express "whose turn is it now". So the fair choice and the matching to a server stay the existing
 * FairQueue and server choice, run in one process at a time, over state kept in Redis, and BullMQ carries the rest.
 */
import { randomUUID } from 'node:crypto';
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/index.js';
import { thisProcess } from '../../store/runner-lease.js';
import type { EngineHandlers, QueueEngine } from './queue-engine.js';
import { handOffSchema, type HandOff } from './queue-state.js';
import { RedisPositionFence } from './position-fence.js';
import { RedisCell } from './redis-cell.js';

/** The BullMQ queue the hand-offs go through. */
export const HANDOFF_QUEUE = 'comfycord-handoffs';
/** The lease of the fleet's one dispatcher. */
export const DISPATCHER_LEASE = 'dispatcher';
const CHANNEL = 'comfycord:fleet:events';
const CANCEL_KEY = (jobId: string) => `comfycord:fleet:cancel:${jobId}`;

/** The pause before a failed hand-off is carried again: 1 s, doubling to at most 30 s. */
export function carryAgainAfter(tries: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, tries - 1), 30_000);
}

/** How a fleet process is set up. */
export interface FleetEngineOptions {
  /** The Redis URL (the store's). */
  readonly url: string;
  /** The store on that Redis (its leases hold the dispatcher's turn). */
  readonly store: Store;
  /** This process's name. */
  readonly processName: string;
  readonly logger: Logger;
  /** How long a carrying process's lock outlives its last renewal (BullMQ renews it at half). Default 15 s. */
  readonly lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose carrier died. Default 5 s. */
  readonly stalledIntervalMs?: number;
  /** How long the dispatcher's lease outlives its last renewal. Default 10 s. */
  readonly dispatcherLeaseMs?: number;
  /** Jobs one process carries at once (attempts and deliveries). Default 64. */
  readonly concurrency?: number;
  /** How long intake may take between writing a job and admitting it (then it is a stray). Default 60 s. */
  readonly intakeGraceMs?: number;
  /** How often the dispatcher looks for open jobs the queue does not know (and at every takeover). Default 30 s. */
  readonly strayCheckMs?: number;
}

interface HandOffData {
  readonly jobId: string;
  readonly handOff: HandOff;
}

/** The queue engine of a fleet of processes on Redis. */
export class FleetEngine implements QueueEngine {
  readonly kind = 'fleet';
  readonly processName: string;
  readonly cell: RedisCell;
  readonly positionFence: RedisPositionFence;
  readonly #options: FleetEngineOptions;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #queue: Queue<HandOffData>;
  readonly #holder = thisProcess();
  #worker: Worker<HandOffData> | undefined;
  #handlers: EngineHandlers | undefined;
  #leading = false;
  #leaseTimer: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #strayTimer: NodeJS.Timeout | undefined;
  #strayCheck: Promise<void> | undefined;
  #stopped = false;

  constructor(options: FleetEngineOptions) {
    this.#options = options;
    this.processName = options.processName;
    this.#logger = options.logger.child({ module: 'fleet', process: options.processName });
    // BullMQ needs `maxRetriesPerRequest: null` on its connections: a blocking wait must not be cut off.
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true });
    this.#subscriber = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true });
    for (const connection of [this.#redis, this.#subscriber]) {
      connection.on('error', (error: unknown) => this.#logger.debug({ err: error }, 'fleet Redis connection error'));
    }
    this.cell = new RedisCell(this.#redis, this.#logger);
    this.positionFence = new RedisPositionFence(this.#redis, options.processName);
    this.#queue = new Queue<HandOffData>(HANDOFF_QUEUE, { connection: this.#connection() });
  }

  /** A connection of BullMQ's own (a blocking wait must not be cut off: no retry limit per request). */
  #connection(): Redis {
    const connection = new Redis(this.#options.url, { maxRetriesPerRequest: null });
    connection.on('error', (error: unknown) => this.#logger.debug({ err: error }, 'fleet Redis connection error'));
    return connection;
  }

  get leading(): boolean {
    return this.#leading;
  }

  get intakeGraceMs(): number {
    return this.#options.intakeGraceMs ?? 60_000;
  }

  async clientId(): Promise<string> {
    // One per process start: ComfyUI sends a prompt's events to the socket of the client id that submitted it, and
    // forgets the id when that socket closes; two processes sharing one would steal each other's events.
    return `comfycord-${this.processName}-${randomUUID()}`.replace(/[^\w.-]/g, '-');
  }

  async recover(): Promise<{ jobId: string; handOff: HandOff }[]> {
    // Durable: the state is in Redis, and what a dead process carried comes back through BullMQ's stalled check.
    return [];
  }

  async start(handlers: EngineHandlers): Promise<void> {
    this.#handlers = handlers;
    // A card's position fence may have used the connection already (it connects on its first command).
    await Promise.all(
      [this.#redis, this.#subscriber].map(async (connection) =>
        connection.status === 'wait' ? connection.connect() : undefined,
      ),
    );
    await this.cell.read();
    await this.#subscriber.subscribe(CHANNEL);
    this.#subscriber.on('message', (_channel: string, message: string) => this.#onMessage(message));
    this.#worker = new Worker<HandOffData>(HANDOFF_QUEUE, (job, token) => this.#carry(job, token), {
      connection: this.#connection(),
      concurrency: this.#options.concurrency ?? 64,
      lockDuration: this.#options.lockDurationMs ?? 15_000,
      stalledInterval: this.#options.stalledIntervalMs ?? 5_000,
      // A job may stall as often as processes die under it: it is never failed for that.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      settings: { backoffStrategy: carryAgainAfter },
    });
    this.#worker.on('error', (error) => this.#logger.warn({ err: error }, 'fleet worker error'));
    this.#worker.on('failed', (job, error) =>
      this.#logger.error(
        { err: error, handOff: job?.id, tries: job?.attemptsMade },
        'a hand-off failed in its carrier; it is carried again after a pause',
      ),
    );
    const leaseMs = this.#options.dispatcherLeaseMs ?? 10_000;
    await this.#contendForDispatch(leaseMs);
    this.#leaseTimer = setInterval(() => void this.#contendForDispatch(leaseMs), Math.floor(leaseMs / 3)).unref();
    // Messages are not durable: the leader also looks again every second, so a lost one costs at most that.
    // Every process also reads the state then, so its snapshot (`/queue`, positions) is at most a second old.
    this.#tick = setInterval(() => {
      if (this.#leading) this.#handlers?.wake();
      else void this.cell.read().catch(() => undefined);
    }, 1_000).unref();
    this.#strayTimer = setInterval(() => {
      if (this.#leading) void this.#takeInStrays();
    }, this.#options.strayCheckMs ?? 30_000).unref();
  }

  async handOff(jobId: string, handOff: HandOff): Promise<void> {
    await this.#queue.add(
      'carry',
      { jobId, handOff },
      {
        jobId: handOff.key,
        // A carrier fails a hand-off when the store fails under it (Redis restarting: the store's commands fail at
        // once rather than wait). Failed for good, the job would wait for a new dispatcher's reconcile; so BullMQ
        // hands it out again after a pause, as often as it takes (see carryAgainAfter).
        attempts: Number.MAX_SAFE_INTEGER,
        backoff: { type: 'carry-again' },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }

  changed(): void {
    if (this.#redis.status !== 'ready') return;
    void this.#redis.publish(CHANNEL, 'changed').catch(() => undefined);
    if (this.#leading) this.#handlers?.wake();
  }

  async requestCancel(jobId: string): Promise<void> {
    // Kept for a day: a process that takes the job over later (its carrier died) still sees the member's wish.
    await this.#redis.set(CANCEL_KEY(jobId), '1', 'EX', 24 * 3600);
    await this.#redis.publish(CHANNEL, `cancel:${jobId}`);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    clearInterval(this.#tick);
    clearInterval(this.#strayTimer);
    // Takes no new hand-off; those carried here are released by the runner, then handed back (see #carry).
    await this.#worker?.pause(true);
    if (this.#leading) {
      this.#leading = false;
      await this.#options.store.leases.release(DISPATCHER_LEASE, this.#holder.id).catch(() => undefined);
    }
  }

  /** Closes the worker (once the jobs carried here were handed back) and the connections. */
  async close(): Promise<void> {
    await this.stop();
    await this.#worker?.close();
    await this.#queue.close();
    await Promise.allSettled([this.#subscriber.quit(), this.#redis.quit()]);
  }

  async #carry(job: Job<HandOffData>, token: string | undefined): Promise<void> {
    const handlers = this.#handlers;
    if (handlers === undefined) throw new Error('the fleet engine carries nothing before start()');
    const jobId = job.data.jobId;
    const handOff = handOffSchema.parse(job.data.handOff);
    await this.cell.change((state) => {
      const entry = state.handOffs[jobId];
      if (entry !== undefined) state.handOffs[jobId] = { ...entry, process: this.processName };
    });
    const { outcome } = await handlers.carry(jobId, handOff);
    if ((await this.#redis.exists(CANCEL_KEY(jobId))) === 1) handlers.cancel(jobId);
    if ((await outcome) === 'done') return;
    // This process stops (it carried the job until now, or was handed it while stopping and `JobAttempts.carry`, the
    // one place that refuses jobs then, released it at once): the job goes back to BullMQ's wait list at once (not
    // after its lock expires), and the next process follows its prompt by the recorded id.
    await job.moveToWait(token);
    throw new WaitingError();
  }

  #onMessage(message: string): void {
    if (message === 'changed') {
      if (this.#leading) this.#handlers?.wake();
      else void this.cell.read().catch(() => undefined);
      return;
    }
    if (message.startsWith('cancel:')) this.#handlers?.cancel(message.slice('cancel:'.length));
  }

  /** Takes or renews the dispatcher's lease; the new holder first re-adds hand-offs its predecessor may have lost. */
  async #contendForDispatch(leaseMs: number): Promise<void> {
    if (this.#stopped) return;
    try {
      const claim = await this.#options.store.leases.claim(DISPATCHER_LEASE, this.#holder, leaseMs);
      const was = this.#leading;
      this.#leading = claim.acquired;
      if (claim.acquired && !was) {
        this.#logger.info('this process dispatches for the fleet now');
        await this.#reconcile();
        void this.#takeInStrays();
        this.#handlers?.wake();
      } else if (!claim.acquired && was) {
        this.#logger.warn('another process dispatches for the fleet now');
      }
    } catch (error) {
      // Redis away: stop dispatching until the lease is ours again for sure.
      this.#leading = false;
      this.#logger.warn({ err: error }, 'could not renew the dispatcher lease');
    }
  }

  /** Takes in the open jobs the queue does not know (one pass at a time; see `takeInStrayJobs`). */
  #takeInStrays(): Promise<void> {
    this.#strayCheck ??= (async () => {
      try {
        await this.#handlers?.takeInStrays?.(this.intakeGraceMs);
      } catch (error) {
        this.#logger.warn({ err: error }, 'could not look for open jobs the queue does not know');
      } finally {
        this.#strayCheck = undefined;
      }
    })();
    return this.#strayCheck;
  }

  /**
   * A dispatcher that died between its bookkeeping (the hand-off recorded in the shared state) and the BullMQ add
   * left a hand-off no process will ever carry: added again under the same key (a duplicate is ignored by BullMQ).
   */
  async #reconcile(): Promise<void> {
    const state = await this.cell.read();
    for (const [jobId, handOff] of Object.entries(state.handOffs)) {
      const existing = await this.#queue.getJob(handOff.key);
      if (existing === undefined) await this.handOff(jobId, handOff);
      else if (await existing.isFailed()) await existing.retry();
    }
  }
}
