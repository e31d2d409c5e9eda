/**
 * What the runner tells the Discord layer about jobs, and how it waits for the Discord layer to confirm a result.
 *
 * Delivery contract (exactly once):
 * - Non-terminal events (`queued`, `submitted`, `progress`, `preview`, `moved`) are fire-and-forget: a listener may
 *   return a promise, which is not awaited (only its rejection is logged), so a slow Discord edit never holds a job.
 *   `leaving-queue` (sent before the dispatcher hands off a job whose positions it showed) asks listeners to drop the
 *   position still pending; it is not waited for either: that no position lands on a card after a later state is the
 *   card layer's rule (src/discord/card-updater.ts, with a fleet's fence in Redis).
 * - Each job gets exactly one terminal event (`succeeded`, `failed`, `cancelled`) per process, after its terminal
 *   state is persisted. The runner awaits every listener's promise for it; only when all of them resolve does it
 *   persist `deliveredAt`. A job without `deliveredAt` is delivered again (with backoff, and by `resume()` after a
 *   restart, results that finished while the bot was down included) for up to a day. A listener rejects only for a
 *   failure worth trying again; a refusal that would repeat itself it handles (falls back) and resolves.
 * - A crash can fall between a listener's side effects and the `deliveredAt` write, so a listener can receive the
 *   same terminal event again: listeners are idempotent, keeping their own record of what they did (the Discord face:
 *   src/discord/delivery-journal.ts).
 */
import type { UserFacingError } from '../errors.js';
import type { JobRecord } from './model.js';

/** One file a finished job produced, downloaded from the server that ran it. */
export interface JobFile {
  readonly bytes: Buffer;
  readonly filename: string;
  readonly mimeType: string;
  /** The output node that wrote it. */
  readonly node: string;
  /** Set for a text output: shown as words rather than attached (its `bytes` are the same text, UTF-8). */
  readonly text?: string;
}

/** Everything that happens to a job, as the Discord layer renders it. */
export type JobEvent =
  /** Waiting in the bot's queue; sent again whenever the position changes. */
  | { readonly type: 'queued'; readonly position: number }
  /**
   * Leaving the queue in the process that announced its positions: it is handed off now (to run, or to be ended),
   * and whatever process carries it edits the card from here on. Listeners finish their position edits of it.
   */
  | { readonly type: 'leaving-queue' }
  /** Handed to a server (first time). */
  | { readonly type: 'submitted'; readonly server: string }
  | {
      readonly type: 'progress';
      readonly value: number;
      readonly max: number;
      readonly node: string | null;
      readonly elapsedMs: number;
    }
  | { readonly type: 'preview'; readonly bytes: Buffer; readonly mimeType: string }
  /** Its server went away and the job was handed to another (or the same one, back again). */
  | { readonly type: 'moved'; readonly from: string; readonly to: string }
  | {
      readonly type: 'succeeded';
      readonly files: readonly JobFile[];
      readonly applied: Readonly<Record<string, unknown>>;
      readonly durationMs: number;
    }
  | { readonly type: 'failed'; readonly error: UserFacingError }
  | { readonly type: 'cancelled' };

/** The events after which nothing more happens to a job. */
export type TerminalJobEvent = Extract<JobEvent, { type: 'succeeded' | 'failed' | 'cancelled' }>;

/** Receives every event of every job; a promise returned for a terminal event is the delivery confirmation. */
export type JobListener = (job: JobRecord, event: JobEvent) => void | Promise<void>;

/** True for the events that end a job. */
export function isTerminalEvent(event: JobEvent): event is TerminalJobEvent {
  return event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled';
}
