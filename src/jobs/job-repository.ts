/**
 * Where jobs are persisted: one record per job in the `jobs` collection, and the ids of every job not yet delivered
 * in the `open-jobs` index, which is what `resume()` reads after a restart. Delivered jobs are kept for a while
 * (buttons on old cards look them up) and then expire.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Collection, Index, Store } from '../store/store.js';
import { jobRecordSchema, type JobRecord } from './model.js';

const OPEN_KEY = 'all';

const runnerStateSchema = z.object({ clientId: z.string().min(1) });

/** How long a delivered job stays readable (Reroll, Vary and Upscale buttons read its settings). */
export const DELIVERED_JOB_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Jobs in the store. */
export class JobRepository {
  readonly #records: Collection<JobRecord>;
  readonly #open: Index;
  readonly #state: Collection<z.infer<typeof runnerStateSchema>>;

  readonly #deliveredTtlMs: number;

  constructor(store: Store, options: { readonly deliveredTtlMs?: number | undefined } = {}) {
    this.#deliveredTtlMs = options.deliveredTtlMs ?? DELIVERED_JOB_TTL_MS;
    this.#records = store.collection('jobs', jobRecordSchema, { version: 1 });
    this.#open = store.index('open-jobs');
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
    if (job.deliveredAt === undefined) {
      await this.#records.set(job.id, job);
      return;
    }
    await this.#records.set(job.id, job, this.#deliveredTtlMs);
    await this.#open.remove(OPEN_KEY, job.id);
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
