/**
 * Benchmark global-limit: what keeping Discord's global limit costs per request, alone in memory and shared through
 * Redis, and what rate a fleet reaches under it.
 *
 * 1. The slot itself: `take()` with budget to spare (it never waits), one after another: in memory, and in Redis
 *    (one EVALSHA round trip to a local redis-server).
 * 2. A whole REST request (discord.js → our transport → the fake Discord, GET /channels/:id) one at a time, with each
 *    limit: the difference is what the shared limit adds to a request.
 * 3. Three processes' worth of REST managers, each with its own Redis connection, sending as fast as they can against
 *    the fake Discord's real 50 per second: the rate they reach together, and how many the fake refused (it must be 0).
 *    That rate is the ceiling of every global call the bot makes, however many processes run.
 */
import { REST, Routes } from 'discord.js';
import { createLocalGlobalLimit, type GlobalLimit } from '../src/discord/global-limit.js';
import { openRedisGlobalLimit } from '../src/discord/redis-global-limit.js';
import { createDiscordTransport } from '../src/discord/rest-transport.js';
import { silentLogger } from '../src/logger.js';
import { startFakeDiscord, type FakeDiscord } from '../test/fakes/discord/index.js';
import { startRedisServer } from '../test/store/redis-server.js';
import type { BenchResult } from './lib/report.js';
import { summarize } from './lib/stats.js';

export interface GlobalLimitBenchOptions {
  /** Slots taken one after another per limit (part 1). */
  readonly takes: number;
  /** Requests sent one after another per limit (part 2). */
  readonly requests: number;
  /** Requests the three processes send together at the real limit (part 3). */
  readonly fleetRequests: number;
}

export const GLOBAL_LIMIT_DEFAULTS: GlobalLimitBenchOptions = { takes: 20_000, requests: 3_000, fleetRequests: 450 };

const UNLIMITED = { requests: 1e9, windowMs: 1000 };

export async function runGlobalLimitBench(options: GlobalLimitBenchOptions): Promise<BenchResult> {
  const redis = await startRedisServer();
  const fake = await startFakeDiscord({ globalRateLimit: false });
  try {
    const local = createLocalGlobalLimit(UNLIMITED.requests, UNLIMITED.windowMs);
    const shared = await openRedisGlobalLimit({ url: redis.url, botId: 'bench', logger: silentLogger(), ...UNLIMITED });
    const [takeLocal, takeRedis] = await timeAlternately(options.takes, [local, shared], (limit) => limit.take());
    const clients = [restWith(fake, local), restWith(fake, shared)] as const;
    const [requestLocal, requestRedis] = await timeAlternately(options.requests, clients, (client) =>
      client.rest.get(Routes.channel(fake.channel.id)),
    ).finally(() => Promise.all(clients.map((client) => client.close())));
    await shared.close();
    const fleet = await fleetRate(redis.url, options.fleetRequests);
    return {
      name: 'global-limit',
      title: "Discord's global limit: its cost per request, in memory and shared through Redis, and a fleet's rate",
      figures: [
        { label: 'slot in memory, p50', value: takeLocal.median, unit: 'µs' },
        { label: 'slot in Redis, p50', value: takeRedis.median, unit: 'µs', target: { op: '<', value: 1000 } },
        { label: 'slot in Redis, p99', value: takeRedis.p99, unit: 'µs' },
        { label: 'REST request, limit in memory, p50', value: requestLocal.median, unit: 'µs' },
        { label: 'REST request, limit in Redis, p50', value: requestRedis.median, unit: 'µs' },
        {
          label: 'added by Redis per request, p50',
          value: requestRedis.median - requestLocal.median,
          unit: 'µs',
          target: { op: '<', value: 1000 },
        },
        { label: '3 processes at the real limit', value: fleet.rate, unit: 'req/s', target: { op: '<=', value: 50 } },
        { label: 'refused by Discord (global 429)', value: fleet.refused, unit: '', target: { op: '<=', value: 0 } },
      ],
      details: { options, takeLocal, takeRedis, requestLocal, requestRedis, fleet },
    };
  } finally {
    await fake.close();
    await redis.stop();
  }
}

/**
 * Microseconds per call of `work` for each subject, taken in turns (a, b, a, b, …) after a warm-up, so that the
 * machine's load, which varies a lot here, weighs on both alike.
 */
async function timeAlternately<T>(count: number, subjects: readonly [T, T], work: (subject: T) => Promise<unknown>) {
  const samples: [number[], number[]] = [[], []];
  for (let index = -Math.min(200, count); index < count; index += 1) {
    for (const which of [0, 1] as const) {
      const started = process.hrtime.bigint();
      await work(subjects[which]);
      if (index >= 0) samples[which].push(Number(process.hrtime.bigint() - started) / 1000);
    }
  }
  return [summarize(samples[0]), summarize(samples[1])] as const;
}

/** Three processes' REST managers, each with its own Redis connection, against the fake's real limit. */
async function fleetRate(redisUrl: string, total: number) {
  const fake = await startFakeDiscord();
  const limits = await Promise.all(
    [1, 2, 3].map(() => openRedisGlobalLimit({ url: redisUrl, botId: fake.applicationId, logger: silentLogger() })),
  );
  const clients = limits.map((limit) => restWith(fake, limit));
  try {
    const started = Date.now();
    await Promise.all(
      Array.from({ length: total }, (_, index) => clients[index % 3]!.rest.get(Routes.channel(fake.channel.id))),
    );
    const seconds = (Date.now() - started) / 1000;
    // The first window's burst is free; the rate is what the following windows sustain.
    return { requests: total, seconds, rate: (total - 50) / seconds, refused: fake.globalRateLimited };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(limits.map((limit) => limit.close()));
    await fake.close();
  }
}

function restWith(fake: FakeDiscord, globalLimit: GlobalLimit) {
  const transport = createDiscordTransport({ globalLimit });
  const rest = new REST({
    api: fake.apiUrl,
    makeRequest: transport.makeRequest,
    globalRequestsPerSecond: Number.POSITIVE_INFINITY,
  }).setToken(fake.token);
  return {
    rest,
    close: async () => {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
      await transport.close();
    },
  };
}
