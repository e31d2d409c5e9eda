/**
 * Where jobs are persisted: one record per job in the `jobs` collection, and the ids of every job not yet delivered
 * in the `open-jobs` index, which is what `resume()` reads after a restart. Delivered jobs are kept for a while
 * (buttons on old cards look them up) and then expire. Beside each record, a small contact (`job-contacts`: who asked,
 * where, for what) is written when the job is created and when the way to reach the member changes, so a job whose
 * record is damaged can still be answered after a restart (salvage.ts).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Collection, Index, Store } from '../store/store.js';
import { jobRecordSchema, sameOrphan, type JobRecord, type OrphanedPrompt } from './model.js';
import { contactOf, jobContactSchema, type JobContact } from './salvage.js';

const OPEN_KEY = 'all';

/** Rebuilds the record of an open job that cannot be read, from its contact (see salvage.ts). */
export type Salvage = (id: string, contact: JobContact | undefined) => Promise<JobRecord | undefined>;

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
  readonly #contacts: Collection<JobContact>;

  readonly #deliveredTtlMs: number;

  constructor(store: Store, options: { readonly deliveredTtlMs?: number | undefined } = {}) {
    this.#deliveredTtlMs = options.deliveredTtlMs ?? DELIVERED_JOB_TTL_MS;
    this.#records = store.collection('jobs', jobRecordSchema, { version: 1 });
    this.#open = store.index('open-jobs');
    this.#orphans = store.index('jobs-with-orphaned-prompts');
    this.#state = store.collection('runner-state', runnerStateSchema, { version: 1 });
    this.#contacts = store.collection('job-contacts', jobContactSchema, { version: 1 });
  }

  /** The bot's ComfyUI client id: created once, then the same after every restart. */
  async clientId(): Promise<string> {
    const state = await this.#state.update('runner', (current) => current ?? { clientId: `comfycord-${randomUUID()}` });
    return state?.clientId ?? `comfycord-${randomUUID()}`;
  }

  /** Writes a new job and its contact, and lists it as open. */
  async create(job: JobRecord): Promise<void> {
    await this.#records.set(job.id, job);
    await this.saveContact(job);
    await this.#open.add(OPEN_KEY, job.id);
  }

  /** Removes a job that was written but never queued (refused by a limit at admission): record, contact, open entry. */
  async discard(id: string): Promise<void> {
    await this.#open.remove(OPEN_KEY, id);
    await this.#contacts.delete(id);
    await this.#records.delete(id);
  }

  /** The ids of every job not yet delivered (without reading their records). */
  openIds(): Promise<string[]> {
    return this.#open.list(OPEN_KEY);
  }

  /**
   * Writes the job's contact (at creation, and when its delivery info changes). It expires with the delivered record
   * would: by then the job is long delivered, or given up.
   */
  async saveContact(job: JobRecord): Promise<void> {
    await this.#contacts.set(job.id, contactOf(job), this.#deliveredTtlMs);
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

  /**
   * Every job not yet delivered, oldest first. A job whose record is missing or unreadable is skipped, unless
   * `salvage` is given: it is then handed the job's contact (undefined when there is none) and returns the record
   * rebuilt from it, which is written back and listed, or undefined, and the job leaves the list.
   */
  async listOpen(salvage?: Salvage): Promise<JobRecord[]> {
    const ids = await this.#open.list(OPEN_KEY);
    const jobs: JobRecord[] = [];
    for (const id of ids) {
      const job = await this.getOpen(id, salvage);
      if (job !== undefined) jobs.push(job);
    }
    return jobs.sort((a, b) => a.sequence - b.sequence);
  }

  /** One open job, salvaged as `listOpen` does when its record cannot be read. */
  async getOpen(id: string, salvage?: Salvage): Promise<JobRecord | undefined> {
    return (await this.#records.get(id)) ?? (salvage && (await this.#salvage(id, salvage)));
  }

  async #salvage(id: string, salvage: Salvage): Promise<JobRecord | undefined> {
    const job = await salvage(id, await this.#contacts.get(id));
    if (job === undefined) await this.#open.remove(OPEN_KEY, id);
    else await this.save(job);
    return job;
  }
}
