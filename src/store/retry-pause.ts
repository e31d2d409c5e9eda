/**
 * A pause before trying again what failed, by id, for work a process looks at often: the fleet's dispatcher looks
 * every second for what dead processes left, and a request whose finishing failed (Discord or the store away) is tried
 * again after the pause, not every second (each try would also log). Kept in memory: a process that takes over from
 * this one simply tries at once.
 */
export class RetryPause {
  readonly #until = new Map<string, number>();

  constructor(private readonly pauseMs = 30_000) {}

  /** True while `id` failed less than the pause ago. */
  waiting(id: string): boolean {
    const until = this.#until.get(id);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.#until.delete(id);
    return false;
  }

  /** `id` failed now: it waits out the pause. */
  failed(id: string): void {
    this.#until.set(id, Date.now() + this.pauseMs);
  }
}
