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
  return new KeyvCollection(context, spec);
}

class KeyvCollection<Schema extends z.ZodType> implements Collection<z.output<Schema>> {
  readonly #context: CollectionContext;
  readonly #spec: CollectionSpec<Schema>;
  readonly #logger: Logger;

  constructor(context: CollectionContext, spec: CollectionSpec<Schema>) {
    this.#context = context;
    this.#spec = spec;
    this.#logger = context.logger.child({ collection: spec.name });
  }

  async get(key: string): Promise<z.output<Schema> | undefined> {
    const stored: unknown = await this.#keyv(key).get(this.#fullKey(key));
    if (stored === undefined) return undefined;
    const envelope = checkEnvelope(stored, this.#spec.version);
    if (typeof envelope === 'string') {
      this.#logger.warn({ key, problem: envelope }, 'Stored value is unreadable; treating it as absent');
      return undefined;
    }
    const parsed = this.#spec.schema.safeParse(envelope.data);
    if (!parsed.success) {
      this.#logger.warn({ key, issues: parsed.error.issues }, 'Stored value fails validation; treating it as absent');
      return undefined;
    }
    return parsed.data;
  }

  // Writes share the update lock, so a plain set or delete never lands inside another caller's update.
  async set(key: string, value: z.output<Schema>, ttlMs?: number): Promise<void> {
    await this.#locked(key, async () => this.#write(key, value, ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    return this.#locked(key, async () => this.#keyv(key).delete(this.#fullKey(key)));
  }

  async update(
    key: string,
    change: (current: z.output<Schema> | undefined) => z.output<Schema> | undefined,
    ttlMs?: number,
  ): Promise<z.output<Schema> | undefined> {
    return this.#locked(key, async () => {
      const next = change(await this.get(key));
      if (next === undefined) await this.#keyv(key).delete(this.#fullKey(key));
      else await this.#write(key, next, ttlMs);
      return next;
    });
  }

  async #write(key: string, value: z.output<Schema>, ttlMs: number | undefined): Promise<void> {
    const parsed = this.#spec.schema.safeParse(value);
    if (!parsed.success) {
      throw new Error(`Refusing to store an invalid ${this.#spec.name} record under "${key}": ${parsed.error.message}`);
    }
    await this.#keyv(key).set(this.#fullKey(key), { v: this.#spec.version, data: parsed.data }, ttlMs);
  }

  async #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.#context.mutex.run(this.#fullKey(key), work);
  }

  /** The keyv to use, after checking that the store is open and the key is usable. */
  #keyv(key: string): Keyv {
    this.#context.assertOpen();
    assertKey(key);
    return this.#context.keyv;
  }

  #fullKey(key: string): string {
    return this.#spec.fullKey?.(key) ?? recordKey(this.#spec.name, key);
  }
}

/** The envelope's data, or a sentence saying why the stored value cannot be used. */
function checkEnvelope(stored: unknown, version: number): { data: unknown } | string {
  if (stored instanceof UnreadableValue) return stored.reason;
  const envelope = envelopeSchema.safeParse(stored);
  if (!envelope.success) return 'not a versioned record';
  if (envelope.data.v !== version) return `stored with schema version ${envelope.data.v}, expected ${version}`;
  return { data: envelope.data.data };
}
