/**
 * Where jobs are persisted: one record per job in the `jobs` collection, and the ids of every job not yet delivered
 * in the `open-jobs` index, which is what `resume()` reads after a restart. Delivered jobs are kept for a while
 * (buttons on old cards look them up) and then expire.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Collection, Index, Store } from '../store/store.js';
import { jobRecordSchema, sameOrphan, type JobRecord, type OrphanedPrompt } from './model.js';

const OPEN_KEY = 'all';

const runnerStateSchema = z.object({ clientId: z.string().min(1) });

/** How long a delivered job stays readable (Reroll, Vary and Upscale buttons read its settings). */
export const DELIVERED_JOB_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Jobs in the store. */
export class JobRepository {
  readonly #records: Collection<JobRecord>;
  readonly #open: Index;
  /** Jobs with prompts still to cancel on a server, delivered or not (a delivered job leaves `#open`). */
  readonly #orphans: Index;
  readonly #state: Collection<z.infer<typeof runnerStateSchema>>;

  readonly #deliveredTtlMs: number;

  constructor(store: Store, options: { readonly deliveredTtlMs?: number | undefined } = {}) {
    this.#deliveredTtlMs = options.deliveredTtlMs ?? DELIVERED_JOB_TTL_MS;
    this.#records = store.collection('jobs', jobRecordSchema, { version: 1 });
    this.#open = store.index('open-jobs');
    this.#orphans = store.index('jobs-with-orphaned-prompts');
    this.#state = store.collection('runner-state', runnerStateSchema, { version: 1 });
  }

  /** The bot's ComfyUI client id: created once, then the same after every restart. */
  async clientId(): Promise<string> {
    const state = await this.#state.update('runner', (current) => current ?? { clientId: `comfycord-${randomUUID()}` });
    return state?.clientId ?? `comfycord-${randomUUID()}`;
  }

  /** Writes a new job and lists it as open. */
  async create(job: JobRecord): Promise<void> {
    await this.#records.set(job.id, job);
    await this.#open.add(OPEN_KEY, job.id);
  }

  /** Writes the job's current state; a delivered job leaves the open list and expires later. */
  async save(job: JobRecord): Promise<void> {
    await this.#listOrphans(job);
    if (job.deliveredAt === undefined) {
      await this.#records.set(job.id, job);
      return;
    }
    await this.#records.set(job.id, job, this.#deliveredTtlMs);
    await this.#open.remove(OPEN_KEY, job.id);
  }

  /**
   * Takes one cancelled orphaned prompt off a job no longer in the runner's hands (delivered); the job then leaves the
   * orphans list when it was the last.
   */
  async removeOrphan(jobId: string, orphan: OrphanedPrompt): Promise<void> {
    const job = await this.#records.update(
      jobId,
      (current) =>
        current && {
          ...current,
          orphanedPrompts: (current.orphanedPrompts ?? []).filter((o) => !sameOrphan(o, orphan)),
        },
      DELIVERED_JOB_TTL_MS,
    );
    if (job === undefined || (job.orphanedPrompts ?? []).length === 0) await this.#orphans.remove(OPEN_KEY, jobId);
  }

  /** Every job with prompts still to cancel on a server. */
  async listWithOrphans(): Promise<JobRecord[]> {
    const jobs: JobRecord[] = [];
    for (const id of await this.#orphans.list(OPEN_KEY)) {
      const job = await this.#records.get(id);
      if (job === undefined || (job.orphanedPrompts ?? []).length === 0) await this.#orphans.remove(OPEN_KEY, id);
      else jobs.push(job);
    }
    return jobs;
  }

  // Only a job that has (or had) orphaned prompts touches the list: most jobs never do, and pay nothing for it.
  async #listOrphans(job: JobRecord): Promise<void> {
    if (job.orphanedPrompts === undefined) return;
    if (job.orphanedPrompts.length > 0) await this.#orphans.add(OPEN_KEY, job.id);
    else await this.#orphans.remove(OPEN_KEY, job.id);
  }

  /** The job, or undefined when unknown, expired or unreadable. */
  get(id: string): Promise<JobRecord | undefined> {
    return this.#records.get(id);
  }

  /** Every job not yet delivered, oldest first. Ids whose record is gone are dropped from the list. */
  async listOpen(): Promise<JobRecord[]> {
    const ids = await this.#open.list(OPEN_KEY);
    const jobs: JobRecord[] = [];
    for (const id of ids) {
      const job = await this.#records.get(id);
      if (job === undefined) await this.#open.remove(OPEN_KEY, id);
      else jobs.push(job);
    }
    return jobs.sort((a, b) => a.sequence - b.sequence);
  }
}
