/**
 * The queue's shared state in one Redis key, changed with Redis's optimistic transactions: WATCH the key, read it,
 * apply the change in TypeScript (the same code as the embedded engine's), then MULTI/EXEC the new value; EXEC fails
 * when another process changed the key in between, and the change runs again on the newer state. Redis provides the
 * atomicity; no lock of ours. Changes of one process are serialised on its connection, since WATCH belongs to a
 * connection.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import { emptyQueueState, queueStateSchema, type QueueState } from './queue-state.js';
import type { SharedCell } from './shared-cell.js';

/** The key of the fleet's queue state. */
export const QUEUE_STATE_KEY = 'comfycord:fleet:queue';

/** How often a change may lose the race before it gives up (the state is then busier than it can ever be). */
const MAX_TRIES = 100;

/** The queue state kept in Redis. */
export class RedisCell implements SharedCell<QueueState> {
  #last: QueueState = emptyQueueState();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly key = QUEUE_STATE_KEY,
  ) {}

  get last(): QueueState {
    return this.#last;
  }

  read(): Promise<QueueState> {
    return this.#serial(async () => {
      this.#last = this.#parse(await this.redis.get(this.key));
      return this.#last;
    });
  }

  change<Result>(change: (state: QueueState) => Result): Promise<Result> {
    return this.#serial(async () => {
      for (let tries = 1; ; tries++) {
        await this.redis.watch(this.key);
        const state = this.#parse(await this.redis.get(this.key));
        let result: Result;
        try {
          result = change(state);
        } catch (error) {
          await this.redis.unwatch();
          throw error;
        }
        const committed = await this.redis.multi().set(this.key, JSON.stringify(state)).exec();
        if (committed !== null) {
          this.#last = state;
          return result;
        }
        if (tries >= MAX_TRIES) throw new Error(`the fleet's queue changed ${MAX_TRIES} times under one change`);
      }
    });
  }

  #parse(raw: string | null): QueueState {
    if (raw === null) return emptyQueueState();
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    const parsed = queueStateSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    // Written by an incompatible release, or by hand: an error, not a silent reset that would forget every job.
    this.logger.error({ key: this.key }, 'the fleet queue state in Redis is unreadable');
    throw new Error(`the fleet queue state at ${this.key} is unreadable`);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
