/**
 * The delivery stage: ending a job exactly once and handing its terminal event to the listeners until they confirm
 * (result-delivery.ts). A job is finished only by the process that carries it (its hand-off: the BullMQ job's lock in
 * a fleet), or by the one that took it out of the queue while it waited; within that process `#finished` keeps a
 * second decision (a late cancel racing a success) from ending it again.
 */
import type { Logger } from '../logger.js';
import type { TerminalJobEvent } from './events.js';
import type { JobBook } from './job-book.js';
import type { JobQueue } from './job-queue.js';
import type { JobRecord } from './model.js';
import { rebuildTerminalEvent, type RecoveryContext } from './recovery.js';
import type { ResultDelivery } from './result-delivery.js';

/** What finishing needs from the other stages. */
export interface FinishContext {
  readonly book: JobBook;
  readonly queue: JobQueue;
  readonly delivery: ResultDelivery;
  readonly logger: Logger;
  /** Ends the job's live attempt in this process, if any (abandoned, its server slot released). */
  readonly endAttempt: (jobId: string) => void;
  /** The queue changed (a slot is free): the dispatcher looks again. */
  readonly changed: () => void;
  /** What rebuilding a finished job's event needs (kept files, the server to fetch them from again). */
  readonly recovery: () => Omit<RecoveryContext, 'signal'>;
  readonly signal: AbortSignal;
}

/** Ends jobs and delivers them. */
export class JobFinisher {
  /** Jobs whose terminal event was decided in this process and is being delivered. */
  readonly #finished = new Set<string>();

  constructor(private readonly context: FinishContext) {}

  /** True while the job's end is being delivered from this process. */
  has(jobId: string): boolean {
    return this.#finished.has(jobId);
  }

  /**
   * Ends a job: persists its terminal state, frees its slot, then delivers the event; resolves once the delivery is
   * over in this process, true when it was recorded (see `ResultDelivery.settled`). A second call does nothing.
   */
  async finish(jobId: string, change: Partial<JobRecord>, event: TerminalJobEvent): Promise<boolean> {
    if (this.#finished.has(jobId)) return false;
    this.#finished.add(jobId);
    const { book, queue, delivery, logger } = this.context;
    try {
      this.context.endAttempt(jobId);
      // Both at once, each awaited: a save that fails while the queue's change still waits (Redis away) is this
      // catch's, not an unhandled rejection.
      const saved = book.save(jobId, { ...change, finishedAt: Date.now() });
      await Promise.all([saved, queue.finished(jobId).then(() => this.context.changed())]);
      await delivery.deliver(jobId, event);
      return await delivery.settled(jobId);
    } catch (error) {
      // Not persisted as finished: the next start (or carrier) finds the job unfinished and settles it again.
      logger.error({ err: error, jobId }, 'saving a finished job failed');
      return false;
    } finally {
      this.#finished.delete(jobId);
    }
  }

  /**
   * Delivers again a job that ended but whose delivery was not confirmed (before a restart, or in a process that
   * died). A succeeded job stays succeeded in the store even when its files could not be had (the member is told so).
   */
  async redeliver(job: JobRecord): Promise<boolean> {
    if (this.#finished.has(job.id)) return false;
    this.#finished.add(job.id);
    try {
      await this.context.queue.finished(job.id);
      const event = await rebuildTerminalEvent(job, { ...this.context.recovery(), signal: this.context.signal });
      if (event === undefined) {
        this.context.book.forget(job.id);
        return false;
      }
      await this.context.delivery.deliver(job.id, event);
      return await this.context.delivery.settled(job.id);
    } finally {
      this.#finished.delete(job.id);
    }
  }
}
