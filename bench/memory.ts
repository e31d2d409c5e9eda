/**
 * Memory: the bot's resident set and its heap after a forced GC, measured after 5,000 and after 10,000 jobs (4
 * emulators at zero render time, a 64 px image, a closed loop of 100 open jobs from 50 members), each time once the
 * bot has fallen quiet. The growth between the two is what a long-running bot keeps per job; we hold it under 10 MB.
 * With it, the sizes of discord.js's caches (channels and messages), which no longer grow per job: sessions open no
 * thread until a member asks for one.
 */
import { JobTracker } from './lib/job-tracker.js';
import { closedLoop, requireSuccess } from './lib/load.js';
import type { BenchResult } from './lib/report.js';
import type { BotSample } from './lib/bot-process.js';
import { BenchWorld } from './lib/world.js';
import { UNLIMITED_ENV } from './throughput.js';

/** How big a run is. */
export interface MemoryOptions {
  /** Jobs per half; samples are taken after each half. */
  readonly jobsPerHalf: number;
  readonly window: number;
}

/** The full-size run. */
export const MEMORY_DEFAULTS: MemoryOptions = { jobsPerHalf: 5000, window: 100 };

const MiB = 1024 * 1024;

/** Runs the memory benchmark. */
export async function runMemoryBench(options: MemoryOptions = MEMORY_DEFAULTS): Promise<BenchResult> {
  const world = await BenchWorld.start({ stepMs: [0, 0, 0, 0], members: 50, env: UNLIMITED_ENV });
  const tracker = new JobTracker();
  try {
    await world.startBot();
    const runHalf = async (label: string, total: number): Promise<BotSample> => {
      const spec = { workflow: 'bench-tiny', label: `memory ${label}` };
      requireSuccess(await closedLoop(world, tracker, spec, { total, window: options.window }), 'memory');
      await world.waitForSettled();
      return world.bot.sample();
    };
    const warm = await runHalf('warm-up', Math.min(200, options.jobsPerHalf));
    const first = await runHalf('first half', options.jobsPerHalf);
    const second = await runHalf('second half', options.jobsPerHalf);
    const mib = (sample: BotSample, field: 'rss' | 'heapUsed') => sample.memory[field] / MiB;
    const half = options.jobsPerHalf;
    return {
      name: 'memory',
      title: `Memory after ${half} and ${half * 2} jobs`,
      figures: [
        { label: `RSS after ${half} jobs`, value: mib(first, 'rss'), unit: 'MiB' },
        { label: `RSS after ${half * 2} jobs`, value: mib(second, 'rss'), unit: 'MiB' },
        {
          label: 'RSS growth',
          value: mib(second, 'rss') - mib(first, 'rss'),
          unit: 'MiB',
          target: { op: '<', value: 10 },
        },
        { label: `heap used after ${half} jobs`, value: mib(first, 'heapUsed'), unit: 'MiB' },
        {
          label: 'heap used growth',
          value: mib(second, 'heapUsed') - mib(first, 'heapUsed'),
          unit: 'MiB',
          target: { op: '<', value: 10 },
        },
      ],
      details: {
        options,
        samples: { warmUp: strip(warm), first: strip(first), second: strip(second) },
        bytesPerJob: {
          rss: (second.memory.rss - first.memory.rss) / half,
          heapUsed: (second.memory.heapUsed - first.memory.heapUsed) / half,
        },
      },
    };
  } finally {
    tracker.close();
    await world.close();
  }
}

/** A sample without its trace (empty here) for the record. */
function strip(sample: BotSample) {
  return { memory: sample.memory, caches: sample.caches, gcForced: sample.gcForced, loopDelayMs: sample.loopDelayMs };
}
