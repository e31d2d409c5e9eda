/**
 * Keeps the benchmarks from rotting: each runs at a tiny size (a handful of jobs) against the real bot, emulators and
 * fake Discord, and must hand back a well-formed result. Nothing here looks at speed.
 */
import { describe, expect, it } from 'vitest';
import { runAckBench } from '../../bench/ack.js';
import { runDeliveryBench } from '../../bench/delivery.js';
import { runFleetBench } from '../../bench/fleet.js';
import { runGlobalLimitBench } from '../../bench/global-limit.js';
import { formatTable, type BenchResult } from '../../bench/lib/report.js';
import { runMemoryBench } from '../../bench/memory.js';
import { runPoolBench } from '../../bench/pool.js';
import { runStoreBench } from '../../bench/store.js';
import { runThroughputBench } from '../../bench/throughput.js';
import { shouldRunRedisTests } from '../store/redis-server.js';

/** Every figure is a finite number with a unit, and the result prints as a table. */
function expectWellFormed(result: BenchResult, name: string, figures: number): void {
  expect(result.name).toBe(name);
  expect(result.figures).toHaveLength(figures);
  for (const figure of result.figures) {
    // A ceiling of 50 ÷ 0 calls is no ceiling at all: Infinity, the one non-finite value a figure may take.
    const finite = Number.isFinite(figure.value) || (figure.label.includes('÷') && figure.value === Infinity);
    expect(finite, `${figure.label} = ${figure.value}`).toBe(true);
    expect(typeof figure.unit).toBe('string');
  }
  expect(formatTable([result])).toContain(result.figures[0]!.label);
}

describe('the benchmarks at a tiny size', { timeout: 120_000 }, () => {
  it('measures acknowledgements of a burst, with where each one spent its time', async () => {
    const result = await runAckBench({ bursts: 1, burstSize: 6, members: 3, singles: 2 });
    expectWellFormed(result, 'ack', 6);
    const [run] = result.details['runs'] as { ackMs: { count: number }; reachedDiscordJsMs: { count: number } }[];
    expect(run?.ackMs.count).toBe(6);
    expect(run?.reachedDiscordJsMs.count).toBe(6);
  });

  it('measures delivery over the WebSocket and by polling, and their ratio', async () => {
    const result = await runDeliveryBench({ jobs: 1, stepMs: 2, pollMs: 200 });
    expectWellFormed(result, 'delivery', 5);
    const samples = result.details['samples'] as { websocket: { bytes: number }[]; polling: unknown[] };
    expect(samples.websocket).toHaveLength(1);
    expect(samples.polling).toHaveLength(1);
    // The bench workflow makes an upload the size the benchmark is about.
    expect(samples.websocket[0]!.bytes).toBeGreaterThan(512 * 1024);
  });

  it('measures throughput and counts the REST calls per job by kind', async () => {
    const result = await runThroughputBench({ runs: 1, jobs: 6, window: 3 });
    expectWellFormed(result, 'throughput', 9);
    const [run] = result.details['runs'] as { jobs: number; parentCpuMsPerJob: number }[];
    expect(run?.jobs).toBe(6);
    expect(run?.parentCpuMsPerJob).toBeGreaterThan(0);
    const restPerJob = result.details['restPerJob'] as { callbacks: number; global: number };
    expect(restPerJob.callbacks).toBe(1);
    // A job's session opens no thread: no call of a job counts against the global limit, which bounds jobs no more.
    expect(restPerJob.global).toBe(0);
    const figure = (label: string) => result.figures.find((candidate) => candidate.label.startsWith(label))?.value;
    expect(figure('jobs/s the global limit allows')).toBe(Infinity);
    // A thread a member asks for costs two: the thread and its help message.
    const threads = result.details['threads'] as { threads: number; restPerThread: { global: number } };
    expect(threads.threads).toBe(6);
    expect(threads.restPerThread.global).toBe(2);
    expect(figure('threads/s the global limit allows')).toBe(25);
  });

  it('samples memory after a forced GC at both checkpoints', async () => {
    const result = await runMemoryBench({ jobsPerHalf: 4, window: 2 });
    expectWellFormed(result, 'memory', 5);
    const samples = result.details['samples'] as Record<string, { gcForced: boolean; caches: { channels: number } }>;
    expect(samples['second']?.gcForced).toBe(true);
    // No thread per job: the channel cache does not grow with the jobs.
    expect(samples['second']!.caches.channels).toBe(samples['first']!.caches.channels);
  });

  it('compares the pool’s makespan with the ideal and samples every server', async () => {
    // More jobs than the servers' 8 slots, so some wait in the bot while the servers are sampled.
    const result = await runPoolBench({ runs: 1, jobs: 16, baseStepMs: 5 });
    expectWellFormed(result, 'pool', 2);
    const [run] = result.details['runs'] as { servers: { jobs: number }[]; busyWhileWaiting: number[] }[];
    expect(run?.servers.reduce((total, server) => total + server.jobs, 0)).toBe(16);
    expect(run?.busyWhileWaiting).toHaveLength(4);
  });

  it('times record writes, index adds, page reads and a sweep of the store', async () => {
    const result = await runStoreBench({ records: 20, pages: 10, expired: 30 });
    const redis = result.details['redis'] === 'measured';
    expectWellFormed(result, 'store', redis ? 9 : 5);
    const sqlite = (result.details['results'] as { sqlite: { sweep: { deleted: number } } }).sqlite;
    expect(sqlite.sweep.deleted).toBeGreaterThanOrEqual(30);
  });

  it.runIf(shouldRunRedisTests('global-limit benchmark'))(
    "measures a slot of Discord's global limit in memory and in Redis, and a fleet held under the fake's limit",
    async () => {
      const result = await runGlobalLimitBench({ takes: 50, requests: 20, fleetRequests: 80 });
      expectWellFormed(result, 'global-limit', 8);
      expect(result.figures.map((figure) => figure.label)).toContain('refused by Discord (global 429)');
    },
  );

  it.runIf(shouldRunRedisTests('fleet benchmark'))(
    'measures a fleet on Redis: a failover after a SIGKILL, throughput and queue latency with 1 and 3 processes, global calls per job',
    { timeout: 420_000 },
    async () => {
      const result = await runFleetBench({ failovers: 1, jobs: 4, window: 2, latencyJobs: 2, jobTimeoutMs: 60_000 });
      // Every job delivered once and the failover came: the figures are of a fleet that worked.
      expect(result.failures).toEqual([]);
      expectWellFormed(result, 'fleet', 16);
      const runs = result.details['runs'] as Record<
        string,
        { throughput: { jobs: number; restPerJob: { global: number } }; shares?: { succeeded: number }[] }
      >;
      expect(runs['redisThree']?.throughput.jobs).toBe(4);
      // No call of a job counts against Discord's global limit, in a fleet as in one process.
      expect(runs['redisThree']?.throughput.restPerJob.global).toBe(0);
      // The roll call lists each of the three processes with what it ended.
      expect(runs['redisThree']?.shares).toHaveLength(3);
    },
  );
});
