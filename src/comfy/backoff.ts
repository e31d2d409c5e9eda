/**
 * Exponential backoff with jitter, for reconnecting and polling a server that is down: delays double from `minMs`
 * up to `maxMs`, each drawn between half and all of the current step so many clients do not retry in lockstep.
 */

/** The bounds of a backoff, in milliseconds. */
export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Successive retry delays. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const { minMs, maxMs } = this.options;
    const step = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.max(minMs, Math.round(step / 2 + (this.random() * step) / 2));
  }

  /** Starts over from `minMs` after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
