/**
 * Delivering a job's terminal event and recording that it was delivered (see the contract in events.ts). A delivery
 * the listeners did not confirm is retried after a pause, a few times; then the job is marked delivered anyway, so
 * one broken message cannot be retried forever. The attempt count is persisted, so restarts count too.
 */
import type { Logger } from '../logger.js';
import type { TerminalJobEvent } from './events.js';
import type { JobBook } from './job-book.js';
import type { JobListeners } from './listeners.js';

/** How persistent delivery is. */
export interface DeliveryOptions {
  /** Tries in all, restarts included. Default 3. */
  readonly maxAttempts?: number;
  /** The pause before each retry in this process. Default 5 s. */
  readonly retryDelayMs?: number;
  /** Called once a job's delivery is recorded (its kept files can go). */
  readonly onDelivered?: (jobId: string) => Promise<void>;
}

/** Hands terminal events to the listeners until they confirm. */
export class ResultDelivery {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #onDelivered: (jobId: string) => Promise<void>;
  #stopped = false;

  constructor(
    private readonly book: JobBook,
    private readonly listeners: JobListeners,
    private readonly logger: Logger,
    options: DeliveryOptions = {},
  ) {
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#retryDelayMs = options.retryDelayMs ?? 5_000;
    this.#onDelivered = options.onDelivered ?? (async () => undefined);
  }

  /** Delivers the event of a job whose terminal state is persisted; resolves when this try is over. */
  deliver(jobId: string, event: TerminalJobEvent): Promise<void> {
    const delivery = this.#try(jobId, event).catch((error: unknown) => {
      this.logger.error({ err: error, jobId }, 'recording a delivery failed; it is retried after a restart');
      this.book.forget(jobId);
    });
    this.#inFlight.add(delivery);
    void delivery.finally(() => this.#inFlight.delete(delivery));
    return delivery;
  }

  /** Resolves once every delivery under way has finished. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Cancels pending retries (the next start delivers those jobs again). */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #try(jobId: string, event: TerminalJobEvent): Promise<void> {
    const confirmed = await this.listeners.deliver(this.book.require(jobId), event);
    const attempts = this.book.require(jobId).deliveryAttempts + 1;
    if (confirmed || attempts >= this.#maxAttempts) {
      if (!confirmed) this.logger.error({ jobId, attempts }, 'giving up delivering a job result');
      await this.book.save(jobId, { deliveryAttempts: attempts, deliveredAt: Date.now(), keptFiles: undefined });
      this.book.forget(jobId);
      return this.#onDelivered(jobId);
    }
    await this.book.save(jobId, { deliveryAttempts: attempts });
    if (this.#stopped) return this.book.forget(jobId);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.deliver(jobId, event);
    }, this.#retryDelayMs);
    timer.unref();
    this.#timers.add(timer);
  }
}
