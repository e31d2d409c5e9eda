/**
 * The crash-safe way from an accepted web request to its job. A generation is written in this order: its
 * Idempotency-Key, its web record (pending, listed as such), its job under the record's id, and only then is the
 * record marked as a job. A crash at any step leaves nothing, a key a retry reuses, or a pending record that the next
 * start (or the retry) finishes, and in a fleet a live process (the dispatcher's pass over what dead processes left);
 * never a job without its record, and never two jobs for one record.
 */
import type { Engine } from '../engine.js';
import { isUserFacing } from '../errors.js';
import type { FaultPoint } from '../fault-point.js';
import type { Logger } from '../logger.js';
import type { ProcessLife, ProcessLives } from '../store/process-lives.js';
import { RetryPause } from '../store/retry-pause.js';
import { generationSettingsSchema } from '../workflows/settings.js';
import { WEB_CHANNEL } from './delivery.js';
import { settingsUsed } from './views.js';
import type { WebGeneration, WebRecords } from './web-records.js';

/** An Idempotency-Key and the hash of the request it came with. */
export interface Idempotency {
  readonly key: string;
  readonly bodyHash: string;
}

export interface PendingGenerationsOptions {
  readonly runner: Engine['runner'];
  readonly records: WebRecords;
  /** This process's life in a fleet, named in the pending records it writes (undefined on SQLite). */
  readonly writer: ProcessLife | undefined;
  /** Tells whether a pending record's writer is alive. */
  readonly lives: ProcessLives;
  /** Where a crash test has the process kill itself (src/fault-point.ts); a no-op in production. */
  readonly fault: FaultPoint;
}

/** Turns web records into jobs, each once, whatever crashed in between. */
export class PendingGenerations {
  readonly #options: PendingGenerationsOptions;
  /** Pending records being made jobs: a retry and the start's recovery never make one twice. */
  readonly #submitting = new Map<string, Promise<void>>();
  /** Records whose job could not be made wait here before the next try (a fleet's dispatcher looks every second). */
  readonly #retries = new RetryPause();

  constructor(options: PendingGenerationsOptions) {
    this.#options = options;
  }

  /**
   * Keeps the idempotency key (unless a retry found it kept already, `keptAs`), writes the record as pending and
   * makes its job. When the runner refuses the job, nothing of the request is kept and the refusal is thrown.
   */
  async open(record: WebGeneration & { pending: true }, idempotency?: Idempotency & { keptAs?: string }) {
    const { records, fault } = this.#options;
    if (idempotency !== undefined && idempotency.keptAs === undefined) {
      await records.rememberIdempotent(record.owner, idempotency.key, idempotency.bodyHash, record.id);
      fault('web:after-idempotency-key');
    }
    const written = this.#options.writer === undefined ? record : { ...record, writer: this.#options.writer };
    await records.writePending(written);
    fault('web:after-record');
    await this.finish(written, idempotency);
  }

  /**
   * Makes the pending record's job (a retry finishing what a first request began); when the runner refuses it, the
   * record and its key are dropped and the refusal is thrown, so the caller hears why.
   */
  async finish(record: WebGeneration, idempotency: Idempotency | undefined): Promise<void> {
    try {
      await this.#submit(record);
    } catch (error) {
      // Anything else (the store failing) leaves the record pending, for the next start to finish.
      if (!isUserFacing(error)) throw error;
      await this.#options.records.discard(record);
      if (idempotency !== undefined) await this.#options.records.forgetIdempotent(record.owner, idempotency.key);
      throw error;
    }
  }

  /**
   * Finishes the generations a crash left between their record and their job; once the runner runs. One the runner
   * refuses now (a limit) ends failed with its sentence, and `refused` announces it (its webhook).
   *
   * With `graceMs` (a fleet's live process taking over what a killed one left, without any restart): only records
   * whose writer's life is over, or, naming none (an earlier release's), written at least `graceMs` ago, so a request
   * another live process is still making a job of is left to it, however slow; and an id listed without its record
   * yet is left alone (its process may be writing the record right now).
   */
  async resume(refused: (record: WebGeneration) => Promise<void>, logger: Logger, graceMs?: number): Promise<void> {
    const { records, lives } = this.#options;
    const seen = new Map<string, Promise<boolean>>();
    for (const id of await records.listPending()) {
      if (this.#retries.waiting(id)) continue;
      try {
        const record = await records.get(id);
        const left =
          graceMs === undefined ||
          (record !== undefined &&
            (await lives.leftBehind({ writer: record.writer, writtenAt: record.createdAt }, graceMs, seen)));
        if (left === false) continue;
        if (record?.pending !== true) {
          await records.unlistPending(id);
          continue;
        }
        logger.info(
          { generation: id, takenOver: left === true ? undefined : left, writer: record.writer?.process },
          graceMs === undefined
            ? 'finishing a generation accepted just before the process stopped'
            : 'finishing a generation another process accepted before it died',
        );
        await this.#submit(record).catch(async (error: unknown) => {
          if (!isUserFacing(error)) throw error;
          const failure = { code: error.identifier, message: error.userMessage };
          const failed = await records.merge(id, record, {
            outcome: { status: 'failed', finishedAt: Date.now(), error: failure, outputs: [] },
          });
          await records.settlePending(id, record.settings);
          await refused(failed);
        });
      } catch (error) {
        this.#retries.failed(id);
        logger.error(
          { err: error, generation: id },
          'could not finish a pending generation; the next start tries again',
        );
      }
    }
  }

  /** Makes the pending record's job, once: a job already made before a crash is not made twice. */
  #submit(record: WebGeneration): Promise<void> {
    const running = this.#submitting.get(record.id);
    if (running !== undefined) return running;
    const submitting = this.#makeJob(record).finally(() => this.#submitting.delete(record.id));
    this.#submitting.set(record.id, submitting);
    return submitting;
  }

  async #makeJob(record: WebGeneration): Promise<void> {
    const { runner, records, fault } = this.#options;
    const job =
      (await runner.findJob(record.id)) ??
      (await runner.enqueue({
        id: record.id,
        memberId: record.owner,
        channelId: WEB_CHANNEL,
        settings: generationSettingsSchema.parse(record.settings),
        inputImage: record.inputImage,
      }));
    fault('web:after-enqueue');
    await records.settlePending(record.id, settingsUsed(job));
  }
}
