/**
 * Leases on the Redis server: `SET NX PX` takes a free one (an expired key is gone), and renewing, taking over or
 * releasing run as Lua scripts that first check who holds it, so no process ever extends or drops another's lease.
 */
import { z } from 'zod';
import { leaseKey, type LeaseHolder, type Leases } from './lease.js';
import type { RedisClient } from './redis-index.js';

const holderSchema = z.object({
  id: z.string(),
  pid: z.number(),
  host: z.string(),
  startedAt: z.number(),
  machine: z.string().optional(),
});

// KEYS[1] the lease; ARGV[1] the holder id it must have. cjson ships with every Redis (and Valkey) Lua runtime.
const HELD_BY =
  "local v = redis.call('GET', KEYS[1]); if not v then return false end; " +
  "local ok, h = pcall(cjson.decode, v); if not ok or type(h) ~= 'table' or h.id ~= ARGV[1] then return false end; ";
const RENEW = `${HELD_BY} return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;
const TAKE_OVER = `${HELD_BY} redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]); return 1`;
const RELEASE = `${HELD_BY} return redis.call('DEL', KEYS[1])`;

/** The leases of the Redis store whose connection is `client`. */
export function createRedisLeases(client: RedisClient): Leases {
  const run = async (script: string, key: string, args: string[]): Promise<boolean> =>
    Boolean(await client.eval(script, { keys: [key], arguments: args }));

  return {
    claim: async (name, holder, ttlMs) => {
      const key = leaseKey(name);
      for (;;) {
        const now = Date.now();
        if ((await client.set(key, JSON.stringify(holder), { NX: true, PX: ttlMs })) === 'OK') {
          return { acquired: true, expiresAt: now + ttlMs };
        }
        const [value, remainingMs] = await Promise.all([client.get(key), client.pTTL(key)]);
        // Expired between the two calls: try again.
        if (value === null || remainingMs < 0) continue;
        const current = parseHolder(value);
        if (current.id === holder.id) {
          await run(RENEW, key, [holder.id, String(ttlMs)]);
          return { acquired: true, expiresAt: now + ttlMs };
        }
        return { acquired: false, holder: current, expiresAt: now + remainingMs };
      }
    },
    renew: async (name, holderId, ttlMs) => run(RENEW, leaseKey(name), [holderId, String(ttlMs)]),
    takeOver: async (name, staleHolderId, holder, ttlMs) =>
      run(TAKE_OVER, leaseKey(name), [staleHolderId, JSON.stringify(holder), String(ttlMs)]),
    release: async (name, holderId) => {
      await run(RELEASE, leaseKey(name), [holderId]);
    },
    // An expired key is gone: what GET returns is held.
    holder: async (name) => {
      const value = await client.get(leaseKey(name));
      return value === null ? undefined : parseHolder(value);
    },
  };
}

function parseHolder(value: string): LeaseHolder {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(value));
    if (parsed.success) return parsed.data;
  } catch {
    // Falls through: something else wrote the key; it still blocks the lease until it expires.
  }
  return { id: 'unknown', pid: 0, host: 'unknown', startedAt: 0 };
}
