/**
 * Benchmark blobs: what sharing a member's image through Redis costs a fleet (processes on separate hosts share only
 * the store). On a local redis-server, `runs` distinct images of `sizeMb` MiB each:
 *
 * 1. write: the process that takes the image in shares it (`InputFiles.share`: the shelf is asked whether it has it,
 *    the fleet's cap is checked, then the bytes are written) — what a member's `/imagine` waits for beyond today;
 * 2. read-through: another process, on another "host" (its own folder, which lacks the image), reads it for upload
 *    (`InputFiles.read`: fetched from Redis and kept in its folder) — what the carrier waits before uploading;
 * 3. for comparison, what one process pays anyway: writing the same bytes to its own folder durably (fsync).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileDurably } from '../src/durable-write.js';
import { InputFiles } from '../src/jobs/input-files.js';
import { silentLogger } from '../src/logger.js';
import { openStore, type Store } from '../src/store/index.js';
import { makeTempDir } from '../test/store/helpers.js';
import { isRedisInstalled, startRedisServer } from '../test/store/redis-server.js';
import type { BenchResult, Figure } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

export interface BlobsBenchOptions {
  /** Images shared and read back. */
  readonly runs: number;
  /** The size of each, in MiB. */
  readonly sizeMb: number;
}

export const BLOBS_DEFAULTS: BlobsBenchOptions = { runs: 40, sizeMb: 4 };

const HOUR = 60 * 60 * 1000;

export async function runBlobsBench(options: BlobsBenchOptions): Promise<BenchResult> {
  if (!isRedisInstalled()) {
    return {
      name: 'blobs',
      title: 'Members’ images shared through Redis',
      figures: [],
      details: { options, redis: 'redis-server not on PATH' },
    };
  }
  const redis = await startRedisServer();
  const directory = await makeTempDir();
  const stores: Store[] = [];
  try {
    stores.push(await openStore(redis.url, silentLogger()), await openStore(redis.url, silentLogger()));
    const [taker, carrier] = await Promise.all(
      stores.map(async (store, index) => inputsOn(store, path.join(directory.path, `host-${index}`), options)),
    );
    const bytes = options.sizeMb * 1024 * 1024;
    const write: number[] = [];
    const read: number[] = [];
    const local: number[] = [];
    // Two warm-up rounds, not counted.
    for (let run = -2; run < options.runs; run += 1) {
      const image = randomBytes(bytes);
      const name = `${image.subarray(0, 16).toString('hex')}.png`;
      const started = performance.now();
      await taker!.inputs.share(name, image);
      const shared = performance.now();
      const back = await carrier!.inputs.read({ path: path.join(taker!.dir, name), filename: name });
      const fetched = performance.now();
      await writeFileDurably(path.join(taker!.dir, name), image);
      const written = performance.now();
      if (!back.equals(image)) throw new Error('the image read back differs from the one shared');
      if (run < 0) continue;
      write.push(shared - started);
      read.push(fetched - shared);
      local.push(written - fetched);
    }
    const results = { write: summarize(write), read: summarize(read), local: summarize(local) };
    const size = `${options.sizeMb} MiB`;
    const figures: Figure[] = [
      ...pair(`share a ${size} image through Redis (the taker)`, results.write),
      ...pair(`read it on another host (the carrier, kept in its folder)`, results.read),
      ...pair(`for comparison: write it to the local folder (fsync)`, results.local),
    ];
    return {
      name: 'blobs',
      title: `Members’ images shared through Redis: ${options.runs} images of ${size}`,
      figures,
      details: { options, results },
    };
  } finally {
    await Promise.all(stores.map(async (store) => store.close()));
    await redis.stop();
    await directory.remove();
  }
}

function pair(label: string, summary: Summary): Figure[] {
  return [
    { label: `${label}, p50`, value: round(summary.median), unit: 'ms' },
    { label: `${label}, p95`, value: round(summary.p95), unit: 'ms' },
  ];
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** One process's input folder on the fleet's store, as the engine builds it. */
async function inputsOn(store: Store, root: string, options: BlobsBenchOptions) {
  const dir = path.join(root, 'inputs');
  await mkdir(dir, { recursive: true });
  const inputs = new InputFiles({
    dir,
    retentionMs: HOUR,
    maxBytes: (options.runs + 4) * options.sizeMb * 1024 * 1024,
    inUse: async () => new Set(),
    shared: store.blobs('inputs', { ttlMs: HOUR, maxBytes: (options.sizeMb + 1) * 1024 * 1024 }),
    logger: silentLogger(),
  });
  return { dir, inputs };
}
