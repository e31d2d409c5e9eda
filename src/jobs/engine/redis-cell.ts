/**
 * The queue's shared state in one Redis key, changed optimistically: read it (and Redis's clock, the change's `now`),
 * apply the change in TypeScript (the same code as the embedded engine's), then write the new value with a script that
 * writes only when the key still holds what was read (compared by SHA-1); when another process changed it in between,
 * the change runs again on the newer state. Redis provides the atomicity; no lock of ours.
 *
 * Each write names itself (a commit id, written with it and kept a while). A write whose answer was lost with its
 * connection is sent again by the client once it reconnects, and then answers that it is done already, instead of
 * writing a second time over what other processes changed meanwhile. (WATCH/MULTI/EXEC cannot do that: a WATCH dies
 * with its connection, and the client sent the whole transaction again on the new one, unwatched: the state read
 * before the break was written back over another process's change.) Changes of one process are serialised.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import { emptyQueueState, queueStateSchema, type QueueState } from './queue-state.js';
import type { SharedCell } from './shared-cell.js';

/** The key of the fleet's queue state. */
export const QUEUE_STATE_KEY = 'comfycord:fleet:queue';

/** How often a change may lose the race before it gives up (the state is then busier than it can ever be). */
const MAX_TRIES = 100;

/** How long a write's commit id is kept: longer than any client waits to send a write again after reconnecting. */
const COMMIT_KEPT_MS = 10 * 60_000;

/**
 * KEYS: the state, the write's commit id. ARGV: the SHA-1 of the state read ('' when there was none), the new state,
 * how long the commit id is kept. 1 when written (now or by an earlier sending of this same write), 0 when the state
 * changed since it was read.
 */
const WRITE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
local current = redis.call('GET', KEYS[1])
local digest = ''
if current then digest = redis.sha1hex(current) end
if digest ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[3]))
return 1`;

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

  change<Result>(change: (state: QueueState, now: number) => Result): Promise<Result> {
    return this.#serial(async () => {
      for (let tries = 1; ; tries++) {
        const [raw, now] = await this.#readWithTime();
        const state = this.#parse(raw);
        const result = change(state, now);
        const commit = `${this.key}:commit:${randomUUID()}`;
        const read = raw === null ? '' : createHash('sha1').update(raw).digest('hex');
        const written = await this.redis.eval(WRITE, 2, this.key, commit, read, JSON.stringify(state), COMMIT_KEPT_MS);
        if (written === 1) {
          this.#last = state;
          return result;
        }
        if (tries >= MAX_TRIES) throw new Error(`the fleet's queue changed ${MAX_TRIES} times under one change`);
      }
    });
  }

  /** The state and Redis's clock, in one round trip (every process reads the same clock: no host's skew counts). */
  async #readWithTime(): Promise<[string | null, number]> {
    const replies = await this.redis.pipeline().get(this.key).time().exec();
    const [[readError, raw], [timeError, time]] = replies as [[Error | null, string | null], [Error | null, string[]]];
    if (readError) throw readError;
    if (timeError) throw timeError;
    return [raw, Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)];
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
