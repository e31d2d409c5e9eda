/**
 * Throughput: jobs per second through the whole pipeline — interaction, acknowledgement, queue, ComfyUI, download,
 * final card with its image — with zero render time (4 emulators at 0 ms per step, a 64 px image) and a fake Discord
 * that never rate-limits. A closed loop keeps a window of jobs open (from 50 members), so the bot always has work
 * waiting. With it: the REST calls the bot makes per job, split by whether Discord's global limit (50 requests per
 * second for the whole bot, however many processes run it) counts them, and the ceiling that limit puts on jobs per
 * second (50 ÷ global calls per job). A session opens no thread until a member asks, so a job costs no global call;
 * what a thread costs when a member asks for one (the card's "Refine in thread") is measured on some of the results.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { FakeMessage } from '../test/fakes/discord/index.js';
import { JobTracker, type JobEnd } from './lib/job-tracker.js';
import { closedLoop, requireSuccess } from './lib/load.js';
import type { BenchResult } from './lib/report.js';
import { countRestCalls, perJob } from './lib/rest-calls.js';
import { median } from './lib/stats.js';
import type { BotSample } from './lib/bot-process.js';
import { WindowProfiler } from './lib/window-profiler.js';
import { BenchWorld } from './lib/world.js';
import { buttonsOf } from '../test/e2e/card-reader.js';

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

/** Discord's global limit: requests per second for the whole bot, interaction callbacks and webhooks excepted. */
export const DISCORD_GLOBAL_LIMIT = 50;

/** How many results of the first run get a thread opened on them, to measure what a thread costs. */
const THREADS_OPENED = 20;

/** The environment of a bot meant to take everything it is sent (benchmarks measure speed, not limits). */
export const UNLIMITED_ENV = { MAX_JOBS_PER_MEMBER: '1000', MAX_QUEUE_LENGTH: '100000' };

/** Runs the throughput benchmark. */
export async function runThroughputBench(options: ThroughputOptions = THROUGHPUT_DEFAULTS): Promise<BenchResult> {
  const world = await BenchWorld.start({ stepMs: [0, 0, 0, 0], members: 50, env: UNLIMITED_ENV });
  const tracker = new JobTracker();
  try {
    await world.startBot();
    const warmUp = { workflow: 'bench-tiny', label: 'throughput warm-up' };
    const warmUpJobs = Math.min(50, options.jobs);
    const window = Math.min(25, options.window);
    requireSuccess(await closedLoop(world, tracker, warmUp, { total: warmUpJobs, window }), 'warm-up');
    await world.waitForSettled();
    const before = await world.bot.sample();
    const first = await measureRun(world, tracker, options, 1);
    await world.waitForSettled();
    const after = await world.bot.sample();
    // Everything the bot did for the first run's jobs, to the end of each delivery: a figure the load barely moves.
    const cpuMsPerJob = (cpuMsOf(after) - cpuMsOf(before)) / first.jobs;
    const calls = perJob(countRestCalls(world.discord.calls.slice(first.firstCall)), first.jobs);
    const runs = [first.rate];
    for (let run = 2; run <= options.runs; run += 1) runs.push((await measureRun(world, tracker, options, run)).rate);
    const threads = await measureThreads(world, first.ends.slice(0, THREADS_OPENED));
    await world.abandonBot();
    const rate = median(runs.map((run) => run.jobsPerSecond));
    const standInCpuMsPerJob = median(runs.map((run) => run.parentCpuMsPerJob));
    const cpuInRun = median(runs.map((run) => run.parentCpuMsPerJob + run.botCpuMsPerJobInRun));
    return {
      name: 'throughput',
      title: `Throughput over ${options.jobs} jobs, 4 emulators at zero render time`,
      figures: [
        { label: 'jobs per second', value: rate, unit: 'jobs/s', target: { op: '>=', value: 100 } },
        { label: 'bot CPU per job', value: cpuMsPerJob, unit: 'ms' },
        { label: 'stand-ins’ CPU per job (emulators, fake Discord, load)', value: standInCpuMsPerJob, unit: 'ms' },
        // Both share the machine's cores: the most jobs per second they leave room for, from the CPU each run used.
        { label: 'ceiling on this machine', value: (availableParallelism() * 1000) / cpuInRun, unit: 'jobs/s' },
        { label: 'REST calls per job, global limit', value: calls.global, unit: '' },
        { label: 'REST calls per job, interaction', value: calls.callbacks + calls.interactionWebhooks, unit: '' },
        // Infinity (null in the JSON) when no call of a job counts: the global limit no longer bounds jobs at all.
        { label: 'jobs/s the global limit allows the whole bot (50 ÷ global per job)', ...ceiling(calls) },
        { label: 'REST calls per thread a member opens, global limit', value: threads.restPerThread.global, unit: '' },
        { label: 'threads/s the global limit allows (50 ÷ global per thread)', ...ceiling(threads.restPerThread) },
      ],
      details: { options, runs, restPerJob: calls, threads },
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
  return { rate, firstCall, startedAt, jobs: ends.length, ends };
}

/**
 * Opens a thread on each of `results`' cards as a member does (the card's "Refine in thread", all at once), and
 * counts the REST calls that cost per thread: the thread and its help message, both under the global limit.
 */
async function measureThreads(world: BenchWorld, results: readonly JobEnd[]) {
  const firstCall = world.callCount;
  const member = world.members[0]!;
  const cards = results.map((end) => end.handle.original!);
  const presses = await Promise.all(cards.map((card) => world.discord.pressButton(card, threadButtonOf(card), member)));
  await Promise.all(presses.map((press) => press.waitForOriginal((answer) => answer.content.includes('<#'), 60_000)));
  await world.waitForSettled();
  const calls = world.discord.calls.slice(firstCall);
  const opened = calls.filter(
    (call) => call.method === 'POST' && call.route?.endsWith('/threads') && call.status < 300,
  );
  if (opened.length !== cards.length) throw new Error(`${opened.length} threads opened for ${cards.length} presses`);
  return { threads: cards.length, restPerThread: perJob(countRestCalls(calls), cards.length) };
}

function threadButtonOf(card: FakeMessage): string {
  const ids = buttonsOf(card).map((button) => button.custom_id);
  const id = ids.find((candidate) => candidate.startsWith('thread:'));
  if (id === undefined) throw new Error(`the card ${card.id} offers no thread`);
  return id;
}

/** The requests per second Discord's global limit leaves for something that costs `counts.global` calls. */
function ceiling(counts: { global: number }): { value: number; unit: string } {
  return { value: counts.global > 0 ? DISCORD_GLOBAL_LIMIT / counts.global : Infinity, unit: '/s' };
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
