/**
 * After a restart: rebuilding the terminal event of a job that ended but whose delivery was never confirmed. A
 * succeeded job's files are downloaded again from the server that made them (ComfyUI keeps its outputs on disk).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComfyServer } from '../comfy/index.js';
import { UserFacingError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TerminalJobEvent } from './events.js';
import { downloadOutputs } from './job-files.js';
import type { JobRecord } from './model.js';

/** How hard to try fetching a result again: the server may be restarting along with the bot. */
export interface RefetchOptions {
  readonly tries: number;
  readonly delayMs: number;
}

const DEFAULT_REFETCH: RefetchOptions = { tries: 4, delayMs: 1_000 };

/** The event a finished job should have delivered; undefined when `signal` aborted the refetch (bot stopping). */
export async function rebuildTerminalEvent(
  job: JobRecord,
  clientOf: (server: string) => ComfyServer | undefined,
  logger: Logger,
  signal: AbortSignal,
  options: RefetchOptions = DEFAULT_REFETCH,
): Promise<TerminalJobEvent | undefined> {
  if (job.state === 'cancelled') return { type: 'cancelled' };
  if (job.state === 'failed') {
    const identifier = job.failure?.identifier ?? 'job-failed';
    const message = job.failure?.message ?? 'Something went wrong while making this image; please try again.';
    return { type: 'failed', error: new UserFacingError(identifier, message) };
  }
  const startedAt = job.startedAt ?? job.submittedAt ?? job.createdAt;
  const durationMs = (job.finishedAt ?? Date.now()) - startedAt;
  for (let attempt = 1; ; attempt++) {
    const client = job.server === undefined ? undefined : clientOf(job.server);
    try {
      if (client === undefined) throw new Error(`server ${job.server ?? '(none)'} is not configured`);
      const files = await downloadOutputs(client, job.outputs);
      return { type: 'succeeded', files, applied: job.applied, durationMs };
    } catch (error) {
      if (signal.aborted) return undefined;
      if (attempt < options.tries && client !== undefined) {
        const slept = await sleep(options.delayMs * attempt, true, { signal }).catch(() => false);
        if (!slept) return undefined;
        continue;
      }
      logger.warn({ err: error, jobId: job.id }, 'could not fetch the result of a finished job again');
      const sentence = 'The image was made, but the bot could not fetch it from the image server; please try again.';
      return { type: 'failed', error: new UserFacingError('output-unavailable', sentence, { cause: error }) };
    }
  }
}
