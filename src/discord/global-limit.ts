/**
 * Discord's global REST limit, kept by our transport rather than by discord.js: 50 requests per second per bot, not
 * per process. Each request asks the limit for a slot first; interaction callbacks and interaction webhooks (card
 * edits, followups) are not bound to it (Discord says so), so they never wait here.
 *
 * One process keeps the count in memory (`createLocalGlobalLimit`); a fleet on Redis keeps it in Redis
 * (`redis-global-limit.ts`), so three processes together stay under the bot's 50, not 150. Per-route buckets stay with
 * each process's discord.js: they are per channel or per interaction, and a rare collision between two processes costs
 * one 429 that discord.js waits out.
 *
 * The count is a sliding window (a slot is free when fewer than `requests` were granted in the last `windowMs`), so no
 * second, however it falls on Discord's clock, sees more than the limit.
 */

/** The bot's global budget as the transport uses it. */
export interface GlobalLimit {
  /** Resolves when one more request may be sent; rejects when `signal` aborts first (discord.js's timeout). */
  take(signal?: AbortSignal | null): Promise<void>;
  /** Discord answered a global 429 anyway: no process sends for `ms`. */
  pause(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Discord's global limit: 50 requests per second. */
export const GLOBAL_REQUESTS = 50;

/**
 * A second and a little more. A request granted at the end of one window can reach Discord after one granted at the
 * start of the next when its connection, or Discord's edge, was slower; a burst of 50 is also taken in by Discord one
 * after another. A tenth of a second covers both and costs 9 % of the budget at full load (45.5 requests per second
 * instead of 50); below full load it costs nothing. With 50 ms, a loaded test machine saw Discord's 429 (the fake's).
 */
export const GLOBAL_WINDOW_MS = 1_100;

/** The interaction endpoints Discord leaves out of the global limit: callbacks and interaction webhooks. */
export function countsAgainstGlobalLimit(url: string): boolean {
  const path = new URL(url).pathname;
  return !/\/interactions\/\d+\/[^/]+\/callback$/.test(path) && !/\/webhooks\/\d+\/[^/]+(\/|$)/.test(path);
}

/** One attempt at a slot: 0 when granted, else how many milliseconds until one may be free. */
export type TrySlot = () => Promise<number>;

/**
 * Waits for slots one request at a time, in the order they were asked for (a request that waited longest goes first
 * within this process), and gives a slot up to no request that was aborted meanwhile.
 */
export class SlotQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly trySlot: TrySlot) {}

  take(signal?: AbortSignal | null): Promise<void> {
    const turn = this.tail.then(() => this.waitForSlot(signal));
    // The next request waits for this one's turn to end, whether it got a slot or was aborted.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async waitForSlot(signal?: AbortSignal | null): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const waitMs = await this.trySlot();
      if (waitMs <= 0) return;
      await sleep(waitMs, signal);
    }
  }
}

/** The limit of a process alone: a sliding window of grant times in memory. */
export function createLocalGlobalLimit(requests = GLOBAL_REQUESTS, windowMs = GLOBAL_WINDOW_MS): GlobalLimit {
  const window = new LocalWindow(requests, windowMs);
  const queue = new SlotQueue(async () => window.trySlot(Date.now()));
  return {
    take: (signal) => queue.take(signal),
    pause: async (ms) => window.pause(Date.now() + ms),
    close: async () => undefined,
  };
}

/** The sliding window's arithmetic, shared by the local limit and the Redis limit's fallback. */
export class LocalWindow {
  private readonly granted: number[] = [];
  private pausedUntil = 0;

  constructor(
    private readonly requests: number,
    private readonly windowMs: number,
  ) {}

  /** 0 and a slot taken, or the milliseconds until the oldest grant leaves the window (or the pause ends). */
  trySlot(now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    while (this.granted.length > 0 && this.granted[0]! <= now - this.windowMs) this.granted.shift();
    if (this.granted.length < this.requests) {
      this.granted.push(now);
      return 0;
    }
    return Math.max(this.granted[0]! + this.windowMs - now, 1);
  }

  pause(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }
}

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    // An abort that came while the slot was being asked for (a Redis round trip) has already fired: no listener added
    // now would ever hear it, and the request would wait out the whole window.
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('The operation was aborted.', 'AbortError'));
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError'));
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
