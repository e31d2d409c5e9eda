/**
 * Follows every in-flight prompt of one client: routes WebSocket messages and frames to their jobs by prompt id, and
 * reconciles with the server's queue then the prompt's end (the truth: the jobs API where the server has it, else
 * `/queue` then `/history`; see `prompt-routes.ts`) after every reconnect, on queue movement, and by polling — with
 * backoff while the socket is down, at a slow interval while it is up (for prompts whose events go elsewhere).
 */
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { BinaryFrame } from './binary-frames.js';
import { ComfyClosedError, ComfyStalledError, ComfyUnreachableError } from './errors.js';
import type { PromptRoutes } from './prompt-routes.js';
import { TrackedJob } from './tracked-job.js';
import type { ComfyMessage } from './ws-messages.js';

/** What the monitor needs from its client. */
export interface JobMonitorOptions {
  readonly server: string;
  /** The routes that say where prompts are (detected once per connection). */
  readonly routes: () => Promise<PromptRoutes>;
  readonly logger: Logger;
  readonly stallTimeoutMs: number;
  /** Backoff of reconciliation while the socket is down or the server fails. */
  readonly poll: BackoffOptions;
  /** Reconciliation interval while the socket is up. */
  readonly pollIntervalMs: number;
  readonly isSocketOpen: () => boolean;
  readonly cancel: (promptId: string) => Promise<void>;
}

/** Bursts of `status` messages (queued, dequeued, finished) are folded into one reconciliation. */
const COALESCE_MS = 20;

/** The in-flight prompts of one client. */
export class JobMonitor {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly backoff: Backoff;
  private runningPromptId: string | undefined;
  private queueRemaining: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private reconciling = false;
  private reconcileAgain = false;
  private unreachable = false;
  private closed = false;

  constructor(private readonly options: JobMonitorOptions) {
    this.backoff = new Backoff(options.poll);
  }

  /** How many prompts are being followed. */
  get size(): number {
    return this.jobs.size;
  }

  /** The tracked job of a prompt, if it is followed. */
  get(promptId: string): TrackedJob | undefined {
    return this.jobs.get(promptId);
  }

  /** Starts following a prompt (or returns the job already following it). */
  track(promptId: string, known: boolean): TrackedJob {
    const existing = this.jobs.get(promptId);
    if (existing) return existing;
    const { server, logger, stallTimeoutMs, cancel } = this.options;
    const tracked = new TrackedJob({
      server,
      promptId,
      known,
      stallTimeoutMs,
      logger,
      cancel,
      onStall: (job) => this.stall(job),
      onSettled: (job) => this.settled(job),
    });
    this.jobs.set(promptId, tracked);
    return tracked;
  }

  /** Stops following a prompt whose submission failed; its handle was never given out. */
  forget(promptId: string): void {
    this.jobs.get(promptId)?.stop();
    this.jobs.delete(promptId);
  }

  /** Routes a text message to the job it is about. */
  onMessage(message: ComfyMessage): void {
    if (message.type === 'status') {
      this.onQueueStatus(message.data.status?.exec_info.queue_remaining);
      return;
    }
    if (message.type === 'feature_flags') {
      this.options.logger.debug(message.data, 'comfy feature flags');
      return;
    }
    const promptId = message.data.prompt_id ?? this.runningPromptId;
    this.trackRunning(message, promptId);
    const tracked = promptId === undefined ? undefined : this.jobs.get(promptId);
    if (!tracked) return;
    tracked.apply(tracked.state.onMessage(message));
    // `executing {node: null}` closes the prompt: history now says how it ended.
    if (message.type === 'executing' && message.data.node === null && !tracked.state.terminal) {
      void this.confirmFromHistory(tracked);
    }
  }

  /** Routes a binary frame; legacy previews name no prompt and belong to the one running now. */
  onFrame(frame: BinaryFrame): void {
    const promptId = (frame.kind === 'preview' ? frame.promptId : undefined) ?? this.runningPromptId;
    const tracked = promptId === undefined ? undefined : this.jobs.get(promptId);
    if (tracked) tracked.apply(tracked.state.onFrame(frame));
  }

  /** The socket (re)opened: events may have been missed, so reconcile at once. */
  onSocketOpen(): void {
    this.backoff.reset();
    this.requestReconcile(0);
  }

  /** The socket closed: the server may be restarting; poll with backoff until it is back. */
  onSocketClosed(): void {
    this.runningPromptId = undefined;
    for (const tracked of this.jobs.values()) tracked.state.onConnectionLost();
    this.requestReconcile(this.backoff.next());
  }

