/**
 * Throughput: jobs per second through the whole pipeline — interaction, acknowledgement, queue, ComfyUI, download,
 * final card with its image — with zero render time (4 emulators at 0 ms per step, a 64 px image) and a fake Discord
 * that never rate-limits. A closed loop keeps a window of jobs open (from 50 members), so the bot always has work
 * waiting. With it: the REST calls the bot makes per job, split by whether Discord's global limit counts them, and
 * how fast the session threads (which that limit governs) follow the cards.
 *
 * The threads cannot keep up with the cards (two calls each under 50 per second), so only the first run waits for
 * them, to count them; the later runs start with that backlog still being worked off, as a bot busy for a while
 * would, and at the end the bot is killed rather than made to deliver thousands of threads first.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { JobTracker, type JobEnd } from './lib/job-tracker.js';
import { closedLoop, requireSuccess } from './lib/load.js';
import type { BenchResult } from './lib/report.js';
import { countRestCalls, perJob } from './lib/rest-calls.js';
import { median } from './lib/stats.js';
import type { BotSample } from './lib/bot-process.js';
import { WindowProfiler } from './lib/window-profiler.js';
import { BenchWorld } from './lib/world.js';

/** How big a run is. */
export interface ThroughputOptions {
  readonly runs: number;
  /** Jobs per run. */
  readonly jobs: number;
  /** Jobs kept open at once. */
  readonly window: number;
  /** Write a CPU profile of the bot during the first run into this folder. */
  readonly profileDir?: string;
}

/** The full-size run. */
export const THROUGHPUT_DEFAULTS: ThroughputOptions = { runs: 3, jobs: 2000, window: 300 };

/** The environment of a bot meant to take everything it is sent (benchmarks measure speed, not limits). */
export const UNLIMITED_ENV = { MAX_JOBS_PER_MEMBER: '1000', MAX_QUEUE_LENGTH: '100000' };

/** Runs the throughput benchmark. */
export async function runThroughputBench(options: ThroughputOptions = THROUGHPUT_DEFAULTS): Promise<BenchResult> {
  const world = await BenchWorld.start({ stepMs: [0, 0, 0, 0], members: 50, env: UNLIMITED_ENV });
  const tracker = new JobTracker();
  try {
    await world.startBot();
    const warmUp = { workflow: 'bench-tiny', label: 'throughput warm-up' };
    const since = world.callCount;
    const warmUpJobs = Math.min(50, options.jobs);
    const window = Math.min(25, options.window);
    requireSuccess(await closedLoop(world, tracker, warmUp, { total: warmUpJobs, window }), 'warm-up');
    await world.waitForSessions(since, warmUpJobs);
    const before = await world.bot.sample();
    const first = await measureRun(world, tracker, options, 1);
    const sessions = await measureSessions(world, first);
    const after = await world.bot.sample();
    // Everything the bot did for the first run's jobs, threads included: a figure the machine's load barely moves.
    const cpuMsPerJob = (cpuMsOf(after) - cpuMsOf(before)) / first.jobs;
    const runs = [first.rate];
    for (let run = 2; run <= options.runs; run += 1) runs.push((await measureRun(world, tracker, options, run)).rate);
    await world.abandonBot();
    const rate = median(runs.map((run) => run.jobsPerSecond));
    const standInCpuMsPerJob = median(runs.map((run) => run.parentCpuMsPerJob));
    const cpuInRun = median(runs.map((run) => run.parentCpuMsPerJob + run.botCpuMsPerJobInRun));
    const calls = sessions.restPerJob;
    return {
      name: 'throughput',
      title: `Throughput over ${options.jobs} jobs, 4 emulators at zero render time`,
      figures: [
        { label: 'jobs per second', value: rate, unit: 'jobs/s', target: { op: '>=', value: 100 } },
        { label: 'bot CPU per job', value: cpuMsPerJob, unit: 'ms' },
        { label: 'stand-ins’ CPU per job (emulators, fake Discord, load)', value: standInCpuMsPerJob, unit: 'ms' },
        // Both share the machine's cores: the most jobs per second they leave room for, from the CPU each run used.
        { label: 'ceiling on this machine', value: (availableParallelism() * 1000) / cpuInRun, unit: 'jobs/s' },
        { label: 'sessions opened per second', value: sessions.sessionsPerSecond, unit: '/s' },
        { label: 'REST calls per job, global limit', value: calls.global, unit: '' },
        { label: 'REST calls per job, interaction', value: calls.callbacks + calls.interactionWebhooks, unit: '' },
      ],
      details: { options, runs, sessions },
    };
  } finally {
    tracker.close();
    await world.close();
  }
}

