/**
 * The Redis store (`redis://host:6379`), for a bot that keeps its state on a Redis server (one bot process per store:
 * several processes cannot share one yet, and the store's lease refuses a second). Indexes are native Redis lists
 * changed in MULTI transactions; records and index lists with a time to live are expired by the server itself.
 */
import KeyvRedis, { createClient } from '@keyv/redis';
import type { Logger } from '../logger.js';
import { createKeyv, type Backend } from './backend.js';
import { createRedisBlobs } from './redis-blobs.js';
import { createRedisIndex, type RedisClient } from './redis-index.js';
import { createRedisLeases } from './redis-leases.js';

/** Reconnect backoff after a dropped connection: 100 ms doubling to at most 2 s, forever. */
const reconnectDelay = (attempt: number): number => Math.min(2 ** attempt * 100, 2_000);

/** Connects to the Redis server `url` names, failing after `connectTimeoutMs` when it does not answer. */
export async function openRedisBackend(url: string, logger: Logger, connectTimeoutMs: number): Promise<Backend> {
  const client: RedisClient = createClient({
    url,
    // Without this a command issued while the server is away waits until it is back: handlers would hang instead
    // of telling the member that something failed.
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectDelay },
  });
  watchConnection(client, logger, redactUrl(url));
  await connectWithin(client, connectTimeoutMs, redactUrl(url));
  const keyv = createKeyv(new KeyvRedis(client, { throwOnErrors: true }));
  logger.info({ url: redactUrl(url) }, 'Connected to the Redis store');
  return {
    kind: 'redis',
    keyv,
    createIndex: (context, name, options) => createRedisIndex({ ...context, client }, name, options),
    createBlobs: (context, shelf, options) => {
      context.assertOpen();
      return createRedisBlobs(client, shelf, options);
    },
    // Redis deletes expired keys by itself.
    sweep: async () => 0,
    leases: createRedisLeases(client),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

async function connectWithin(client: RedisClient, timeoutMs: number, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (error) {
    // node-redis keeps retrying a failed first connection; stop it so the process can exit.
    if (client.isOpen) client.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not connect to the Redis store at ${url}: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Logs a lost connection once, and its recovery, rather than every failed reconnect attempt. */
function watchConnection(client: RedisClient, logger: Logger, url: string): void {
  let state: 'starting' | 'ready' | 'lost' = 'starting';
  // node-redis emits `error` for every failed attempt; an EventEmitter with no listener would crash the process.
  client.on('error', (error: unknown) => {
    if (state !== 'ready') return;
    state = 'lost';
    logger.warn({ url, err: error }, 'Lost the connection to the Redis store; reconnecting');
  });
  client.on('ready', () => {
    if (state === 'lost') logger.info({ url }, 'Reconnected to the Redis store');
    state = 'ready';
  });
}

/** The URL without its user name and password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis://(unparsable URL)';
  }
}
