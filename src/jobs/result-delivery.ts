/**
 * Delivering a job's terminal event and recording that it was delivered (see the contract in events.ts). A delivery
 * the listeners did not confirm is retried with a growing pause (in this process, and at every start), for as long
 * as `giveUpAfterMs` allows: listeners reject only for failures worth trying again (Discord rate limits, 5xx, the
 * network; a deterministic refusal they handle themselves, see src/discord/final-post.ts). The attempt count is
 * persisted, so restarts count too.
 */
import { noFault, type FaultPoint } from '../fault-point.js';
import type { Logger } from '../logger.js';
import type { TerminalJobEvent } from './events.js';
import type { JobBook } from './job-book.js';
import type { JobListeners } from './listeners.js';

const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;

/** How persistent delivery is. */
export interface DeliveryOptions {
  /** The pause before the first retry; it doubles at each try, up to 5 min. Default 5 s. */
  readonly retryDelayMs?: number;
  /** How long after the job ended its delivery is still tried; then it is given up (logged). Default 24 h. */
  readonly giveUpAfterMs?: number;
  /** Testing aid (src/fault-point.ts): reached between the listeners' confirmation and the record of it. */
  readonly fault?: FaultPoint;
  /** Called once a job's delivery is recorded (its kept files can go). */
  readonly onDelivered?: (jobId: string) => Promise<void>;
}

/** Hands terminal events to the listeners until they confirm. */
export class ResultDelivery {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timers = new Map<NodeJS.Timeout, string>();
  /** Per job being delivered: resolved once its delivery is recorded, given up, or left for the next start. */
  readonly #outcomes = new Map<string, { promise: Promise<boolean>; resolve: (delivered: boolean) => void }>();
  readonly #giveUpAfterMs: number;
  readonly #retryDelayMs: number;
  readonly #onDelivered: (jobId: string) => Promise<void>;
  readonly #fault: FaultPoint;
  #stopped = false;

  constructor(
    private readonly book: JobBook,
    private readonly listeners: JobListeners,
    private readonly logger: Logger,
    options: DeliveryOptions = {},
  ) {
    this.#giveUpAfterMs = options.giveUpAfterMs ?? 24 * 60 * 60 * 1000;
    this.#retryDelayMs = options.retryDelayMs ?? 5_000;
    this.#onDelivered = options.onDelivered ?? (async () => undefined);
    this.#fault = options.fault ?? noFault;
  }

  /** Delivers the event of a job whose terminal state is persisted; resolves when this try is over. */
  deliver(jobId: string, event: TerminalJobEvent): Promise<void> {
    this.#outcome(jobId);
    const delivery = this.#try(jobId, event).catch((error: unknown) => {
      this.logger.error({ err: error, jobId }, 'recording a delivery failed; it is retried after a restart');
      this.book.forget(jobId);
      this.#settle(jobId, false);
    });
    this.#inFlight.add(delivery);
    void delivery.finally(() => this.#inFlight.delete(delivery));
    return delivery;
  }

  /**
   * Resolves once the job's delivery is over in this process: true when recorded (or given up after a day), false
   * when left for the next start or another process (stopping, or the record could not be written). Retries in
   * between are awaited.
   */
  settled(jobId: string): Promise<boolean> {
    return this.#outcomes.get(jobId)?.promise ?? Promise.resolve(false);
  }

  /** Resolves once every delivery under way has finished. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Cancels pending retries (the next start delivers those jobs again). */
  stop(): void {
    this.#stopped = true;
    // A try under way ends by itself (and settles then); only those waiting for their next try are left now.
    for (const [timer, jobId] of this.#timers) {
      clearTimeout(timer);
      this.book.forget(jobId);
      this.#settle(jobId, false);
    }
    this.#timers.clear();
  }

  #outcome(jobId: string): void {
    if (this.#outcomes.has(jobId)) return;
    let resolve = (_delivered: boolean): void => undefined;
    const promise = new Promise<boolean>((done) => (resolve = done));
    this.#outcomes.set(jobId, { promise, resolve });
  }

  #settle(jobId: string, delivered: boolean): void {
    this.#outcomes.get(jobId)?.resolve(delivered);
    this.#outcomes.delete(jobId);
  }

  async #try(jobId: string, event: TerminalJobEvent): Promise<void> {
    const confirmed = await this.listeners.deliver(this.book.require(jobId), event);
    if (confirmed) this.#fault('delivery:before-delivered');
    const job = this.book.require(jobId);
    const attempts = job.deliveryAttempts + 1;
    const expired = Date.now() - (job.finishedAt ?? job.updatedAt) > this.#giveUpAfterMs;
    if (confirmed || expired) {
      if (!confirmed) this.logger.error({ jobId, attempts }, 'giving up delivering a job result after a day of tries');
      await this.book.save(jobId, { deliveryAttempts: attempts, deliveredAt: Date.now(), keptFiles: undefined });
      this.book.forget(jobId);
      this.#settle(jobId, true);
      return this.#onDelivered(jobId);
    }
    await this.book.save(jobId, { deliveryAttempts: attempts });
    if (this.#stopped) {
      this.#settle(jobId, false);
      return this.book.forget(jobId);
    }
    const delayMs = Math.min(this.#retryDelayMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
    this.logger.warn({ jobId, attempts, retryInMs: delayMs }, 'delivering a job result failed; trying again later');
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.deliver(jobId, event);
    }, delayMs);
    timer.unref();
    this.#timers.set(timer, jobId);
  }
}
