/**
 * How the client learns where its prompts are and cancels them. Current ComfyUI has the jobs API (`/api/jobs`,
 * PROTOCOL-current.md §1), which says in one answer whether a prompt is pending, running or how it ended: it is the
 * truth there. Servers without it (0.3.x) are read through `/queue` then `/history`, and cancelled through
 * `POST /queue {delete}` and `/interrupt`. Which one a server has is found by probing `/api/jobs` (404 = absent),
 * never from a version string, once per connection: a restarted server (perhaps upgraded) is probed again.
 */
import type { Logger } from 'pino';
import type { ComfyHttp } from './http.js';
import type { HistoryEntry, QueueSnapshot } from './schemas.js';

/** The routes that say where prompts are and cancel them. */
export interface PromptRoutes {
  /** `jobs-api` where the server has it, `classic` (0.3.x routes) otherwise. */
  readonly kind: 'jobs-api' | 'classic';
  /** The running prompts, and the pending ones in the order they will run. */
  queue(): Promise<QueueSnapshot>;
  /** How a prompt ended, in history's shape; undefined while it is queued or running, or when the server lacks it. */
  finished(promptId: string): Promise<HistoryEntry | undefined>;
  /** Removes the prompt from the queue if pending, interrupts it if it is the running one; else does nothing. */
  cancel(promptId: string): Promise<void>;
}

/** The jobs API: the truth on servers that have it. */
export function jobsApiRoutes(http: ComfyHttp): PromptRoutes {
  return {
    kind: 'jobs-api',
    queue: () => http.activeJobs(),
    finished: async (promptId) => http.finishedJob(promptId),
    cancel: async (promptId) => {
      await http.cancelJob(promptId);
    },
  };
}

/** 0.3.x: `/queue` and `/history`, `POST /queue {delete}` and `POST /interrupt {prompt_id}`. */
export function classicRoutes(http: ComfyHttp): PromptRoutes {
  return {
    kind: 'classic',
    queue: () => http.queue(),
    finished: (promptId) => http.history(promptId),
    cancel: async (promptId) => {
      const queue = await http.queue();
      if (queue.pending.includes(promptId)) {
        await http.deleteFromQueue([promptId]);
        // It may have started between the two calls; deleting then did nothing.
        if ((await http.queue()).running.includes(promptId)) await http.interrupt(promptId);
      } else if (queue.running.includes(promptId)) {
        await http.interrupt(promptId);
      }
    },
  };
}

/** Finds out once per connection which routes a server has, and forgets it when the connection is lost. */
export class PromptRoutesDetector {
  private detected: Promise<PromptRoutes> | undefined;

  constructor(
    private readonly http: ComfyHttp,
    private readonly logger: Logger,
  ) {}

  /** The routes to use now: probed on first use after a (re)connection, then the same answer. */
  routes(): Promise<PromptRoutes> {
    this.detected ??= this.detect().catch((error: unknown) => {
      // A failed probe says nothing about the server: probe again next time.
      this.detected = undefined;
      throw error;
    });
    return this.detected;
  }

  /** The connection was lost (the server may restart as another version): probe again on next use. */
  forget(): void {
    this.detected = undefined;
  }

  private async detect(): Promise<PromptRoutes> {
    const hasJobsApi = await this.http.probeJobsApi();
    if (hasJobsApi === undefined) {
      // Neither 200 nor 404: use the routes every version has, without remembering the answer.
      this.logger.warn('comfy jobs API probe was inconclusive; using /queue and /history for now');
      this.detected = undefined;
      return classicRoutes(this.http);
    }
    this.logger.debug({ jobsApi: hasJobsApi }, 'comfy prompt routes detected');
    return hasJobsApi ? jobsApiRoutes(this.http) : classicRoutes(this.http);
  }
}
