/**
 * Benchmark store: what the store's basic operations cost on SQLite (a file in a temp dir, WAL, as `npm start` opens
 * it) and on Redis (a local redis-server, when one is installed), one operation after another:
 *
 * 1. record write: a job record the size of a real one (the shipped txt2img graph bound into it), `collection.set`;
 * 2. index add: `index.add` of a new id to a list (the open-jobs list, a member's history);
 * 3. page read: the first 10 ids of a list of `records` ids, and their 10 records (what `/history` reads);
 * 4. sweep: `store.sweep()` of `expired` rows whose time to live has passed (SQLite; Redis expires keys itself).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { silentLogger } from '../src/logger.js';
import { openStore, type Store } from '../src/store/index.js';
import { makeTempDir } from '../test/store/helpers.js';
import { isRedisInstalled, startRedisServer } from '../test/store/redis-server.js';
import type { BenchResult, Figure } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

export interface StoreBenchOptions {
  /** Records written (and ids added) per backend. */
  readonly records: number;
  /** Page reads per backend. */
  readonly pages: number;
  /** Expired rows one sweep deletes. */
  readonly expired: number;
}

export const STORE_DEFAULTS: StoreBenchOptions = { records: 2_000, pages: 2_000, expired: 10_000 };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const recordSchema = z.object({ id: z.string(), graph: z.record(z.string(), z.unknown()), state: z.string() });

/** What one backend measured. */
interface BackendFigures {
  readonly recordWrite: Summary;
  readonly indexAdd: Summary;
  readonly pageRead: Summary;
  /** Milliseconds for one sweep of `expired` rows, and how many it deleted (undefined: the backend expires itself). */
  readonly sweep: { readonly ms: number; readonly deleted: number } | undefined;
}

export async function runStoreBench(options: StoreBenchOptions): Promise<BenchResult> {
  const graph = JSON.parse(await readFile(path.join(ROOT, 'workflows/txt2img.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const directory = await makeTempDir();
  const results: Record<string, BackendFigures> = {};
  try {
    results['sqlite'] = await measure(`sqlite://${path.join(directory.path, 'bench.sqlite')}`, graph, options);
    if (isRedisInstalled()) {
      const redis = await startRedisServer();
      try {
        results['redis'] = await measure(redis.url, graph, options);
      } finally {
        await redis.stop();
      }
    }
  } finally {
    await directory.remove();
  }
  const figures: Figure[] = Object.entries(results).flatMap(([backend, measured]) => [
    { label: `${backend}: record write, p50`, value: measured.recordWrite.median, unit: 'µs' },
    { label: `${backend}: record write, p99`, value: measured.recordWrite.p99, unit: 'µs' },
    { label: `${backend}: index add, p50`, value: measured.indexAdd.median, unit: 'µs' },
    { label: `${backend}: page read (10 of ${options.records}), p50`, value: measured.pageRead.median, unit: 'µs' },
    ...(measured.sweep === undefined
      ? []
      : [
          {
            label: `${backend}: sweep of ${measured.sweep.deleted} expired rows`,
            value: measured.sweep.ms,
            unit: 'ms',
          },
        ]),
  ]);
  return {
    name: 'store',
    title: 'The store: record write, index add, page read and expiry sweep, on SQLite and Redis',
    figures,
    details: { options, results, redis: isRedisInstalled() ? 'measured' : 'redis-server not on PATH' },
  };
}

async function measure(
  url: string,
  graph: Record<string, unknown>,
  options: StoreBenchOptions,
): Promise<BackendFigures> {
  const store = await openStore(url, silentLogger());
  try {
    const records = store.collection('bench-records', recordSchema, { version: 1 });
    const index = store.index('bench-index');
    const ids = Array.from({ length: options.records }, (_, n) => `job-${n}`);
    const recordWrite = await timeEach(ids, (id) => records.set(id, { id, graph, state: 'running' }));
    const indexAdd = await timeEach(ids, (id) => index.add('member', id));
    const pageRead = await timeEach(Array.from({ length: options.pages }), async () => {
      const page = await index.list('member', { offset: 0, limit: 10 });
      await Promise.all(page.map(async (id) => records.get(id)));
    });
    return { recordWrite, indexAdd, pageRead, sweep: await timeSweep(store, options.expired) };
  } finally {
    await store.close();
  }
}

/** Writes `count` small rows that expire at once, then times one sweep. */
async function timeSweep(store: Store, count: number): Promise<BackendFigures['sweep']> {
  if (store.kind === 'redis') return undefined;
  const expiring = store.collection('bench-expiring', z.object({ n: z.number() }), { version: 1 });
  for (let n = 0; n < count; n += 1) await expiring.set(`row-${n}`, { n }, 1);
  await sleep(10);
  const started = performance.now();
  const deleted = await store.sweep();
  return { ms: performance.now() - started, deleted };
}

/** Microseconds each call of `work` took, one after another, after a short warm-up. */
async function timeEach<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<Summary> {
  for (const item of items.slice(0, Math.min(50, items.length))) await work(item);
  const samples: number[] = [];
  for (const item of items) {
    const started = performance.now();
    await work(item);
    samples.push((performance.now() - started) * 1000);
  }
  return summarize(samples);
}
