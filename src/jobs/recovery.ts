/**
 * After a restart: rebuilding the terminal event of a job that ended but whose delivery was never confirmed. A
 * succeeded job's files are read from the data directory, where they were kept when it finished (result-files.ts).
 * Only when they are missing (kept by an older version, or the disk was full) are they downloaded again from the
 * server that made them (ComfyUI keeps its outputs on disk); that server may be restarting along with the bot, so
 * recovery waits for it as the queue does, up to the outage timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ComfyOutputTooLargeError, ComfyProtocolError, type ComfyServer } from '../comfy/index.js';
import { UserFacingError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JobFile, TerminalJobEvent } from './events.js';
import { downloadOutputs } from './job-files.js';
import type { QueueEngine } from './engine/queue-engine.js';
import { emptyQueueState, type QueueState } from './engine/queue-state.js';
import { errorOfFailure } from './failure-policy.js';
import { enqueue, type JobQueue } from './job-queue.js';
import type { JobRepository, Salvage } from './job-repository.js';
import { isTerminal, type JobRecord } from './model.js';
import { RECORD_LOST_SENTENCE } from './salvage.js';
import type { ResultFiles } from './result-files.js';

/** What recovery needs from the runner. */
export interface RecoveryContext {
  readonly results: ResultFiles;
  /** The server's client, if it is configured. */
  readonly clientOf: (server: string) => ComfyServer | undefined;
  /** True while the server passes its health checks. */
  readonly isUp: (server: string) => boolean;
  readonly logger: Logger;
  /** Aborted when the bot stops: the refetch gives up (the next start tries again). */
  readonly signal: AbortSignal;
  /** How long to wait for the server to come back and hand over the files (the outage timeout). */
  readonly waitMs: number;
  /** The first pause between two tries; it doubles up to 10 s. Default 500 ms. */
  readonly retryDelayMs?: number;
}

const MAX_RETRY_DELAY_MS = 10_000;
const SERVER_CHECK_MS = 250;

/** The event a finished job should have delivered; undefined when the bot is stopping. */
export async function rebuildTerminalEvent(
  job: JobRecord,
  context: RecoveryContext,
): Promise<TerminalJobEvent | undefined> {
  if (job.state === 'cancelled') return { type: 'cancelled' };
  if (job.state === 'failed') return { type: 'failed', error: errorOfFailure(job.failure) };
  const startedAt = job.startedAt ?? job.submittedAt ?? job.createdAt;
  const durationMs = (job.finishedAt ?? Date.now()) - startedAt;
  const kept = job.keptFiles === undefined ? undefined : await context.results.load(job.id, job.keptFiles);
  const files = kept ?? (await refetch(job, context));
  if (files === 'stopping') return undefined;
  if (files instanceof ComfyOutputTooLargeError) return { type: 'failed', error: files };
  if (files instanceof Error) {
    // The job stays succeeded in the store (its outputs are still named there); the member is told what happened.
    const sentence =
      'Your image was made, but the image server that holds it could not be reached; please try again later.';
    return { type: 'failed', error: new UserFacingError('output-unavailable', sentence, { cause: files }) };
  }
  return { type: 'succeeded', files, applied: job.applied, durationMs };
}

/** Downloads the files again, waiting for their server while it is down, up to `waitMs`. */
async function refetch(job: JobRecord, context: RecoveryContext): Promise<JobFile[] | Error | 'stopping'> {
  const deadline = Date.now() + context.waitMs;
  let delayMs = context.retryDelayMs ?? 500;
  let lastError: Error = new Error('the server never came up');
  for (;;) {
    const server = job.server;
    const client = server === undefined ? undefined : context.clientOf(server);
    if (client === undefined || server === undefined) {
      context.logger.warn({ jobId: job.id, server }, 'the server of a finished job is no longer configured');
      return new Error(`server ${server ?? '(none)'} is not configured`);
    }
    let pauseMs = SERVER_CHECK_MS;
    if (context.isUp(server)) {
      try {
        return await downloadOutputs(client, job.outputs);
      } catch (error) {
        if (context.signal.aborted) return 'stopping';
        lastError = error instanceof Error ? error : new Error(String(error));
        // The server is up and says the file is gone (its output folder was cleaned): waiting will not bring it back.
        if (error instanceof ComfyProtocolError && error.status === 404) return lastError;
        if (error instanceof ComfyOutputTooLargeError) return lastError;
        pauseMs = delayMs;
        delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
      }
    }
    if (Date.now() + pauseMs > deadline) {
      context.logger.warn({ err: lastError, jobId: job.id, server }, 'could not fetch the result of a finished job');
      return lastError;
    }
    // While the server is down, its health (checked by the pool) is looked at often: it costs nothing.
    const slept = await sleep(pauseMs, true, { signal: context.signal }).catch(() => false);
    if (!slept) return 'stopping';
  }
}

