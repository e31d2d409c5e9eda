/**
 * The pool: 4 servers whose step times are 1×, 1×, 2× and 4× take 200 jobs sent at once. The makespan (first
 * interaction to last finished card) is compared with the ideal, the total work divided by the total speed — each
 * server's speed taken from how long its jobs actually ran (its history), so the emulators' fixed costs count for the
 * ideal too. While jobs wait in the bot, every server should be running one: each server's queue is sampled.
 */
import { promptRuns } from './lib/comfy-history.js';
import { JobTracker } from './lib/job-tracker.js';
import { burst, requireSuccess } from './lib/load.js';
import { busyWhileWaiting, OccupancySampler } from './lib/occupancy.js';
import type { BenchResult } from './lib/report.js';
import { median, summarize } from './lib/stats.js';
import { BenchWorld } from './lib/world.js';
import { UNLIMITED_ENV } from './throughput.js';

/** How big a run is. */
export interface PoolOptions {
  readonly runs: number;
  readonly jobs: number;
  /** The fastest servers' time per step; each job has 20 steps. */
  readonly baseStepMs: number;
}

/** The full-size run: 200 ms jobs on the fastest servers. */
export const POOL_DEFAULTS: PoolOptions = { runs: 3, jobs: 200, baseStepMs: 10 };

const SPEEDS = [1, 1, 2, 4];
const STEPS = 20;

/** Runs the pool benchmark. */
export async function runPoolBench(options: PoolOptions = POOL_DEFAULTS): Promise<BenchResult> {
  const stepMs = SPEEDS.map((factor) => factor * options.baseStepMs);
  const world = await BenchWorld.start({ stepMs, members: 50, env: UNLIMITED_ENV });
  const tracker = new JobTracker();
  try {
    await world.startBot();
    // Every server runs a few jobs first, so the pool knows their speeds as it would in production after a while.
    const warmUpJobs = Math.min(12, options.jobs);
    requireSuccess(await burst(world, tracker, spec('pool warm-up'), warmUpJobs), 'warm-up');
    await world.waitForSettled();
    const runs = [];
    for (let run = 1; run <= options.runs; run += 1) runs.push(await measureRun(world, tracker, options.jobs, run));
    const ratio = median(runs.map((run) => run.makespanRatio));
    const leastBusy = median(runs.map((run) => Math.min(...run.busyWhileWaiting)));
    return {
      name: 'pool',
      title: `Pool of servers at ${SPEEDS.map((factor) => `${factor}×`).join(', ')} step time, ${options.jobs} jobs`,
      figures: [
        { label: 'makespan / ideal', value: ratio, unit: '×', target: { op: '<=', value: 1.1 } },
        {
          label: 'least busy server while work waits',
          value: leastBusy * 100,
          unit: '%',
          target: { op: '>=', value: 95 },
        },
      ],
      details: { options, stepMs, runs },
    };
  } finally {
    tracker.close();
    await world.close();
  }
}

function spec(label: string) {
  return { workflow: 'bench-tiny', label, flags: `--steps ${STEPS}` };
}

async function measureRun(world: BenchWorld, tracker: JobTracker, jobs: number, run: number) {
  const before = world.emulators.map((emulator) => emulator.received.length);
  const received = () =>
    world.emulators.reduce((total, emulator, index) => total + emulator.received.length - before[index]!, 0);
  const sampler = new OccupancySampler(
    world.emulators.map((emulator) => emulator.url),
    () => jobs - received(),
  );
  const ends = await burst(world, tracker, spec(`pool run ${run}`), jobs);
  const samples = await sampler.stop();
  requireSuccess(ends, 'pool');
  await world.waitForSettled();
  const startedAt = Math.min(...ends.map((end) => end.sentAt));
  const makespanMs = Math.max(...ends.map((end) => end.endAt)) - startedAt;
  const servers = await Promise.all(
    world.emulators.map(async (emulator, index) => {
      const ids = new Set(emulator.received.slice(before[index]).map((entry) => entry.promptId));
      const runs = (await promptRuns(emulator.url)).filter((entry) => ids.has(entry.promptId));
      const durations = runs.map((entry) => entry.succeededAt - entry.startedAt);
      return {
        jobs: runs.length,
        jobMs: summarize(durations),
        lastDoneAt: Math.max(...runs.map((entry) => entry.succeededAt)),
      };
    }),
  );
  const speed = servers.reduce((total, server) => total + 1 / server.jobMs.mean, 0);
  const idealMs = jobs / speed;
  return {
    run,
    makespanMs,
    idealMs,
    makespanRatio: makespanMs / idealMs,
    /** When each server finished its last job, after the first interaction: how even the tail was. */
    serverDoneMs: servers.map((server) => server.lastDoneAt - startedAt),
    busyWhileWaiting: busyWhileWaiting(samples, world.emulators.length),
    servers,
    samples: samples.length,
  };
}