async function measureRun(world: BenchWorld, tracker: JobTracker, options: ThroughputOptions, run: number) {
  const firstCall = world.callCount;
  const spec = { workflow: 'bench-tiny', label: `throughput run ${run}` };
  const profile =
    run === 1 && options.profileDir ? path.join(options.profileDir, 'throughput-bot.cpuprofile') : undefined;
  // The parent (emulators, fake Discord, load) is profiled too: its CPU shares the machine with the bot's.
  const parentProfiler = profile ? new WindowProfiler() : undefined;
  if (profile) await Promise.all([world.bot.startProfile(), parentProfiler!.start()]);
  const botBefore = await world.bot.sample();
  const parentCpu = process.cpuUsage();
  const ends = await closedLoop(world, tracker, spec, { total: options.jobs, window: options.window });
  const parentCpuUsed = process.cpuUsage(parentCpu);
  const botAfter = await world.bot.sample();
  if (profile) {
    await world.bot.stopProfile(profile);
    await parentProfiler!.stop(profile.replace(/-bot\.cpuprofile$/, '-parent.cpuprofile'));
  }
  requireSuccess(ends, 'throughput');
  const startedAt = Math.min(...ends.map((end) => end.sentAt));
  const cardsDoneAt = Math.max(...ends.map((end) => end.endAt));
  const rate = {
    run,
    jobs: ends.length,
    jobsPerSecond: ends.length / ((cardsDoneAt - startedAt) / 1000),
    steadyJobsPerSecond: steadyRate(ends),
    secondsToLastCard: (cardsDoneAt - startedAt) / 1000,
    /** This process's CPU (the emulators, the fake Discord, the load itself) per job of the run. */
    parentCpuMsPerJob: (parentCpuUsed.user + parentCpuUsed.system) / 1000 / ends.length,
    /** The bot's CPU per job while the run lasted (its session threads, which trail the cards, partly outside it). */
    botCpuMsPerJobInRun: (cpuMsOf(botAfter) - cpuMsOf(botBefore)) / ends.length,
  };
  return { rate, firstCall, startedAt, jobs: ends.length };
}

/** Waits for a run's session threads, then counts its REST calls per job and how fast the threads came. */
async function measureSessions(world: BenchWorld, run: Awaited<ReturnType<typeof measureRun>>) {
  await world.waitForSessions(run.firstCall, run.jobs);
  const calls = world.discord.calls.slice(run.firstCall);
  const threads = calls.filter((call) => call.method === 'POST' && call.route?.endsWith('/threads'));
  const sessionsDoneAt = Math.max(...threads.map((call) => call.receivedAt));
  return {
    sessionsPerSecond: threads.length / ((sessionsDoneAt - run.startedAt) / 1000),
    secondsToLastThread: (sessionsDoneAt - run.startedAt) / 1000,
    restPerJob: perJob(countRestCalls(calls), run.jobs),
  };
}

/** The rate between the 10th and the 90th percentile of completions: the loop's ramp-up and drain left out. */
function steadyRate(ends: readonly JobEnd[]): number {
  const times = ends.map((end) => end.endAt).sort((a, b) => a - b);
  const from = times[Math.floor(times.length * 0.1)]!;
  const to = times[Math.floor(times.length * 0.9)]!;
  return to > from ? (Math.floor(times.length * 0.9) - Math.floor(times.length * 0.1)) / ((to - from) / 1000) : NaN;
}

function cpuMsOf(sample: BotSample): number {
  return (sample.cpu.user + sample.cpu.system) / 1000;
}
