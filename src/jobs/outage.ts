/**
 * What happens while every image server is down. For a while nothing changes: jobs wait in the queue, since a
 * restarting ComfyUI is back within a minute or two. If no server has come back by then, the outage is declared: the
 * waiting jobs fail with a sentence rather than sit on "queued" forever, and new jobs are refused with it at once until
 * a server is up again.
 */
import { UserFacingError } from '../errors.js';

/**
 * The sentence a member reads when no image server can be used; `answering` when some of them answered (with an error
 * status or a body that could not be used), which is not the same as unreachable.
 */
export function serversDownError(detail: string, answering = false): UserFacingError {
  return new UserFacingError(
    'servers-down',
    answering
      ? 'The image servers are answering with errors right now; please try again in a few minutes.'
      : 'The image servers cannot be reached right now; please try again in a few minutes.',
    { detail },
  );
}

/** Calls `onOutage` once every server has been down for `timeoutMs` without a break. */
export class OutageTimer {
  #timer: NodeJS.Timeout | undefined;
  #declared = false;

  constructor(
    private readonly allDown: () => boolean,
    private readonly timeoutMs: number,
    private readonly onOutage: () => void,
  ) {}

  /** True from the moment the outage was declared until a server is up again. */
  get declared(): boolean {
    return this.#declared;
  }

  /** Re-evaluates after a server's health changed: starts the clock when all are down, stops it when one is up. */
  check(): void {
    if (!this.allDown()) return this.stop();
    if (this.#timer || this.#declared) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.allDown()) return;
      this.#declared = true;
      this.onOutage();
    }, this.timeoutMs);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#declared = false;
  }
}
