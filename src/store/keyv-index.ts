/**
 * An index kept as one JSON array of ids per key, for stores without a list type (SQLite through keyv). Updates are
 * read-modify-write, serialised per key by the store's mutex: safe within one process, which is all SQLite serves
 * (several bot processes sharing state use Redis, whose index is atomic on the server).
 */
import { z } from 'zod';
import { createCollection, type CollectionContext } from './collection.js';
import { assertKey, indexKey, type Index, type IndexOptions } from './store.js';

const idListSchema = z.array(z.string().min(1));

/** Builds the index `name` over the store's keyv. */
export function createKeyvIndex(context: CollectionContext, name: string, options: IndexOptions = {}): Index {
  const lists = createCollection(context, {
    name,
    schema: idListSchema,
    version: 1,
    fullKey: (key) => indexKey(name, key),
  });
  const cap = options.cap ?? Number.POSITIVE_INFINITY;

  const read = async (key: string): Promise<string[]> => (await lists.get(key)) ?? [];

  return {
    add: async (key, id) => {
      assertKey(id);
      await lists.update(key, (ids = []) => [id, ...ids.filter((other) => other !== id)].slice(0, cap));
    },
    remove: async (key, id) => {
      await lists.update(key, (ids = []) => {
        const rest = ids.filter((other) => other !== id);
        return rest.length > 0 ? rest : undefined;
      });
    },
    list: async (key, range = {}) => {
      const offset = range.offset ?? 0;
      return (await read(key)).slice(offset, range.limit === undefined ? undefined : offset + range.limit);
    },
    count: async (key) => (await read(key)).length,
  };
}
