/**
 * Shared blobs on the Redis server. A blob is one string key (`comfycord:blob:<shelf>:<name>`, the raw bytes) that
 * expires by itself `ttlMs` after its last use; the shelf's catalogue is a sorted set of names scored by their last
 * use and a hash of their sizes. Writes change the key and the catalogue in one MULTI; touching and deleting run as Lua
 * scripts, so a sweep's delete and another process's touch of the same blob cannot interleave. Entries whose key has
 * expired are pruned from the catalogue whenever it is written or listed. (Scripts name the blob keys they prune in
 * arguments: a standalone Redis, or one primary, as the fleet's BullMQ queue needs anyway.)
 */
import { KEY_PREFIX } from './store.js';
import {
  assertBlobName,
  BlobTooLargeError,
  type BlobShelfOptions,
  type SharedBlob,
  type SharedBlobs,
} from './blobs.js';
import type { RedisClient } from './redis-index.js';

/** RESP's bulk string (`$`, RESP_TYPES.BLOB_STRING in @redis/client): mapped to a Buffer, so bytes stay bytes. */
const BULK_STRING = 36;

// KEYS: blob, catalogue. ARGV: name, now, ttl. Renews the blob's expiry and its last use, if it is still there.
const TOUCH =
  "if redis.call('PEXPIRE', KEYS[1], ARGV[3]) == 1 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]); return 1 end; " +
  'return 0';
// KEYS: blob, catalogue, sizes. ARGV: name, the last use the sweep saw. Deletes only a blob nobody used since.
const DELETE_UNLESS_USED =
  "local used = redis.call('ZSCORE', KEYS[2], ARGV[1]); " +
  'if used and tonumber(used) > tonumber(ARGV[2]) then return 0 end; ' +
  "redis.call('DEL', KEYS[1]); redis.call('ZREM', KEYS[2], ARGV[1]); redis.call('HDEL', KEYS[3], ARGV[1]); return 1";
// KEYS: catalogue, sizes. ARGV: a last use before which a blob may have expired, the blobs' key prefix. Drops the
// entries whose key is gone (decided by the key, not by this host's clock, which may run ahead of the writer's).
const PRUNE =
  "local gone = 0; for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do " +
  "if redis.call('EXISTS', ARGV[2] .. name) == 0 then " +
  "redis.call('ZREM', KEYS[1], name); redis.call('HDEL', KEYS[2], name); gone = gone + 1 end end; return gone";

/** The shelf `shelf` of the Redis store whose connection is `client`. */
export function createRedisBlobs(client: RedisClient, shelf: string, options: BlobShelfOptions): SharedBlobs {
  const catalogue = `${KEY_PREFIX}:blobs:${shelf}`;
  const sizes = `${KEY_PREFIX}:blob-sizes:${shelf}`;
  const prefix = `${KEY_PREFIX}:blob:${shelf}:`;
  const keyOf = (name: string) => {
    assertBlobName(name);
    return `${prefix}${name}`;
  };
  const binary = client.withTypeMapping({ [BULK_STRING]: Buffer });
  const prune = async (now: number) =>
    client.eval(PRUNE, { keys: [catalogue, sizes], arguments: [String(now - options.ttlMs), prefix] });
  return {
    maxBytes: options.maxBytes,
    put: async (name, bytes, now = Date.now()) => {
      const key = keyOf(name);
      if (bytes.length > options.maxBytes) throw new BlobTooLargeError(bytes.length, options.maxBytes);
      await client
        .multi()
        .set(key, bytes, { PX: options.ttlMs })
        .zAdd(catalogue, { score: now, value: name })
        .hSet(sizes, name, String(bytes.length))
        .exec();
      await prune(now);
    },
    touch: async (name, now = Date.now()) =>
      Boolean(
        await client.eval(TOUCH, {
          keys: [keyOf(name), catalogue],
          arguments: [name, String(now), String(options.ttlMs)],
        }),
      ),
    get: async (name) => {
      const value = (await binary.get(keyOf(name))) as unknown;
      return Buffer.isBuffer(value) ? value : undefined;
    },
    list: async (now = Date.now()) => {
      await prune(now);
      const [entries, sized] = await Promise.all([client.zRangeWithScores(catalogue, 0, -1), client.hGetAll(sizes)]);
      return entries.map(({ value, score }): SharedBlob => ({
        name: value,
        size: Number(sized[value] ?? 0),
        usedAt: score,
      }));
    },
    deleteUnlessUsedSince: async (name, usedAt) =>
      Boolean(
        await client.eval(DELETE_UNLESS_USED, {
          keys: [keyOf(name), catalogue, sizes],
          arguments: [name, String(usedAt)],
        }),
      ),
  };
}
