/**
 * Acknowledgements before everything else. Discord gives an interaction 3 s to be acknowledged, and until it is, the
 * member sees nothing happen; the work an acknowledged command starts (reading defaults, binding the workflow,
 * storing and submitting the job) can wait a few milliseconds. On one thread, with a burst of commands, that work used
 * to interleave with the acknowledgements still to send, and the last member of the burst waited behind everyone
 * else's jobs being stored (bench/ack.ts).
 *
 * So every interaction counts as waiting from its arrival until the answer to its callback comes back (or its handler
 * ends), and a handler's follow-on work first waits until each interaction that arrived before that point has been
 * acknowledged. Later arrivals cannot hold it up, so under steady load nothing starves; and no wait outlasts Discord's
 * own deadline for acknowledging (an interaction not acknowledged by then never will be).
 *
 * The one thing done before acknowledging is writing the request down (request-journal.ts, a fraction of a
 * millisecond): once "thinking…" shows, the request must outlive the process that took it.
 */
import { RESTEvents, type REST } from 'discord.js';

/** Discord's deadline for acknowledging an interaction: the longest follow-on work is held. */
const ACKNOWLEDGEMENT_DEADLINE_MS = 3_000;

/** The interaction an interaction-callback request is for, from its path. */
const CALLBACK_PATH = /^\/interactions\/(\d+)\/[^/]+\/callback/;

export class AcknowledgementQueue {
  /** Waiting interactions by id, with the order they arrived in (Map keeps insertion order). */
  readonly #waiting = new Map<string, number>();
  #arrivals = 0;
  /** Follow-on work, in the order it asked (so with non-decreasing marks). */
  readonly #held: { mark: number; resume: () => void }[] = [];

  /** Releases interactions as the answers to their callbacks come back through `rest`. */
  watch(rest: REST): void {
    rest.on(RESTEvents.Response, (request) => {
      const id = CALLBACK_PATH.exec(request.path)?.[1];
      if (id) this.acknowledged(id);
    });
  }

  /** An interaction arrived and waits for its acknowledgement. */
  arrived(id: string): void {
    this.#waiting.set(id, this.#arrivals);
    this.#arrivals += 1;
  }

  /** The interaction is acknowledged (or will not be); repeating it does nothing. */
  acknowledged(id: string): void {
    if (this.#waiting.delete(id)) this.#resumeHeld();
  }

  /** Resolves once every interaction that has arrived so far is acknowledged (or after Discord's deadline). */
  settled(): Promise<void> {
    if (this.#waiting.size === 0) return Promise.resolve();
    const mark = this.#arrivals - 1;
    return new Promise((resolve) => {
      const timer = setTimeout(resume, ACKNOWLEDGEMENT_DEADLINE_MS).unref();
      function resume(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#held.push({ mark, resume });
    });
  }

  /** How many interactions wait for their acknowledgement. */
  get waiting(): number {
    return this.#waiting.size;
  }

  #resumeHeld(): void {
    const oldestWaiting = this.#waiting.values().next().value ?? Number.POSITIVE_INFINITY;
    while (this.#held.length > 0 && this.#held[0]!.mark < oldestWaiting) this.#held.shift()!.resume();
  }
}
