/**
 * An index kept as a native Redis list per key. Each change is one MULTI transaction (remove the id, push it to the
 * front, trim to the cap, renew its time to live), so no reader ever sees a half-made change.
 */
import type { createClient } from '@keyv/redis';
import type { Logger } from '../logger.js';
import { assertKey, indexKey, type Index, type IndexOptions, type IndexRange } from './store.js';

/** The node-redis client the Redis store connects with. */
export type RedisClient = ReturnType<typeof createClient>;

/** What a Redis index needs from the store that owns it. */
export interface RedisIndexContext {
  readonly client: RedisClient;
  readonly logger: Logger;
  readonly assertOpen: () => void;
}

/** Builds the index `name` over native Redis lists. */
export function createRedisIndex(context: RedisIndexContext, name: string, options: IndexOptions = {}): Index {
  return new RedisIndex(context, name, options);
}

class RedisIndex implements Index {
  readonly #client: RedisClient;
  readonly #assertOpen: () => void;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #cap: number | undefined;
  readonly #ttlMs: number | undefined;

  constructor(context: RedisIndexContext, name: string, options: IndexOptions) {
    this.#name = name;
    this.#cap = options.cap;
    this.#ttlMs = options.ttlMs;
    this.#client = context.client;
    this.#assertOpen = context.assertOpen;
    this.#logger = context.logger.child({ index: name });
  }

  async add(key: string, id: string): Promise<void> {
    assertKey(id);
    const listKey = this.#listKey(key);
    const pushed = await this.#tolerateWrongType(key, async () => this.#push(listKey, id).then(() => true), false);
    if (pushed) return;
    // The broken value is replaced rather than left to fail every later add.
    await this.#client.del(listKey);
    await this.#push(listKey, id);
  }

  async remove(key: string, id: string): Promise<void> {
    const listKey = this.#listKey(key);
    await this.#tolerateWrongType(key, async () => this.#client.lRem(listKey, 0, id), 0);
  }

  async list(key: string, range: IndexRange = {}): Promise<string[]> {
    const listKey = this.#listKey(key);
    const start = range.offset ?? 0;
    const stop = range.limit === undefined ? -1 : start + range.limit - 1;
    if (stop !== -1 && stop < start) return [];
    return this.#tolerateWrongType(key, async () => this.#client.lRange(listKey, start, stop), []);
  }

  async count(key: string): Promise<number> {
    const listKey = this.#listKey(key);
    return this.#tolerateWrongType(key, async () => this.#client.lLen(listKey), 0);
  }

  /** One transaction: no other client sees the id missing, twice, or the list over its cap. */
  async #push(listKey: string, id: string): Promise<void> {
    const transaction = this.#client.multi().lRem(listKey, 0, id).lPush(listKey, id);
    if (this.#cap !== undefined) transaction.lTrim(listKey, 0, this.#cap - 1);
    if (this.#ttlMs !== undefined) transaction.pExpire(listKey, this.#ttlMs);
    await transaction.exec();
  }

  // A key of another type (set by hand, or by something else sharing the database) reads as an empty list.
  async #tolerateWrongType<T>(key: string, work: () => Promise<T>, empty: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isWrongType(error)) throw error;
      this.#logger.warn({ key }, 'Index key holds something other than a list; treating it as empty');
      return empty;
    }
  }

  #listKey(key: string): string {
    this.#assertOpen();
    assertKey(key);
    return indexKey(this.#name, key);
  }
}

function isWrongType(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.message.startsWith('WRONGTYPE')) return true;
  // A failed MULTI reports each command's error in `replies`.
  const replies = (error as { replies?: unknown }).replies;
  return Array.isArray(replies) && replies.some((reply) => reply instanceof Error && isWrongType(reply));
}
