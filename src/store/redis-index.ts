/**
 * An index kept as a native Redis list per key. Each change is one MULTI transaction (remove the id, push it to the
 * front, trim to the cap), so several bot processes sharing the server never lose each other's entries.
 */
import type { createClient } from '@keyv/redis';
import type { Logger } from '../logger.js';
import { assertKey, indexKey, type Index, type IndexOptions } from './store.js';

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
  const { client, assertOpen } = context;
  const logger = context.logger.child({ index: name });
  const cap = options.cap;

  const keyOf = (key: string): string => {
    assertOpen();
    assertKey(key);
    return indexKey(name, key);
  };

  // A key of another type (set by hand, or by something else sharing the database) reads as an empty list.
  const tolerateWrongType = async <T>(key: string, work: () => Promise<T>, empty: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (!isWrongType(error)) throw error;
      logger.warn({ key }, 'Index key holds something other than a list; treating it as empty');
      return empty;
    }
  };

  const push = async (listKey: string, id: string): Promise<void> => {
    const transaction = client.multi().lRem(listKey, 0, id).lPush(listKey, id);
    if (cap !== undefined) transaction.lTrim(listKey, 0, cap - 1);
    await transaction.exec();
  };

  return {
    add: async (key, id) => {
      assertKey(id);
      const listKey = keyOf(key);
      const pushed = await tolerateWrongType(key, async () => push(listKey, id).then(() => true), false);
      if (pushed) return;
      // The broken value is replaced rather than left to fail every later add.
      await client.del(listKey);
      await push(listKey, id);
    },
    remove: async (key, id) => {
      const listKey = keyOf(key);
      await tolerateWrongType(key, async () => client.lRem(listKey, 0, id), 0);
    },
    list: async (key, range = {}) => {
      const listKey = keyOf(key);
      const start = range.offset ?? 0;
      const stop = range.limit === undefined ? -1 : start + range.limit - 1;
      if (stop !== -1 && stop < start) return [];
      return tolerateWrongType(key, async () => client.lRange(listKey, start, stop), []);
    },
    count: async (key) => {
      const listKey = keyOf(key);
      return tolerateWrongType(key, async () => client.lLen(listKey), 0);
    },
  };
}

function isWrongType(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.message.startsWith('WRONGTYPE')) return true;
  // A failed MULTI reports each command's error in `replies`.
  const replies = (error as { replies?: unknown }).replies;
  return Array.isArray(replies) && replies.some((reply) => reply instanceof Error && isWrongType(reply));
}
