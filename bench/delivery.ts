/**
 * Delivery overhead: from the ComfyUI server's `execution_success` (its timestamp in `/history`) to the fake Discord
 * receiving the PATCH that puts the finished card, with its ~1 MiB PNG, in place. Jobs run one at a time with
 * previews, as a member would see them, first with the bot as shipped (events over the WebSocket), then with the same
 * bot given a client that can only poll `/history` every second, as the seed demo did. Each job draws its step count
 * (10 to 50) from a seeded sequence, the same for both variants, so render times do not line up with the polling
 * interval (a fixed render time would land every job at the same point of the poll cycle).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedCall } from '../test/fakes/discord/index.js';
import { promptIdOf, promptRuns, type PromptRun } from './lib/comfy-history.js';
import { JobTracker, type JobEnd } from './lib/job-tracker.js';
import { mulberry32 } from '../src/emulator/media/synthesize.js';
import type { BenchResult } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { BenchWorld, type BotOptions } from './lib/world.js';

/** How big a run is. */
export interface DeliveryOptions {
  /** Measured jobs per variant (after one warm-up job). */
  readonly jobs: number;
  /** Time per sampler step on the emulator (10 to 50 steps per job). */
  readonly stepMs: number;
  /** The polling variant's interval. */
  readonly pollMs: number;
}

/** The full-size run: renders of 0.25 to 1.25 s. */
export const DELIVERY_DEFAULTS: DeliveryOptions = { jobs: 20, stepMs: 25, pollMs: 1000 };

const WORKFLOW = 'bench-1mib';

/** One job's delivery, by the fake's and the server's clocks, with the bot's own timestamp in between. */
interface Delivery {
  readonly overheadMs: number;
  /** execution_success -> the runner announcing the result (the file downloaded and the job saved). */
  readonly toResultMs: number;
  /** The runner announcing the result -> the fake receiving the final PATCH. */
  readonly toUploadMs: number;
  readonly renderMs: number;
  readonly bytes: number;
}

/** Runs the delivery benchmark. */
export async function runDeliveryBench(options: DeliveryOptions = DELIVERY_DEFAULTS): Promise<BenchResult> {
  const world = await BenchWorld.start({ stepMs: [options.stepMs], previews: true, members: 1 });
  const tracker = new JobTracker();
  try {
    const socket = await measureVariant(world, tracker, options, 'websocket', {});
    const polling = await measureVariant(world, tracker, options, 'polling', { pollOnlyMs: options.pollMs });
    const events = summarize(socket.map((delivery) => delivery.overheadMs));
    const polled = summarize(polling.map((delivery) => delivery.overheadMs));
    return {
      name: 'delivery',
      title: `Delivery of a ${formatMiB(median(socket.map((delivery) => delivery.bytes)))} PNG after execution_success`,
      figures: [
        { label: 'delivery p50 (WebSocket)', value: events.median, unit: 'ms', target: { op: '<', value: 30 } },
        { label: 'delivery p99 (WebSocket)', value: events.p99, unit: 'ms' },
        { label: `delivery p50 (${options.pollMs} ms polling)`, value: polled.median, unit: 'ms' },
        { label: `delivery p99 (${options.pollMs} ms polling)`, value: polled.p99, unit: 'ms' },
        { label: 'polling / WebSocket (p50)', value: polled.median / events.median, unit: '×' },
      ],
      details: {
        options,
        websocket: { overheadMs: events, ...breakdown(socket) },
        polling: { overheadMs: polled, ...breakdown(polling) },
        samples: { websocket: socket, polling },
      },
    };
  } finally {
    tracker.close();
    await world.close();
  }
}

async function measureVariant(
  world: BenchWorld,
  tracker: JobTracker,
  options: DeliveryOptions,
  label: string,
  bot: BotOptions,
): Promise<Delivery[]> {
  await world.startBot({ ...bot, trace: true });
  const finished: Finished[] = [];
  const steps = mulberry32(7);
  // The first job warms the bot up (connections, compiled code); it is not counted.
  for (let index = 0; index <= options.jobs; index += 1) {
    const prompt = `delivery ${label} ${index}`;
    const job = await finishOne(world, tracker, prompt, 10 + Math.floor(steps() * 41));
    if (index > 0) finished.push(job);
    // The delivery's last steps follow the card; let them finish so jobs do not overlap.
    await world.waitForSettled();
  }
  const { trace } = await world.bot.sample();
  await world.stopBot();
  return finished.map(({ end, run, bytes }) => {
    const resultAt = trace.succeeded[end.handle.token] ?? Number.NaN;
    return {
      overheadMs: end.final.receivedAt - run.succeededAt,
      toResultMs: resultAt - run.succeededAt,
      toUploadMs: end.final.receivedAt - resultAt,
      renderMs: run.succeededAt - run.startedAt,
      bytes,
    };
  });
}

interface Finished {
  readonly end: JobEnd & { final: RecordedCall };
  readonly run: PromptRun;
  readonly bytes: number;
}

async function finishOne(world: BenchWorld, tracker: JobTracker, prompt: string, steps: number): Promise<Finished> {
  const [member] = world.members;
  const end = await tracker.follow(await world.imagine(member!, `${prompt} --steps ${steps}`, WORKFLOW), 60_000);
  if (!end.ok || !end.final) throw new Error(`delivery job "${prompt}" failed: ${end.reason ?? 'no result'}`);
  const emulator = world.emulators[0]!;
  const promptId = promptIdOf(emulator.received, prompt);
  let run = (await promptRuns(emulator.url)).find((candidate) => candidate.promptId === promptId);
  // The bot may see the end before history has it written; it never is more than a moment behind.
  for (let attempt = 0; !run && attempt < 20; attempt += 1) {
    await sleep(50);
    run = (await promptRuns(emulator.url)).find((candidate) => candidate.promptId === promptId);
  }
  if (!run) throw new Error(`the emulator has no finished run of "${prompt}"`);
  const bytes = end.final.files.reduce((total, file) => total + file.data.length, 0);
  return { end: { ...end, final: end.final }, run, bytes };
}

function breakdown(deliveries: readonly Delivery[]) {
  return {
    toResultMs: summarize(deliveries.map((delivery) => delivery.toResultMs)),
    toUploadMs: summarize(deliveries.map((delivery) => delivery.toUploadMs)),
    renderMs: summarize(deliveries.map((delivery) => delivery.renderMs)),
  };
}

function median(values: readonly number[]): number {
  return summarize(values).median;
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
