/**
 * A typed collection over keyv: every value is wrapped with its schema version, validated on write and re-validated
 * on read. A value that no longer fits (hand-edited, written by an older or newer release) is logged at warn with its
 * key and read as absent, so a stale row never crashes a handler.
 */
import type { Keyv } from 'keyv';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import { envelopeSchema, UnreadableValue } from './codec.js';
import type { KeyedMutex } from './keyed-mutex.js';
import { assertKey, recordKey, type Collection } from './store.js';

/** What a collection needs from the store that owns it. */
export interface CollectionContext {
  readonly keyv: Keyv;
  readonly mutex: KeyedMutex;
  readonly logger: Logger;
  /** Throws once the store is closed. */
  readonly assertOpen: () => void;
}

/** Where and how a collection's records are kept. */
export interface CollectionSpec<Schema extends z.ZodType> {
  readonly name: string;
  readonly schema: Schema;
  readonly version: number;
  /** The keyv key of a record; `comfycord:record:<name>:<key>` unless the store keeps something else this way. */
  readonly fullKey?: (key: string) => string;
}

/** Builds a collection of records checked by `spec.schema`, stored at `spec.version`. */
export function createCollection<Schema extends z.ZodType>(
  context: CollectionContext,
  spec: CollectionSpec<Schema>,
): Collection<z.output<Schema>> {
  type Value = z.output<Schema>;
  const { keyv, mutex, assertOpen } = context;
  const { name, schema, version } = spec;
  const fullKey = spec.fullKey ?? ((key: string) => recordKey(name, key));
  const logger = context.logger.child({ collection: name });

  const read = async (key: string): Promise<Value | undefined> => {
    assertOpen();
    assertKey(key);
    const stored: unknown = await keyv.get(fullKey(key));
    if (stored === undefined) return undefined;
    const problem = checkEnvelope(stored, version);
    if (typeof problem === 'string') {
      logger.warn({ key, problem }, 'Stored value is unreadable; treating it as absent');
      return undefined;
    }
    const parsed = schema.safeParse(problem.data);
    if (!parsed.success) {
      logger.warn({ key, issues: parsed.error.issues }, 'Stored value fails validation; treating it as absent');
      return undefined;
    }
    return parsed.data;
  };

  const write = async (key: string, value: Value, ttlMs?: number): Promise<void> => {
    assertOpen();
    assertKey(key);
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new Error(`Refusing to store an invalid ${name} record under "${key}": ${parsed.error.message}`);
    }
    await keyv.set(fullKey(key), { v: version, data: parsed.data }, ttlMs);
  };

  const remove = async (key: string): Promise<boolean> => {
    assertOpen();
    assertKey(key);
    return keyv.delete(fullKey(key));
  };

  // Writes share the update lock, so a plain set or delete never lands inside another caller's update.
  return {
    get: read,
    set: async (key, value, ttlMs) => mutex.run(fullKey(key), async () => write(key, value, ttlMs)),
    delete: async (key) => mutex.run(fullKey(key), async () => remove(key)),
    update: async (key, change, ttlMs) =>
      mutex.run(fullKey(key), async () => {
        const next = change(await read(key));
        if (next === undefined) await remove(key);
        else await write(key, next, ttlMs);
        return next;
      }),
  };
}

/** The envelope's data, or a sentence saying why the stored value cannot be used. */
function checkEnvelope(stored: unknown, version: number): { data: unknown } | string {
  if (stored instanceof UnreadableValue) return stored.reason;
  const envelope = envelopeSchema.safeParse(stored);
  if (!envelope.success) return 'not a versioned record';
  if (envelope.data.v !== version) return `stored with schema version ${envelope.data.v}, expected ${version}`;
  return { data: envelope.data.data };
}
