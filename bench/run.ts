/**
 * `npm run bench`: runs the benchmarks (all of them, or `--only ack,memory`), prints one table of their figures against
 * our targets and writes each result to `bench/results/<name>-<date>.json`. `--quick` runs smaller versions (minutes
 * become seconds; the figures are noisier); `--profile` writes CPU profiles of the bot during the acknowledgement and
 * throughput runs and prints where their time went.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ACK_DEFAULTS, runAckBench } from './ack.js';
import { BLOBS_DEFAULTS, runBlobsBench } from './blobs.js';
import { DELIVERY_DEFAULTS, runDeliveryBench } from './delivery.js';
import { FLEET_DEFAULTS, runFleetBench } from './fleet.js';
import { GLOBAL_LIMIT_DEFAULTS, runGlobalLimitBench } from './global-limit.js';
import { MEMORY_DEFAULTS, runMemoryBench } from './memory.js';
import { POOL_DEFAULTS, runPoolBench } from './pool.js';
import { formatProfileSummary, summarizeProfile } from './lib/profile-summary.js';
import { formatTable, writeResult, type BenchResult } from './lib/report.js';
import { runStoreBench, STORE_DEFAULTS } from './store.js';
import { runTakeoverBench, TAKEOVER_DEFAULTS } from './takeover.js';
import { runThroughputBench, THROUGHPUT_DEFAULTS } from './throughput.js';
import { runWebBench, WEB_DEFAULTS } from './web.js';

const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** How `run.ts` calls one benchmark. */
interface Bench {
  readonly run: (size: 'full' | 'quick', profileDir: string | undefined) => Promise<BenchResult>;
  /** The profiles it writes when asked. */
  readonly profiles?: readonly string[];
}

const BENCHES: Record<string, Bench> = {
  ack: {
    run: (size, profileDir) => runAckBench({ ...ACK_DEFAULTS, ...(size === 'quick' ? { bursts: 2 } : {}), profileDir }),
    profiles: ['ack-bot.cpuprofile'],
  },
  delivery: {
    run: (size) => runDeliveryBench({ ...DELIVERY_DEFAULTS, ...(size === 'quick' ? { jobs: 8 } : {}) }),
  },
  throughput: {
    run: (size, profileDir) =>
      runThroughputBench({ ...THROUGHPUT_DEFAULTS, ...(size === 'quick' ? { runs: 1, jobs: 500 } : {}), profileDir }),
    profiles: ['throughput-bot.cpuprofile'],
  },
  memory: {
    run: (size) => runMemoryBench({ ...MEMORY_DEFAULTS, ...(size === 'quick' ? { jobsPerHalf: 1000 } : {}) }),
  },
  pool: {
    run: (size) => runPoolBench({ ...POOL_DEFAULTS, ...(size === 'quick' ? { runs: 1, jobs: 100 } : {}) }),
  },
  'global-limit': {
    run: (size) =>
      runGlobalLimitBench({
        ...GLOBAL_LIMIT_DEFAULTS,
        ...(size === 'quick' ? { takes: 2_000, requests: 300, fleetRequests: 200 } : {}),
      }),
  },
  store: {
    run: (size) =>
      runStoreBench({ ...STORE_DEFAULTS, ...(size === 'quick' ? { records: 300, pages: 300, expired: 2_000 } : {}) }),
  },
  web: {
    run: (size) => runWebBench({ ...WEB_DEFAULTS, ...(size === 'quick' ? { requests: 64, jobs: 6 } : {}) }),
  },
  blobs: {
    run: (size) => runBlobsBench({ ...BLOBS_DEFAULTS, ...(size === 'quick' ? { runs: 10 } : {}) }),
  },
  takeover: {
    run: (size) => runTakeoverBench({ ...TAKEOVER_DEFAULTS, ...(size === 'quick' ? { runs: 1 } : {}) }),
  },
  fleet: {
    run: (size) =>
      runFleetBench({
        ...FLEET_DEFAULTS,
        ...(size === 'quick' ? { failovers: 2, jobs: 100, window: 20, latencyJobs: 10 } : {}),
      }),
  },
};

const USAGE = `usage: npm run bench [-- --only ${Object.keys(BENCHES).join(',')}] [--quick] [--profile]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return print(USAGE, 0);
  const names = values.only ? values.only.split(',').map((name) => name.trim()) : Object.keys(BENCHES);
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) return print(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`, 2);

  const startedAt = new Date();
  const size = values.quick ? 'quick' : 'full';
  const profileDir = values.profile ? path.join(RESULTS_DIR, `profiles-${stamp(startedAt)}`) : undefined;
  const results: BenchResult[] = [];
  const failures: string[] = [];
  for (const name of names) {
    const bench = BENCHES[name]!;
    const began = Date.now();
    console.log(`running ${name} (${size})…`);
    try {
      const result = await bench.run(size, profileDir);
      const environment = { size, loadAverage: os.loadavg(), seconds: (Date.now() - began) / 1000 };
      const file = await writeResult(result, RESULTS_DIR, environment, startedAt);
      results.push(result);
      console.log(`  done in ${environment.seconds.toFixed(0)} s -> ${path.relative(process.cwd(), file)}`);
      // The system measured failed (jobs lost, a failover that never came): said here, and the run exits 1.
      if (result.failures && result.failures.length > 0) {
        failures.push(name);
        for (const failure of result.failures) console.error(`  ${name} FAILED: ${failure}`);
      }
      if (profileDir) await printProfiles(profileDir, bench.profiles ?? []);
    } catch (error) {
      failures.push(name);
      console.error(`  ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(`\n${formatTable(results)}`);
  console.log(
    `\n${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  );
  if (failures.length > 0) return print(`failed: ${failures.join(', ')}`, 1);
  return 0;
}

async function printProfiles(dir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const full = path.join(dir, file);
    console.log(`  ${path.relative(process.cwd(), full)}`);
    console.log(formatProfileSummary(await summarizeProfile(full)));
  }
}

function stamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

function print(message: string, code: number): number {
  (code === 0 ? console.log : console.error)(message);
  return code;
}

process.exitCode = await main();
