/**
 * The dispatch stage: the fair choice of the next job for a free server slot, only to a server that can run its
 * workflow. It runs in the one process that leads (always, embedded; the dispatcher lease's holder, in a fleet),
 * over the shared queue: the order, the slots and the hand-off are the same for one process and for a fleet. It also
 * announces queue positions (`queued` events) and, after a long outage, fails the waiting jobs.
 *
 * The positions it announces are edits of cards that, once a job is handed off, another process of a fleet edits: the
 * carrier shows the progress and posts the finished card. Before a job it announced leaves the queue, the dispatcher
 * tells its listeners (`leaving-queue`: they drop the position still pending) without waiting for them: the hand-off
 * goes out at once. That a position never lands after a later state is the card layer's own rule (card-updater.ts and
 * engine/position-fence.ts), which also holds for positions this process cannot know to drop (it lost its lease while
 * alive, or the job was cancelled through another process).
 */
import type { Logger } from '../logger.js';
import type { QueueEngine } from './engine/queue-engine.js';
import type { HandOff, WaitingEnd } from './engine/queue-state.js';
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
  readonly running: () => boolean;
  readonly logger: Logger;
}

type Requirements = Pick<JobRecord, 'workflow' | 'settings'>;

/** Hands waiting jobs, in fair order, to free servers that can run them. */
export class Dispatcher {
  /**
   * What each waiting job needs of a server (its workflow and the models it names), read once: a record's settings
   * never change while it waits. Only a cache; the jobs themselves are in the shared queue.
   */
  readonly #requirements = new Map<string, Requirements>();
  /**
   * The last position announced for each waiting job, with the record it was announced for (what `leaving-queue`
   * needs: no store read stands between taking a job and handing it off). Only saves repeating an edit: a new
   * dispatcher (another process took over) announces every position once more, which shows the member the same number.
   */
  readonly #announced = new Map<string, { position: number; job: JobRecord }>();
  /**
   * Hand-offs taken in the shared queue whose add failed (Redis away): added again at the next pass (the same key
   * is carried once), so the slot they hold is never stranded while this process dispatches.
   */
  readonly #unsent = new Map<string, HandOff>();
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
    const { queue } = this.context;
    let count = 0;
    for (const job of queue.ordered(await queue.refresh())) {
      const handOff = await queue.endWaiting(job.id, ended);
      if (handOff === undefined) continue;
      count += 1;
      this.leaving(job.id);
      await this.#send(job.id, handOff);
    }
    return count;
  }

  /**
   * A job whose positions this process announced has left the queue and is about to be handed off: its listeners drop
   * the position still pending (see the header). Does not wait for them; nothing for a job never announced here.
   */
  leaving(jobId: string): void {
    const announced = this.#announced.get(jobId);
    if (announced === undefined) return;
    this.#announced.delete(jobId);
    this.context.emit(announced.job, { type: 'leaving-queue' });
  }

  async #dispatch(): Promise<void> {
    const { queue, pool, engine, running, logger } = this.context;
    if (!running() || !engine.leading) return;
    try {
      const state = await queue.refresh();
      for (const [jobId, handOff] of this.#unsent) {
        // Only while it is still the job's hand-off (the job may have been handed back and off again since).
        if (state.handOffs[jobId]?.key === handOff.key) await this.#send(jobId, handOff);
        else this.#unsent.delete(jobId);
      }
      if (pool.hasFreeSlot()) {
        for (const waiting of queue.ordered(state)) {
          const needs = await this.#requirementsOf(waiting.id);
          if (needs === undefined) continue;
          const server = pool.choose((name) => canRunOnServer(pool.capabilities(name), this.context.workflows, needs));
          if (server === undefined) continue;
          const handOff = await queue.take(waiting.id, server);
          if (handOff === undefined) continue;
          this.#requirements.delete(waiting.id);
          this.leaving(waiting.id);
          await this.#send(waiting.id, handOff);
        }
      }
      await this.#announcePositions();
    } catch (error) {
      // The shared state is away (Redis reconnecting): the next change or tick tries again.
      logger.warn({ err: error }, 'dispatching failed; trying again at the next change');
    }
  }

  /**
   * Hands off a job taken in the shared queue. In a fleet a failed add is kept and tried again at the next pass (the
   * hand-off's key makes a second add of one that did go through a no-op), so its slot is never stranded. (Embedded,
   * the hand-off is this process carrying the job: not tried twice.)
   */
  async #send(jobId: string, handOff: HandOff): Promise<void> {
    if (this.context.engine.kind === 'fleet') this.#unsent.set(jobId, handOff);
    await this.context.engine.handOff(jobId, handOff);
    this.#unsent.delete(jobId);
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
   * (cancelled through another process, which handed it off) gets `leaving-queue` too: its pending position is dropped.
   */
  async #announcePositions(): Promise<void> {
    const positions = this.context.queue.positions();
    for (const id of this.#announced.keys()) if (!positions.has(id)) this.leaving(id);
    for (const id of this.#requirements.keys()) if (!positions.has(id)) this.#requirements.delete(id);
    for (const [id, position] of positions) {
      const announced = this.#announced.get(id);
      if (announced?.position === position) continue;
      // Read again: its card's place may have changed since (a refine's status message is posted after intake).
      const job = (await this.context.recordOf(id)) ?? announced?.job;
      if (job === undefined) continue;
      this.#announced.set(id, { position, job });
      this.context.emit(job, { type: 'queued', position });
    }
  }
}
