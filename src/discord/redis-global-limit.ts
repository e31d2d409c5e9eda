/**
 * The bot's global REST limit shared by every process of a fleet through Redis (`STORE_URL=redis://…`): one sliding
 * window of grants per bot, kept in a sorted set that a Lua script reads and writes atomically, on Redis's own clock
 * (TIME), so processes on hosts whose clocks differ still count one window.
 *
 * Why this and not @discordjs/proxy: the proxy is one more process to run, monitor and keep alive (every process's
 * REST would stop with it), and it holds its limits in its own memory, so it shares them only while there is exactly
 * one of it. The fleet already has Redis; the limit costs one round trip per request (bench/global-limit.ts).
 *
 * When Redis does not answer, the process falls back to counting alone (50 per second for itself), logs it once, and
 * counts in Redis again as soon as Redis answers: Discord's 429s (which discord.js waits out) are better than no REST.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import type { Logger } from '../logger.js';
import { GLOBAL_REQUESTS, GLOBAL_WINDOW_MS, LocalWindow, SlotQueue, type GlobalLimit } from './global-limit.js';

// KEYS[1] the window (a sorted set of grants scored by time), KEYS[2] the pause after a global 429.
// ARGV[1] requests per window, ARGV[2] the window in ms, ARGV[3] a unique name for this grant.
// Returns 0 when the request may go, else the milliseconds to wait before asking again.
const TAKE_SLOT = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
`;

// KEYS[1] the pause; ARGV[1] its length in ms. A shorter pause never cuts a longer one short.
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');
const SCRIPTS = { takeSlot: { text: TAKE_SLOT, sha: sha1(TAKE_SLOT) }, pause: { text: PAUSE, sha: sha1(PAUSE) } };

type RedisClient = ReturnType<typeof createClient>;

/** Where and how the shared limit counts. */
export interface RedisGlobalLimitOptions {
  readonly url: string;
  /** The bot's application id: two bots on one Redis have two limits. */
  readonly botId: string;
  readonly logger: Logger;
  readonly requests?: number;
  readonly windowMs?: number;
  readonly connectTimeoutMs?: number;
}

/** Connects to Redis and returns the fleet-wide limit; throws when Redis does not answer within the timeout. */
export async function openRedisGlobalLimit(options: RedisGlobalLimitOptions): Promise<GlobalLimit> {
  const client = await connect(options.url, options.connectTimeoutMs ?? 5_000);
  return createRedisGlobalLimit(client, options, () => client.close());
}

/** The limit over an open client (tests and the benchmark pass their own). */
export function createRedisGlobalLimit(
  client: RedisClient,
  options: Omit<RedisGlobalLimitOptions, 'url'>,
  closeClient: () => Promise<unknown> = async () => undefined,
): GlobalLimit {
  const requests = options.requests ?? GLOBAL_REQUESTS;
  const windowMs = options.windowMs ?? GLOBAL_WINDOW_MS;
  // A hash tag keeps both keys in one slot of a Redis Cluster, as a script touching both needs.
  const prefix = `comfycord:{discord-global-limit:${options.botId}}`;
  const keys = [`${prefix}:window`, `${prefix}:pause`];
  const grantPrefix = randomUUID();
  let grants = 0;
  const fallback = new LocalWindow(requests, windowMs);
  const outage = outageLog(options.logger);

  const queue = new SlotQueue(async () => {
    grants += 1;
    try {
      const wait = await run(client, SCRIPTS.takeSlot, keys, [
        String(requests),
        String(windowMs),
        `${grantPrefix}:${grants}`,
      ]);
      outage.over();
      return Number(wait);
    } catch (error) {
      outage.began(error);
      return fallback.trySlot(Date.now());
    }
  });

  return {
    take: (signal) => queue.take(signal),
    pause: async (ms) => {
      fallback.pause(Date.now() + ms);
      try {
        await run(client, SCRIPTS.pause, [keys[1]!], [String(Math.ceil(ms))]);
      } catch (error) {
        outage.began(error);
      }
    },
    close: async () => {
      if (client.isOpen) await closeClient();
    },
  };
}

/** EVALSHA, loading the script with EVAL when this Redis has not seen it yet (or forgot it in a restart). */
async function run(client: RedisClient, script: { text: string; sha: string }, keys: string[], args: string[]) {
  try {
    return await client.evalSha(script.sha, { keys, arguments: args });
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.text, { keys, arguments: args });
  }
}

/** Logs the start of an outage once and its end once, not every failed request. */
function outageLog(logger: Logger) {
  let down = false;
  return {
    began(error: unknown) {
      if (down) return;
      down = true;
      logger.warn(
        { err: error },
        "Redis did not answer the shared Discord rate limit; this process counts Discord's global limit alone until it does",
      );
    },
    over() {
      if (!down) return;
      down = false;
      logger.info('Redis answers again: the Discord global limit is shared with the fleet again');
    },
  };
}

async function connect(url: string, timeoutMs: number): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url,
    // A request must not hang while Redis is away: it falls back to the local count at once instead.
    disableOfflineQueue: true,
    socket: { connectTimeout: timeoutMs, reconnectStrategy: (attempt: number) => Math.min(2 ** attempt * 100, 2_000) },
  });
  // node-redis emits `error` for every failed reconnect; the outage log speaks for them.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return client;
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new Error(`Could not connect to Redis for the shared Discord rate limit: ${String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
