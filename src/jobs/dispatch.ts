/**
 * The dispatch stage: the fair choice of the next job for a free server slot, only to a server that can run its
 * workflow. It runs in the one process that leads (always, embedded; the dispatcher lease's holder, in a fleet),
 * over the shared queue: the order, the slots and the hand-off are the same for one process and for a fleet. It also
 * announces queue positions (`queued` events) and, after a long outage, fails the waiting jobs.
 *
 * The positions it announces are edits of cards that, once a job is handed off, another process of a fleet edits: the
 * carrier shows the progress and posts the finished card. So before a job it announced leaves the queue, the
 * dispatcher tells its listeners (`leaving-queue`) and waits for them to finish their edits of that card; a position
 * edit still pending or in flight here would otherwise land after the carrier's, and a late "Queued" would replace
 * the finished card (its files included).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { QueueEngine } from './engine/queue-engine.js';
import type { WaitingEnd } from './engine/queue-state.js';
import type { JobEvent } from './events.js';
import type { JobQueue } from './job-queue.js';
import type { JobRecord } from './model.js';
import { canRunOnServer, type WorkflowSource } from './server-capabilities.js';
import type { ServerPool } from './server-pool.js';

/** What dispatching works with. */
export interface DispatchContext {
  readonly queue: JobQueue;
  readonly pool: ServerPool;
  readonly engine: QueueEngine;
  readonly workflows: WorkflowSource;
  /** The job's current record (this process's copy, else the store's). */
  readonly recordOf: (jobId: string) => Promise<JobRecord | undefined>;
  /** Sends a non-terminal event to this process's listeners. */
  readonly emit: (job: JobRecord, event: JobEvent) => void;
  /** Sends a non-terminal event to this process's listeners and waits until they are done with it. */
  readonly emitAndWait: (job: JobRecord, event: JobEvent) => Promise<void>;
  readonly running: () => boolean;
  readonly logger: Logger;
}

type Requirements = Pick<JobRecord, 'workflow' | 'settings'>;

/**
 * How long a hand-off waits for the listeners to finish a card's position edits. An edit in flight takes one round
 * trip to Discord; a Discord so slow that it takes longer must not hold the whole fleet's dispatch.
 */
const LEAVING_WAIT_MS = 5_000;

/** Hands waiting jobs, in fair order, to free servers that can run them. */
export class Dispatcher {
  /**
   * What each waiting job needs of a server (its workflow and the models it names), read once: a record's settings
   * never change while it waits. Only a cache; the jobs themselves are in the shared queue.
   */
  readonly #requirements = new Map<string, Requirements>();
  /**
   * The last position announced for each waiting job: only saves repeating an edit. A new dispatcher (another
   * process took over) announces every position once more, which shows the member the same number.
   */
  readonly #announced = new Map<string, number>();
  #pass: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(private readonly context: DispatchContext) {}

  /** Notes what a job needs, as intake wrote it (saves reading it back). */
  know(job: JobRecord): void {
    this.#requirements.set(job.id, { workflow: job.workflow, settings: job.settings });
  }

  /** Runs a dispatch pass; resolves after a pass that began after this call (so it sees every change made before). */
  pump(): Promise<void> {
    if (this.#pass === undefined) {
      this.#pass = this.#dispatch().finally(() => (this.#pass = undefined));
      return this.#pass;
    }
    this.#next ??= this.#pass.then(() => {
      this.#next = undefined;
      return this.pump();
    });
    return this.#next;
  }

  /** Ends every waiting job the same way (a long outage fails them); they are handed off to be delivered. */
  async endAllWaiting(ended: WaitingEnd): Promise<number> {
    const { queue, engine } = this.context;
    let count = 0;
    for (const job of queue.ordered(await queue.refresh())) {
      const handOff = await queue.endWaiting(job.id, ended);
      if (handOff === undefined) continue;
      count += 1;
      await this.leaving(job.id);
      await engine.handOff(job.id, handOff);
    }
    return count;
  }

  /**
   * A job whose positions this process announced has left the queue and is about to be handed off: the listeners
   * finish their edits of its card first (see the header). Resolves at once for a job never announced here.
   */
  async leaving(jobId: string): Promise<void> {
    if (!this.#announced.delete(jobId)) return;
    const job = await this.context.recordOf(jobId);
    if (job === undefined) return;
    const waiting = new AbortController();
    await Promise.race([
      this.context.emitAndWait(job, { type: 'leaving-queue' }),
      sleep(LEAVING_WAIT_MS, undefined, { signal: waiting.signal, ref: false }).catch(() => undefined),
    ]).finally(() => waiting.abort());
  }

  async #dispatch(): Promise<void> {
    const { queue, pool, engine, running, logger } = this.context;
    if (!running() || !engine.leading) return;
    try {
      const state = await queue.refresh();
      if (pool.hasFreeSlot()) {
        for (const waiting of queue.ordered(state)) {
          const needs = await this.#requirementsOf(waiting.id);
          if (needs === undefined) continue;
          const server = pool.choose((name) => canRunOnServer(pool.capabilities(name), this.context.workflows, needs));
          if (server === undefined) continue;
          const handOff = await queue.take(waiting.id, server);
          if (handOff === undefined) continue;
          this.#requirements.delete(waiting.id);
          await this.leaving(waiting.id);
          await engine.handOff(waiting.id, handOff);
        }
      }
      await this.#announcePositions();
    } catch (error) {
      // The shared state is away (Redis reconnecting): the next change or tick tries again.
      logger.warn({ err: error }, 'dispatching failed; trying again at the next change');
    }
  }

  async #requirementsOf(jobId: string): Promise<Requirements | undefined> {
    const known = this.#requirements.get(jobId);
    if (known !== undefined) return known;
    const job = await this.context.recordOf(jobId);
    if (job === undefined) return undefined;
    this.know(job);
    return this.#requirements.get(jobId);
  }

  /**
   * Sends `queued` to every waiting job whose position changed. A job announced here that left the queue another way
   * (cancelled through another process, which handed it off) gets `leaving-queue` too, without waiting: its pending
   * position edit is dropped.
   */
  async #announcePositions(): Promise<void> {
    const positions = this.context.queue.positions();
    for (const id of this.#announced.keys()) {
      if (positions.has(id)) continue;
      this.#announced.delete(id);
      const job = await this.context.recordOf(id);
      if (job !== undefined) this.context.emit(job, { type: 'leaving-queue' });
    }
    for (const id of this.#requirements.keys()) if (!positions.has(id)) this.#requirements.delete(id);
    for (const [id, position] of positions) {
      if (this.#announced.get(id) === position) continue;
      this.#announced.set(id, position);
      const job = await this.context.recordOf(id);
      if (job !== undefined) this.context.emit(job, { type: 'queued', position });
    }
  }
}
