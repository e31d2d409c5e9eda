/**
 * What happens while every image server is down. New jobs are refused at once with a sentence; jobs already waiting
 * keep waiting for a while (a restarting ComfyUI is back within a minute or two), and if no server has come back by
 * then they fail with the same sentence rather than sit on "queued" forever.
 */
import { UserFacingError } from '../errors.js';

/** The sentence a member reads when no image server answers. */
export function serversDownError(detail: string): UserFacingError {
  return new UserFacingError(
    'servers-down',
    'The image servers cannot be reached right now; please try again in a few minutes.',
    { detail },
  );
}

/** Calls `onOutage` once every server has been down for `timeoutMs` without a break. */
export class OutageTimer {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly allDown: () => boolean,
    private readonly timeoutMs: number,
    private readonly onOutage: () => void,
  ) {}

  /** Re-evaluates after a server's health changed: starts the clock when all are down, stops it when one is up. */
  check(): void {
    if (!this.allDown()) return this.stop();
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.allDown()) this.onOutage();
    }, this.timeoutMs);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
