/**
 * The runner's subscribers. Non-terminal events are sent and forgotten; terminal events are awaited, and the answer
 * says whether every listener confirmed (see the delivery contract in events.ts).
 */
import type { Logger } from '../logger.js';
import type { JobEvent, JobListener, TerminalJobEvent } from './events.js';
import type { JobRecord } from './model.js';

/** A set of job listeners with the two ways of calling them. */
export class JobListeners {
  readonly #listeners = new Set<JobListener>();

  constructor(private readonly logger: Logger) {}

  /** Subscribes; the returned function unsubscribes. */
  add(listener: JobListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends a progress-like event without waiting; a listener's failure is logged and does not affect the job. */
  emit(job: JobRecord, event: JobEvent): void {
    void this.#callAll(job, event).then((failures) => {
      for (const error of failures) {
        this.logger.warn({ err: error, jobId: job.id, event: event.type }, 'job listener failed');
      }
    });
  }

  /** Sends a terminal event and waits for every listener; true when all of them confirmed. */
  async deliver(job: JobRecord, event: TerminalJobEvent): Promise<boolean> {
    const failures = await this.#callAll(job, event);
    for (const error of failures) {
      this.logger.error({ err: error, jobId: job.id, event: event.type }, 'job listener failed to deliver a result');
    }
    return failures.length === 0;
  }

  /** Calls every listener at once and waits for them all; resolves with the errors of those that failed. */
  async #callAll(job: JobRecord, event: JobEvent): Promise<unknown[]> {
    const errors = await Promise.all([...this.#listeners].map((listener) => this.#call(listener, job, event)));
    return errors.filter((error) => error !== undefined);
  }

  /** Calls one listener; resolves with its error, if any (synchronous throws included). */
  async #call(listener: JobListener, job: JobRecord, event: JobEvent): Promise<unknown> {
    try {
      await listener(job, event);
      return undefined;
    } catch (error) {
      return error ?? new Error('listener rejected without a reason');
    }
  }
}
