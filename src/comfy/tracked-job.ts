/**
 * The client's side of one job handle: its folded state, the stall timer, and delivery of events to the handle.
 * Events are held back until the handle is activated, so a caller that attaches listeners right after `submit`
 * resolves misses nothing that arrived while the POST was in flight.
 */
import type { Logger } from 'pino';
import { ComfyJob, type JobSnapshot } from './job.js';
import { JobState, type JobEvent } from './job-state.js';
import type { NodeErrors, QueueSnapshot } from './schemas.js';

/** What the job monitor gives each tracked job. */
export interface TrackedJobOptions {
  readonly server: string;
  readonly promptId: string;
  /** True when we queued the prompt ourselves; false when following a prompt submitted earlier. */
  readonly known: boolean;
  /** No sign of life (an event, the queue moving, the server listing the prompt) this long fails it; 0: never. */
  readonly stallTimeoutMs: number;
  readonly logger: Logger;
  readonly cancel: (promptId: string) => Promise<void>;
  readonly onStall: (tracked: TrackedJob) => void;
  readonly onSettled: (tracked: TrackedJob) => void;
}

/** One in-flight prompt as the monitor tracks it. */
export class TrackedJob {
  readonly state: JobState;
  readonly job: ComfyJob;
  /** True while `POST /prompt` is in flight: the server may not list the prompt yet, so reconciliation skips it. */
  submitting = false;
  /** Outputs the server dropped at validation (200 with `node_errors`). */
  warnings: NodeErrors = {};
  private readonly deliver: (event: JobEvent) => void;
  private buffered: JobEvent[] | undefined = [];
  private lastProgress: JobSnapshot['progress'];
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TrackedJobOptions) {
    this.state = new JobState(options.server, options.promptId, options.known);
    const { job, deliver } = ComfyJob.open({
      server: options.server,
      promptId: options.promptId,
      warnings: () => this.warnings,
      cancel: () => options.cancel(this.state.promptId),
      snapshot: () => ({ phase: this.state.phase, position: this.state.position, progress: this.lastProgress }),
      onListenerError: (error, event) => options.logger.error({ err: error, event }, 'comfy job listener threw'),
    });
    this.job = job;
    this.deliver = deliver;
    this.touch();
  }

  /** Applies events produced by the state; any event counts as activity for the stall timer. */
  apply(events: readonly JobEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      if (event.type === 'progress') this.lastProgress = { value: event.value, max: event.max, node: event.node };
      if (this.buffered) this.buffered.push(event);
      else this.deliver(event);
    }
    if (this.state.terminal) this.settle();
    else this.touch();
  }

  /**
   * Folds a `/queue` snapshot. A prompt the server lists, running or waiting its turn, is alive: a long node (video
   * encoding, a model loading) may send no event for many minutes, and the prompts behind it wait as long.
   */
  onQueue(queue: QueueSnapshot): void {
    this.apply(this.state.onQueue(queue));
    if (!this.state.terminal && !this.state.absentFrom(queue)) this.touch();
  }

  /** Starts delivering events to the handle's listeners, first those held back. */
  activate(): void {
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    for (const event of buffered) this.deliver(event);
  }

  /** Records a sign of life (an event, the queue moving, the prompt listed): the stall timer starts over. */
  touch(): void {
    clearTimeout(this.stallTimer);
    if (this.state.terminal || this.options.stallTimeoutMs <= 0) return;
    this.stallTimer = setTimeout(() => this.options.onStall(this), this.options.stallTimeoutMs);
    this.stallTimer.unref();
  }

  /** Stops the stall timer (the client is closing). */
  stop(): void {
    clearTimeout(this.stallTimer);
  }

  private settle(): void {
    clearTimeout(this.stallTimer);
    this.options.onSettled(this);
  }
}
