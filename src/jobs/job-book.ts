/**
 * The runner's in-memory view of the jobs it handles (waiting, on a server, or being delivered), written through to
 * the repository. Memory is updated at once, so the scheduler always reads the latest state; writes of one job are
 * chained, so the store never ends up with an older state written after a newer one.
 */
import type { Logger } from '../logger.js';
import type { JobRepository } from './job-repository.js';
import type { JobRecord } from './model.js';

/** Jobs in memory, persisted in order. */
export class JobBook {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #writes = new Map<string, Promise<void>>();

  constructor(
    private readonly repository: JobRepository,
    private readonly logger: Logger,
  ) {}

  /** The job's latest state, if the runner handles it. */
  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id);
  }

  /** The job's latest state; throws when the runner does not handle it (a bug). */
  require(id: string): JobRecord {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new Error(`job ${id} is not in the book`);
    return job;
  }

  /** Every job the runner handles. */
  values(): IterableIterator<JobRecord> {
    return this.#jobs.values();
  }

  /** Writes a new job, then holds it. */
  async create(job: JobRecord): Promise<void> {
    await this.repository.create(job);
    this.#jobs.set(job.id, job);
  }

  /** Holds a job read back from the store. */
  adopt(job: JobRecord): void {
    this.#jobs.set(job.id, job);
  }

  /** Changes a job; resolves with the new state once it is persisted, rejects when the write failed. */
  save(id: string, change: Partial<JobRecord>): Promise<JobRecord> {
    const job: JobRecord = { ...this.require(id), ...change, updatedAt: Date.now() };
    this.#jobs.set(id, job);
    const previous = this.#writes.get(id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.#write(job, change));
    this.#writes.set(id, write);
    void write
      .catch(() => undefined)
      .finally(() => {
        if (this.#writes.get(id) === write) this.#writes.delete(id);
      });
    return write.then(() => job);
  }

  /**
   * Writes the job. Its delivery info is the one field another process may change meanwhile (in a fleet, the face
   * that received the interaction records the status message while another process carries the job): unless this
   * change sets it, the stored one is kept, and this process's copy learns it.
   */
  async #write(job: JobRecord, change: Partial<JobRecord>): Promise<void> {
    if ('delivery' in change) return this.repository.save(job);
    const stored = await this.repository.get(job.id);
    const delivery = stored?.delivery;
    if (delivery === undefined || JSON.stringify(delivery) === JSON.stringify(job.delivery)) {
      return this.repository.save(job);
    }
    const held = this.#jobs.get(job.id);
    if (held !== undefined) this.#jobs.set(job.id, { ...held, delivery });
    await this.repository.save({ ...job, delivery });
  }

  /** Changes a job without waiting for the write; a failed write is logged. */
  update(id: string, change: Partial<JobRecord>): JobRecord {
    const saving = this.save(id, change);
    saving.catch((error: unknown) => this.logger.error({ err: error, jobId: id }, 'saving a job failed'));
    return this.require(id);
  }

  /** Stops holding a job (it was delivered). */
  forget(id: string): void {
    this.#jobs.delete(id);
  }

  /** Resolves once every write started so far has settled. */
  async idle(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes.values()]);
  }
}
