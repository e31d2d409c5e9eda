/**
 * Acknowledgement latency: many members run `/imagine` at the same moment; how long from the fake Discord dispatching
 * each INTERACTION_CREATE to it receiving the bot's defer callback. Discord allows 3 s; we hold ourselves to a p99
 * under 25 ms for a burst of 200 from 50 members. The jobs then run to the end (one emulator, a 64 px image in one
 * step) and the bot falls quiet before the next burst, so every burst meets a bot in the same state.
 */
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { InteractionHandle } from '../test/fakes/discord/index.js';
import { JobTracker } from './lib/job-tracker.js';
import { burst, dispatch, requireSuccess } from './lib/load.js';
import type { BenchResult } from './lib/report.js';
import { median, summarize } from './lib/stats.js';
import { WindowProfiler } from './lib/window-profiler.js';
import { BenchWorld } from './lib/world.js';

/** How big a run is. */
export interface AckOptions {
  readonly bursts: number;
  readonly burstSize: number;
  readonly members: number;
  /** Lone /imagine sent one after another (each once the one before has finished), for comparison. */
  readonly singles: number;
  /** Write a CPU profile of the bot during the first burst's acknowledgements into this folder. */
  readonly profileDir?: string;
}

/** The full-size run. */
export const ACK_DEFAULTS: AckOptions = { bursts: 5, burstSize: 200, members: 50, singles: 30 };

/** Runs the acknowledgement benchmark. */
export async function runAckBench(options: AckOptions = ACK_DEFAULTS): Promise<BenchResult> {
  const perMember = Math.ceil(options.burstSize / options.members);
  const world = await BenchWorld.start({
    stepMs: [0],
    members: options.members,
    env: { MAX_JOBS_PER_MEMBER: String(perMember * 2), MAX_QUEUE_LENGTH: String(options.burstSize * 2) },
  });
  const tracker = new JobTracker();
  try {
    await world.startBot({ trace: true });
    // Warm-up: first calls compile code paths and open connections; not measured.
    const warmUp = { workflow: 'bench-tiny', label: 'ack warm-up' };
    const warmUpJobs = Math.min(20, options.burstSize);
    requireSuccess(await burst(world, tracker, warmUp, warmUpJobs), 'warm-up');
    await world.waitForSettled();
    await world.bot.sample();
    const runs = [];
    const latencies: number[] = [];
    const written: number[] = [];
    for (let run = 1; run <= options.bursts; run += 1) {
      const profile = run === 1 && options.profileDir ? path.join(options.profileDir, 'ack-bot.cpuprofile') : undefined;
      const measured = await measureBurst(world, tracker, run, options.burstSize, profile);
      latencies.push(...measured.latencies);
      written.push(...measured.written);
      runs.push(measured.summary);
    }
    const singles = summarize(await measureSingles(world, tracker, options.singles));
    const all = summarize(latencies);
    return {
      name: 'ack',
      title: `Acknowledgement of ${options.burstSize} /imagine at once from ${options.members} members`,
      figures: [
        { label: 'ack median', value: all.median, unit: 'ms' },
        { label: 'ack p99', value: all.p99, unit: 'ms', target: { op: '<', value: 25 } },
        // The bot's part of the figure: the rest is the fake Discord (one thread, in the parent) reading the callbacks.
        { label: 'callback written by the bot, p99', value: summarize(written).p99, unit: 'ms' },
        { label: 'ack max', value: all.max, unit: 'ms' },
        { label: 'acks per second in a burst', value: median(runs.map((run) => run.acksPerSecond)), unit: '/s' },
        { label: 'ack p99, one at a time', value: singles.p99, unit: 'ms' },
      ],
      details: { options, all, singles, runs },
    };
  } finally {
    tracker.close();
    await world.close();
  }
}

/** One burst: dispatch, wait for every callback (profiling that window if asked), then for every job's end. */
async function measureBurst(world: BenchWorld, tracker: JobTracker, run: number, size: number, profile?: string) {
  const parentDelay = monitorEventLoopDelay({ resolution: 1 });
  // The parent (fake Discord, emulator) is profiled too: its answers are part of what the figure measures.
  const parentProfiler = profile ? new WindowProfiler() : undefined;
  if (profile) await Promise.all([world.bot.startProfile(), parentProfiler!.start()]);
  parentDelay.enable();
  const handles = await dispatch(world, { workflow: 'bench-tiny', label: `ack burst ${run}` }, size);
  await Promise.all(handles.map((handle) => handle.waitForCallback(30_000)));
  parentDelay.disable();
  if (profile) {
    await world.bot.stopProfile(profile);
    await parentProfiler!.stop(profile.replace(/-bot\.cpuprofile$/, '-parent.cpuprofile'));
  }
  const ends = await Promise.all(handles.map((handle) => tracker.follow(handle)));
  requireSuccess(ends, 'acknowledgement');
  const latencies = handles.map((handle) => handle.record.callback!.at - handle.record.createdAt);
  // Let the deliveries' last steps (after the cards) finish so the next burst starts from a quiet bot.
  await world.waitForSettled();
  const bot = await world.bot.sample();
  const sentAt = handles.map((handle) => handle.record.createdAt);
  const after = (stamps: Record<string, number>) => (handle: InteractionHandle) =>
    (stamps[handle.id] ?? Number.NaN) - handle.record.createdAt;
  const lastAck = Math.max(...handles.map((handle) => handle.record.callback!.at));
  const written = handles.map(after(bot.trace.callbackSent)).filter((ms) => Number.isFinite(ms));
  const summary = {
    run,
    ackMs: summarize(latencies),
    /** How fast the bot worked through the burst: interactions over first send to last callback. */
    acksPerSecond: size / ((lastAck - Math.min(...sentAt)) / 1000),
    /** How long the fake took to dispatch the whole burst (it cannot send faster than this). */
    dispatchSpreadMs: Math.max(...sentAt) - Math.min(...sentAt),
    /** From the fake's send to discord.js in the bot emitting the packet (`raw`). */
    reachedDiscordJsMs: summarize(handles.map(after(bot.trace.interactions))),
    /** From the fake's send to the bot creating the callback request (the handler got as far as deferring). */
    callbackCreatedMs: summarize(handles.map(after(bot.trace.callbackCreated))),
    /** From the fake's send to the bot writing the callback's headers to a socket (connection found or made). */
    callbackSentMs: summarize(handles.map(after(bot.trace.callbackSent))),
    /** From the fake's send to discord.js in the bot getting the callback's answer. */
    callbackAnsweredMs: summarize(handles.map(after(bot.trace.callbacks))),
    botLoopDelayMs: bot.loopDelayMs,
    parentLoopDelayP99Ms: parentDelay.percentile(99) / 1e6,
    profile,
  };
  return { latencies, written, summary };
}

/** Acknowledgement latency of lone interactions: what one member sees when nobody else is asking. */
async function measureSingles(world: BenchWorld, tracker: JobTracker, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const [end] = await burst(world, tracker, { workflow: 'bench-tiny', label: `ack single ${index}` }, 1);
    requireSuccess([end!], 'single acknowledgement');
    latencies.push(end!.ackAt! - end!.sentAt);
    await world.waitForSettled();
  }
  return latencies;
}