  /** Asks for a reconciliation pass within `delayMs` (passes never overlap; requests in between fold into one). */
  requestReconcile(delayMs = COALESCE_MS): void {
    if (this.closed || this.inFlight().length === 0) return;
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
      void this.reconcile();
    }, delayMs);
  }

  /** Stops following: every in-flight job fails with `ComfyClosedError`. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const tracked of [...this.jobs.values()]) {
      tracked.apply(tracked.state.fail(new ComfyClosedError(this.options.server, tracked.state.promptId)));
      tracked.stop();
    }
    this.jobs.clear();
  }

  private inFlight(): TrackedJob[] {
    return [...this.jobs.values()].filter((tracked) => !tracked.submitting && !tracked.state.terminal);
  }

  private onQueueStatus(remaining: number | undefined): void {
    if (remaining !== undefined && remaining !== this.queueRemaining) {
      // The queue moved: that is activity for every job waiting on it.
      for (const tracked of this.jobs.values()) tracked.touch();
    }
    this.queueRemaining = remaining ?? this.queueRemaining;
    this.requestReconcile();
  }

  private trackRunning(message: ComfyMessage, promptId: string | undefined): void {
    if (promptId === undefined) return;
    const ended =
      (message.type === 'executing' && message.data.node === null) ||
      message.type === 'execution_error' ||
      message.type === 'execution_interrupted';
    if (ended && this.runningPromptId === promptId) this.runningPromptId = undefined;
    else if (!ended && (message.type === 'execution_start' || message.type === 'executing')) {
      this.runningPromptId = promptId;
    }
  }

  private async confirmFromHistory(tracked: TrackedJob): Promise<void> {
    try {
      const entry = await (await this.options.routes()).finished(tracked.state.promptId);
      if (entry) return tracked.apply(tracked.state.onHistory(entry));
    } catch (error) {
      this.options.logger.debug({ err: error }, 'comfy history lookup failed; reconciling');
    }
    this.requestReconcile(0);
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    let healthy = false;
    try {
      await this.reconcilePass();
      healthy = true;
      this.unreachable = false;
    } catch (error) {
      this.reconcileFailed(error);
    } finally {
      this.reconciling = false;
    }
    if (this.reconcileAgain) {
      this.reconcileAgain = false;
      this.requestReconcile(0);
    } else {
      this.scheduleNextPass(healthy);
    }
  }

  private async reconcilePass(): Promise<void> {
    const jobs = this.inFlight();
    if (jobs.length === 0) return;
    // Queue first, history second: a prompt finishing in between is then found in history, never missed by both.
    const routes = await this.options.routes();
    const queue = await routes.queue();
    // After a reconnect, legacy previews (which name no prompt) belong to whatever the queue says is running.
    this.runningPromptId ??= queue.running[0];
    for (const tracked of jobs) tracked.onQueue(queue);
    for (const tracked of jobs) {
      if (tracked.state.terminal || !tracked.state.absentFrom(queue)) continue;
      const entry = await routes.finished(tracked.state.promptId);
      tracked.apply(tracked.state.onHistory(entry));
    }
  }

  private reconcileFailed(error: unknown): void {
    if (error instanceof ComfyUnreachableError) {
      this.unreachable = true;
      for (const tracked of this.jobs.values()) tracked.state.onConnectionLost();
      this.options.logger.debug({ err: error }, 'comfy server unreachable while reconciling');
    } else {
      this.options.logger.warn({ err: error }, 'comfy reconciliation failed');
    }
  }

  private scheduleNextPass(healthy: boolean): void {
    const jobs = this.inFlight();
    if (jobs.length === 0) return;
    if (healthy && jobs.some((tracked) => tracked.state.recheckDue))
      return this.requestReconcile(this.options.poll.minMs);
    if (!healthy || !this.options.isSocketOpen()) return this.requestReconcile(this.backoff.next());
    this.requestReconcile(this.pollIntervalMs());
  }

  /** Polls often enough that a prompt the server lists is seen alive well before the stall timer fires. */
  private pollIntervalMs(): number {
    const { pollIntervalMs, stallTimeoutMs } = this.options;
    return stallTimeoutMs > 0 ? Math.min(pollIntervalMs, Math.max(10, Math.floor(stallTimeoutMs / 4))) : pollIntervalMs;
  }

  private stall(tracked: TrackedJob): void {
    const { server, stallTimeoutMs } = this.options;
    const promptId = tracked.state.promptId;
    const error = this.unreachable
      ? new ComfyUnreachableError(server, `no contact for ${stallTimeoutMs} ms while following prompt ${promptId}`)
      : new ComfyStalledError(server, promptId, stallTimeoutMs, tracked.state.describe());
    this.options.logger.warn({ promptId, err: error }, 'comfy job stalled');
    tracked.apply(tracked.state.fail(error));
    // The job has failed for the member; do not let the prompt spend the server's time later.
    if (!this.unreachable) {
      this.options.cancel(promptId).catch((cause: unknown) => {
        this.options.logger.debug({ err: cause, promptId }, 'comfy cancel of a stalled prompt failed');
      });
    }
  }

  private settled(tracked: TrackedJob): void {
    if (this.jobs.get(tracked.state.promptId) === tracked) this.jobs.delete(tracked.state.promptId);
  }
}
