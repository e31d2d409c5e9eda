/**
 * Serialises async work per key inside one process: the read-modify-write of an index or a record must not interleave
 * with another one on the same key, or one writer's change is lost.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier `run` with the same key has settled; runs for other keys are not delayed. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    // The next caller waits for this one whether it succeeds or fails: a failed update must not block the key.
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Forget idle keys so the map does not grow with every key ever touched.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Resolves once every run started so far has settled (used before closing the connection underneath). */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
