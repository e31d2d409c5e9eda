/**
 * Opens the store a URL names (`sqlite://…` or `redis://…`) and hands out its collections and indexes.
 */
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Backend } from './backend.js';
import { createCollection, type CollectionContext } from './collection.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { Leases } from './lease.js';
import { openRedisBackend } from './redis-backend.js';
import { openSqliteBackend } from './sqlite-backend.js';
import { assertName, type Store } from './store.js';

/** Tuning for `openStore`; the defaults suit a bot. */
export interface StoreOptions {
  /** How long to wait for a Redis server to answer at start before giving up. */
  readonly connectTimeoutMs?: number;
  /** How often expired rows are deleted (SQLite); the first sweep runs at open. Default 10 minutes. */
  readonly sweepIntervalMs?: number;
}

const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** Opens the store `url` names; throws a sentence naming the store when it cannot be opened. */
export async function openStore(url: string, logger: Logger, options: StoreOptions = {}): Promise<Store> {
  const storeLogger = logger.child({ module: 'store' });
  const backend = await openBackend(url, storeLogger, options);
  return assembleStore(backend, storeLogger, options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
}

async function openBackend(url: string, logger: Logger, options: StoreOptions): Promise<Backend> {
  if (url.startsWith('sqlite://')) return openSqliteBackend(url, logger);
  if (/^rediss?:\/\//.test(url)) return openRedisBackend(url, logger, options.connectTimeoutMs ?? 10_000);
  throw new Error(`The store URL must start with sqlite:// or redis://, not "${url.split(':')[0]}:".`);
}

function assembleStore(backend: Backend, logger: Logger, sweepIntervalMs: number): Store {
  const mutex = new KeyedMutex();
  let closed = false;
  let sweeping: Promise<number> | undefined;
  const sweep = async (): Promise<number> => {
    if (closed) throw new Error('The store is closed.');
    // One sweep at a time: a slow one is not overtaken by the next tick.
    sweeping ??= backend.sweep(Date.now()).finally(() => (sweeping = undefined));
    return sweeping;
  };
  const sweepInBackground = () => {
    sweep().then(
      (removed) => {
        if (removed > 0) logger.info({ removed }, 'Deleted expired rows from the store');
      },
      (error: unknown) => {
        if (!closed) logger.warn({ err: error }, 'Sweeping expired rows failed; trying again later');
      },
    );
  };
  sweepInBackground();
  // Unref'd: a pending sweep never keeps a stopping process alive.
  const sweepTimer = setInterval(sweepInBackground, sweepIntervalMs).unref();
  const context: CollectionContext = {
    keyv: backend.keyv,
    mutex,
    logger,
    assertOpen: () => {
      if (closed) throw new Error('The store is closed.');
    },
  };
  return {
    kind: backend.kind,
    collection: <Schema extends z.ZodType>(name: string, schema: Schema, options: { version: number }) => {
      assertName(name);
      if (!Number.isSafeInteger(options.version) || options.version < 1) {
        throw new Error(`A collection's version is a whole number from 1, not ${options.version}.`);
      }
      return createCollection(context, { name, schema, version: options.version });
    },
    index: (name, options = {}) => {
      assertName(name);
      if (options.cap !== undefined && (!Number.isSafeInteger(options.cap) || options.cap < 1)) {
        throw new Error(`An index's cap is a whole number from 1, not ${options.cap}.`);
      }
      if (options.ttlMs !== undefined && (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 1)) {
        throw new Error(`An index's time to live is a whole number of milliseconds from 1, not ${options.ttlMs}.`);
      }
      return backend.createIndex(context, name, options);
    },
    blobs: (shelf, options) => {
      assertName(shelf);
      if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 1) {
        throw new Error(`A blob shelf's time to live is a whole number of milliseconds from 1, not ${options.ttlMs}.`);
      }
      return backend.createBlobs?.(context, shelf, options);
    },
    sweep,
    leases: guardedLeases(backend.leases, context.assertOpen),
    close: async () => {
      if (closed) return;
      clearInterval(sweepTimer);
      // Let updates and a sweep in flight finish their write before the connection goes.
      await mutex.idle();
      await sweeping?.catch(() => undefined);
      closed = true;
      await backend.close();
    },
  };
}

/** The backend's leases, refusing to be used once the store is closed. */
function guardedLeases(leases: Leases, assertOpen: () => void): Leases {
  return {
    claim: async (...args) => (assertOpen(), leases.claim(...args)),
    renew: async (...args) => (assertOpen(), leases.renew(...args)),
    takeOver: async (...args) => (assertOpen(), leases.takeOver(...args)),
    release: async (...args) => (assertOpen(), leases.release(...args)),
    holder: async (...args) => (assertOpen(), leases.holder(...args)),
  };
}
