/**
 * The fleet's fence between a job's queue positions and the later states of its card.
 *
 * The dispatching process shows waiting jobs' positions on their cards; once a job leaves the queue, whichever process
 * carries it edits the card (progress, then the finished card). Discord keeps the last edit it receives, so a position
 * edit that lands after the carrier's edits replaces them: a stale "Queued, position 3" over a finished card, its
 * pictures gone. The dispatcher tells its own card edits when a job leaves (`leaving-queue`), but that cannot cover
 * edits it does not know to drop: a dispatcher that lost its lease while alive (a long stall, a Redis hiccup) still has
 * positions to send, and a job cancelled through another process may be posted before the dispatcher's next pass.
 *
 * So the rule is kept in Redis, per job, for every process alike:
 * - a position edit begins only while the job's fence is open, and says so (a marker with an expiry) in the same atomic
 *   step; it takes the marker away when its edit has answered;
 * - before its first edit of any later state (and before the finished card), a process closes the fence (from then on
 *   every position edit is refused) and waits until no marker is left (each expires: an edit is aborted before its
 *   marker does).
 * Either a position edit began before the fence closed, and the later state waits for it to answer, or it is refused:
 * no position reaches the card after a later state, whoever sends it. Both steps are Lua scripts (atomic in Redis) and
 * read Redis's own clock, so the hosts' clocks play no part.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/** How the card layer asks before a position edit and before a later state (see the header). */
export interface PositionFence {
  /**
   * Before a position edit of the job's card: a function that ends it (call it once the edit has answered), or
   * undefined when the card has moved on and the position must not be sent.
   */
  begin(jobId: string): Promise<(() => Promise<void>) | undefined>;
  /** Before a later state: no position edit begins from now on; resolves once none is under way in any process. */
  close(jobId: string): Promise<void>;
}

/** How long a position edit may be under way (its request is aborted before: `POSITION_EDIT_TIMEOUT_MS`). */
export const POSITION_MARKER_MS = 30_000;
/** A position edit still unanswered after this is aborted, well before its marker expires. */
export const POSITION_EDIT_TIMEOUT_MS = 20_000;
/** The fence stays closed for as long as a job's card is ever edited (a day of redeliveries, and a margin). */
const FENCE_MS = 2 * 24 * 3600 * 1000;
/** How often a closing process looks again for position edits under way (each lasts one round trip to Discord). */
const CLOSE_POLL_MS = 25;

const fenceKey = (jobId: string) => `comfycord:fleet:card:${jobId}:closed`;
const editsKey = (jobId: string) => `comfycord:fleet:card:${jobId}:positions`;

/** Redis's clock in milliseconds, inside a script (every process of the fleet reads the same one). */
const NOW = `local time = redis.call('TIME') local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

/** KEYS: fence, edits. ARGV: marker, marker ms. 1 when the edit may begin (its marker set), else 0. */
const BEGIN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
${NOW}
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1`;

/** KEYS: fence, edits. ARGV: fence ms. How many position edits are still under way (their markers unexpired). */
const CLOSE = `
redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[1]))
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZCARD', KEYS[2])`;

/** The fence of a fleet, in Redis. */
export class RedisPositionFence implements PositionFence {
  #markers = 0;

  constructor(
    private readonly redis: Redis,
    private readonly owner: string,
  ) {}

  async begin(jobId: string): Promise<(() => Promise<void>) | undefined> {
    const marker = `${this.owner}:${++this.#markers}`;
    const begun = await this.redis.eval(BEGIN, 2, fenceKey(jobId), editsKey(jobId), marker, POSITION_MARKER_MS);
    if (begun !== 1) return undefined;
    return async () => {
      await this.redis.zrem(editsKey(jobId), marker);
    };
  }

  async close(jobId: string): Promise<void> {
    for (;;) {
      const underWay = await this.redis.eval(CLOSE, 2, fenceKey(jobId), editsKey(jobId), FENCE_MS);
      if (underWay === 0) return;
      await sleep(CLOSE_POLL_MS);
    }
  }
}
