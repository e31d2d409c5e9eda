/**
 * Ways of sending `/imagine` load at the bot: a burst (everything dispatched at once, members taking turns) and a
 * closed loop (keep N jobs open, send the next as each ends), both followed to their end through a `JobTracker`.
 */
import type { FakeUser, InteractionHandle } from '../../test/fakes/discord/index.js';
import type { JobEnd, JobTracker } from './job-tracker.js';
import type { BenchWorld } from './world.js';

/** What every job of a load runs. */
export interface JobSpec {
  readonly workflow: string;
  /** Text after the prompt (flags such as `--steps 10`). */
  readonly flags?: string;
  /** A label that makes prompts unique per run (they name threads, and identical prompts would be cached). */
  readonly label: string;
}

/** Sends `count` jobs at once (the fake dispatches them in one write), member `i % members` sending job `i`. */
export function dispatch(world: BenchWorld, spec: JobSpec, count: number): Promise<InteractionHandle[]> {
  return world.imagineAll(Array.from({ length: count }, (_, index) => request(world, spec, index)));
}

/** Sends `count` jobs at once and resolves when every one has ended. */
export async function burst(world: BenchWorld, tracker: JobTracker, spec: JobSpec, count: number): Promise<JobEnd[]> {
  const handles = await dispatch(world, spec, count);
  return Promise.all(handles.map((handle) => tracker.follow(handle)));
}

/** Options of a closed loop. */
export interface ClosedLoopOptions {
  readonly total: number;
  /** Jobs kept open at once. */
  readonly window: number;
  /** Called as each job ends (in the order they end). */
  readonly onEnd?: (end: JobEnd, ended: number) => void | Promise<void>;
}

/** Keeps `window` jobs open until `total` have been sent; resolves with every end, in the order they ended. */
export async function closedLoop(
  world: BenchWorld,
  tracker: JobTracker,
  spec: JobSpec,
  options: ClosedLoopOptions,
): Promise<JobEnd[]> {
  const ends: JobEnd[] = [];
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < options.total) {
      const index = sent++;
      const end = await tracker.follow(await send(world, spec, index));
      ends.push(end);
      await options.onEnd?.(end, ends.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.window, options.total) }, lane));
  return ends;
}

function send(world: BenchWorld, spec: JobSpec, index: number) {
  const { member, prompt, workflow } = request(world, spec, index);
  return world.imagine(member, prompt, workflow);
}

/** Job `index` of a load: who sends it and what it asks for. */
function request(world: BenchWorld, spec: JobSpec, index: number) {
  const member: FakeUser = world.members[index % world.members.length]!;
  const prompt = `${spec.label} job ${index + 1}${spec.flags ? ` ${spec.flags}` : ''}`;
  return { member, prompt, workflow: spec.workflow };
}

/** Throws with the first reasons when some jobs did not succeed: a figure over failed jobs would mislead. */
export function requireSuccess(ends: readonly JobEnd[], what: string): void {
  const failed = ends.filter((end) => !end.ok);
  if (failed.length === 0) return;
  const reasons = [...new Set(failed.map((end) => end.reason ?? 'unknown'))].slice(0, 5);
  throw new Error(`${failed.length} of ${ends.length} ${what} jobs failed: ${reasons.join(' | ')}`);
}
