/**
 * What the web face keeps in the store beside the jobs: one record per web generation (who asked, the settings used,
 * the webhook, and once it ended its outcome and output files), each caller's history, and the idempotency keys.
 * The job record says where a generation is while it runs; this record outlives it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { inputImageSchema } from '../jobs/model.js';
import { processLifeSchema } from '../store/process-lives.js';
import type { Collection, Index, Store } from '../store/store.js';

/** One output file, kept under the data directory. */
export const webOutputSchema = z.object({
  filename: z.string().min(1),
  contentType: z.string().min(1),
  size: z.number().int().min(0),
  /** Relative to the web outputs directory. */
  file: z.string().min(1),
});
export type WebOutput = z.infer<typeof webOutputSchema>;

/** How a generation ended. */
export const webOutcomeSchema = z.object({
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  finishedAt: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  outputs: z.array(webOutputSchema),
});
export type WebOutcome = z.infer<typeof webOutcomeSchema>;

export const webGenerationSchema = z.object({
  /** The job's id. */
  id: z.string().regex(/^[\w-]+$/),
  /** The member id of the key that asked (`web:<name>`). */
  owner: z.string().min(1),
  createdAt: z.number(),
  parentId: z.string().optional(),
  webhook: z.string().optional(),
  workflow: z.string(),
  /** The settings used: the caller's, overlaid with the values the binding chose (the seed above all). */
  settings: z.record(z.string(), z.unknown()),
  inputImage: inputImageSchema.optional(),
  /**
   * Set while the generation is accepted but not yet a job: the record is written first, so a crash before the job
   * exists leaves this record for the next start (or the caller's retry) to finish, never a job without its webhook.
   * `settings` are then the planned settings the job is made from.
   */
  pending: z.literal(true).optional(),
  /**
   * The fleet process life that accepted a pending generation (process-lives.ts): another process makes its job once
   * that life is over. Unset on SQLite and in records of earlier releases.
   */
  writer: processLifeSchema.optional(),
  outcome: webOutcomeSchema.optional(),
});
export type WebGeneration = z.infer<typeof webGenerationSchema>;

const idempotencySchema = z.object({ bodyHash: z.string(), generationId: z.string() });

const PENDING = 'all';

/** How many generations a key's history keeps. */
export const WEB_HISTORY_CAP = 1000;

/** Web generations are kept as long as Discord's. */
const RETENTION_MS = 365 * 24 * 60 * 60 * 1000;

/** Idempotency keys are remembered for a day, as the payment APIs that made them common do. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** The web face's records. */
export class WebRecords {
  readonly #generations: Collection<WebGeneration>;
  readonly #history: Index;
  readonly #idempotency: Collection<z.infer<typeof idempotencySchema>>;
  readonly #pending: Index;

  constructor(store: Store) {
    this.#generations = store.collection('web-generations', webGenerationSchema, { version: 1 });
    this.#history = store.index('web-history', { cap: WEB_HISTORY_CAP });
    this.#idempotency = store.collection('web-idempotency', idempotencySchema, { version: 1 });
    this.#pending = store.index('web-pending');
  }

  /**
   * Writes the record of a generation that is not a job yet. Listed as pending first: a crash between the two
   * writes leaves an entry without a record, which the next start drops.
   */
  async writePending(record: WebGeneration & { pending: true }): Promise<void> {
    await this.#pending.add(PENDING, record.id);
    await this.#generations.set(record.id, record, RETENTION_MS);
    await this.#history.add(record.owner, record.id);
  }

  /** The ids of generations written but perhaps never made jobs (a crash came in between). */
  listPending(): Promise<string[]> {
    return this.#pending.list(PENDING);
  }

  /**
   * Records that the generation is no longer pending: it is a job now, with the settings its binding chose, or it was
   * refused when a restart tried to make it one (its outcome says so).
   */
  async settlePending(id: string, settings: Record<string, unknown>): Promise<void> {
    await this.#generations.update(
      id,
      (current) => {
        if (current === undefined) return undefined;
        // Who was making it a job matters no more.
        const { pending: _pending, writer: _writer, ...enqueued } = current;
        // A job that already ended recorded its settings with its outcome.
        return current.outcome ? enqueued : { ...enqueued, settings };
      },
      RETENTION_MS,
    );
    await this.#pending.remove(PENDING, id);
  }

  /** Removes a generation that never became a job because the runner refused it (the caller got the refusal). */
  async discard(record: WebGeneration): Promise<void> {
    await this.#history.remove(record.owner, record.id);
    await this.#generations.delete(record.id);
    await this.#pending.remove(PENDING, record.id);
  }

  /** Stops listing `id` as pending (its record is gone or was finished). */
  async unlistPending(id: string): Promise<void> {
    await this.#pending.remove(PENDING, id);
  }

  get(id: string): Promise<WebGeneration | undefined> {
    return this.#generations.get(id);
  }

  /**
   * Merges `change` into the record, or creates it from `initial`: the request's write and the result's write may
   * come in either order, and neither loses the other's fields.
   */
  async merge(id: string, initial: WebGeneration, change: Partial<WebGeneration>): Promise<WebGeneration> {
    const merged = await this.#generations.update(
      id,
      (current) => ({ ...initial, ...current, ...stripUndefined(change) }),
      RETENTION_MS,
    );
    await this.#history.add(merged!.owner, id);
    return merged!;
  }

  /** A page of the caller's generations, newest first. */
  async list(owner: string, offset: number, limit: number): Promise<{ generations: WebGeneration[]; total: number }> {
    const total = await this.#history.count(owner);
    const ids = await this.#history.list(owner, { offset, limit });
    const found = await Promise.all(ids.map((id) => this.#generations.get(id)));
    return { generations: found.filter((generation) => generation !== undefined), total };
  }

  /** The generation an idempotency key made, if the same key was used before: with the body's hash, to compare. */
  idempotent(owner: string, key: string) {
    return this.#idempotency.get(idempotencyKey(owner, key));
  }

  rememberIdempotent(owner: string, key: string, bodyHash: string, generationId: string): Promise<void> {
    return this.#idempotency.set(idempotencyKey(owner, key), { bodyHash, generationId }, IDEMPOTENCY_TTL_MS);
  }

  /** Forgets a key whose request was refused, so that a retry is tried afresh. */
  async forgetIdempotent(owner: string, key: string): Promise<void> {
    await this.#idempotency.delete(idempotencyKey(owner, key));
  }
}

function idempotencyKey(owner: string, key: string): string {
  return createHash('sha256').update(`${owner}\n${key}`).digest('base64url');
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