/**
 * The embedded queue's state rebuilt from the store's open jobs after a restart: waiting jobs queued again in their
 * order, jobs on a server holding their slot there (to be followed), finished ones handed off to be delivered.
 */
export function queueStateFromJobs(open: readonly JobRecord[]): QueueState {
  const state = emptyQueueState(Math.max(0, ...open.map((job) => job.sequence + 1)));
  for (const job of [...open].sort((a, b) => a.sequence - b.sequence)) {
    const { id, memberId, workflow, createdAt } = job;
    if (job.state === 'waiting') {
      enqueue(state, { id, memberId, workflow, createdAt }, createdAt);
      continue;
    }
    if (!isTerminal(job.state)) state.admit(id, memberId, createdAt);
    const key = `${id}-${state.core.nextHandOff++}`;
    const onServer = isTerminal(job.state) ? {} : { server: job.server ?? '', startedAt: job.startedAt };
    state.handOffs[id] = { key, memberId, workflow, at: Date.now(), ...onServer };
  }
  return state;
}

/** What taking in the open jobs the fleet's queue does not know needs. */
export interface StrayJobsContext {
  readonly queue: JobQueue;
  readonly repository: JobRepository;
  readonly engine: Pick<QueueEngine, 'handOff' | 'changed'>;
  /** Rebuilds an open job whose record cannot be read (salvage.ts). */
  readonly salvage: Salvage;
  /** A salvaged job's prompts to cancel on the servers. */
  readonly orphaned: (job: JobRecord) => void;
  /** How long a record must have stood unchanged before it counts as a stray (not a job some process is taking in). */
  readonly graceMs: number;
  readonly logger: Logger;
}

/**
 * In a fleet, the queue's state in Redis is the truth, and no start rebuilds it from the store as the embedded engine
 * does. An open job may still be unknown to it: its process died after writing it and before admitting it (intake.ts),
 * or its hand-off was dropped because its record could not be read. And a waiting job whose record broke would wait
 * for ever (the dispatcher cannot read what it needs). The dispatcher, one process at a time, takes them in: a waiting
 * one is queued (counted, at the back of its member's lane), one that ended is handed off to be delivered, one on a
 * server to be followed; an unreadable one is salvaged first (salvage.ts), by this one process only. Each step is one
 * atomic change that does nothing when the queue knows the job already, so a job is taken in once, however many
 * processes look. Resolves with how many were taken in.
 */
export async function takeInStrayJobs(context: StrayJobsContext): Promise<number> {
  const { queue, repository, logger } = context;
  const state = await queue.refresh();
  const waiting = new Set(queue.ordered(state).map((job) => job.id));
  let taken = 0;
  for (const id of await repository.openIds()) {
    const isWaiting = waiting.has(id);
    if (!isWaiting && queue.knows(id, state)) continue;
    const readable = await repository.get(id);
    if (isWaiting && readable !== undefined) continue;
    // A job intake entered is judged by its entry, on the fleet's one clock (`readmit`); others by their record's age.
    const judged = queue.inIntake(id, state);
    if (readable !== undefined && !judged && Date.now() - readable.updatedAt < context.graceMs) continue;
    const job = readable ?? (await repository.getOpen(id, context.salvage));
    if (job !== undefined && readable === undefined) context.orphaned(job);
    const took = isWaiting ? await endBrokenWaiting(context, id, job) : job && (await takeIn(context, job));
    if (!took) continue;
    taken += 1;
    logger.warn({ jobId: id, state: job?.state }, 'took in an open job the fleet’s queue could not carry on');
  }
  if (taken > 0) context.engine.changed();
  return taken;
}

/** Queues a waiting job, or hands off one that ended or is on a server; false when the queue knew it meanwhile. */
async function takeIn({ queue, engine }: StrayJobsContext, job: JobRecord): Promise<boolean> {
  const { id, memberId, workflow, createdAt } = job;
  if (job.state === 'waiting') return queue.readmit({ id, memberId, workflow, createdAt });
  const handOff = await queue.adopt(job, isTerminal(job.state) ? undefined : (job.server ?? ''));
  if (handOff === undefined) return false;
  await engine.handOff(id, handOff);
  return true;
}

/**
 * A waiting job whose record broke leaves the queue, handed off to be delivered as salvaged (its member reads why), or
 * dropped by its carrier when nothing of it could be rebuilt.
 */
async function endBrokenWaiting(
  { queue, engine }: StrayJobsContext,
  id: string,
  salvaged: JobRecord | undefined,
): Promise<boolean> {
  const failure = salvaged?.failure ?? { identifier: 'job-record-lost', message: RECORD_LOST_SENTENCE };
  const handOff = await queue.endWaiting(id, { state: 'failed', ...failure });
  if (handOff === undefined) return false;
  await engine.handOff(id, handOff);
  return true;
}
