/**
 * One "something changed" signal for the whole fake. Waiting helpers re-evaluate their condition whenever a call is
 * recorded, a message changes or an interaction is answered, so no helper can miss an event that happened before it
 * started waiting.
 */

/** Thrown when a wait times out; the message says what was awaited. */
export class FakeDiscordTimeoutError extends Error {
  override readonly name = 'FakeDiscordTimeoutError';
}

type Waiter = () => void;

/** Notifies waiters of changes; timers are unref'd so a forgotten wait never holds the process open. */
export class ChangeSignal {
  private readonly waiters = new Set<Waiter>();
  private scheduled = false;

  /**
   * Re-evaluates every pending wait, once the fake has finished what it is doing: changes made together (a burst of
   * calls answered in one turn of the event loop) wake each wait once, not once per change. With hundreds of waits
   * open, waking them all on every change was most of what the fake spent on a burst of callbacks.
   */
  notify(): void {
    if (this.scheduled || this.waiters.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  /**
   * Resolves with the first non-undefined result of `check`, evaluated now and after every change; rejects after
   * `timeoutMs` with `describe()` in the message (called then, so it can list what did happen).
   */
  until<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = () => {
        let result: T | undefined;
        try {
          result = check();
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (result === undefined) return;
        finish();
        resolve(result);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new FakeDiscordTimeoutError(`timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      timer.unref();
      this.waiters.add(waiter);
    });
  }

  /** How many waits are pending (tests of the fake check nothing is left behind). */
  get pending(): number {
    return this.waiters.size;
  }
}
