/**
 * The handle a caller holds for one submitted (or followed) prompt: typed events, a `done` promise that always
 * resolves with the outcome, and a snapshot of where the job is.
 */
import { EventEmitter } from 'node:events';
import type { ComfyError, ComfyInterruptedError } from './errors.js';
import type { JobEvent, JobPhase } from './job-state.js';
import type { OutputFile } from './outputs.js';
import type { NodeErrors } from './schemas.js';

/** Event name → listener arguments. Each listener receives the event object itself. */
export type ComfyJobEvents = { [K in JobEvent['type']]: [Extract<JobEvent, { type: K }>] };

/** How a job ended. Every non-success carries a `UserFacingError` the caller can show or throw. */
export type JobOutcome =
  | {
      readonly status: 'succeeded';
      readonly promptId: string;
      readonly server: string;
      readonly outputs: OutputFile[];
      /** Outputs the server dropped at validation (200 with `node_errors`); empty when all ran. */
      readonly warnings: NodeErrors;
    }
  | { readonly status: 'failed'; readonly promptId: string; readonly server: string; readonly error: ComfyError }
  | {
      readonly status: 'interrupted';
      readonly promptId: string;
      readonly server: string;
      readonly error: ComfyInterruptedError;
    };

/** Where a job is right now. */
export interface JobSnapshot {
  readonly phase: JobPhase;
  /** 1-based place among pending prompts while queued. */
  readonly position?: number;
  /** The last progress reported (sampler steps, or a node's own progress). */
  readonly progress?: { readonly value: number; readonly max: number; readonly node: string | null };
}

type Listener<K extends keyof ComfyJobEvents> = (...args: ComfyJobEvents[K]) => void;

/** What the client wires into a job handle it creates. */
export interface JobHandleInit {
  readonly server: string;
  readonly promptId: string;
  readonly warnings: () => NodeErrors;
  readonly cancel: () => Promise<void>;
  readonly snapshot: () => JobSnapshot;
  /** Called when a listener throws, so one bad listener cannot break event delivery. */
  readonly onListenerError: (error: unknown, event: JobEvent['type']) => void;
}

/** A submitted or followed prompt. Exactly one of `succeeded`, `failed`, `interrupted` is emitted, and `done` resolves. */
export class ComfyJob {
  readonly server: string;
  readonly promptId: string;
  /** Resolves with the outcome once the job ends; never rejects. */
  readonly done: Promise<JobOutcome>;
  readonly #emitter = new EventEmitter();
  readonly #init: JobHandleInit;
  #resolve: (outcome: JobOutcome) => void = () => undefined;

  private constructor(init: JobHandleInit) {
    this.server = init.server;
    this.promptId = init.promptId;
    this.#init = init;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Creates a handle and the function that delivers events to it; only the client calls this. */
  static open(init: JobHandleInit): { job: ComfyJob; deliver: (event: JobEvent) => void } {
    const job = new ComfyJob(init);
    return { job, deliver: (event) => job.#deliver(event) };
  }

  /** Outputs the server dropped at validation (200 with `node_errors`): the rest runs. Empty when all is valid. */
  get warnings(): NodeErrors {
    return this.#init.warnings();
  }

  /** Where the job is now. */
  get snapshot(): JobSnapshot {
    return this.#init.snapshot();
  }

  /** Cancels the prompt: removed from the queue if pending, interrupted if running. */
  cancel(): Promise<void> {
    return this.#init.cancel();
  }

  /** Adds a listener. */
  on<K extends keyof ComfyJobEvents>(event: K, listener: Listener<K>): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Adds a listener called at most once. */
  once<K extends keyof ComfyJobEvents>(event: K, listener: Listener<K>): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof ComfyJobEvents>(event: K, listener: Listener<K>): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  #deliver(event: JobEvent): void {
    // rawListeners: `once` wrappers remove themselves when called.
    for (const listener of this.#emitter.rawListeners(event.type)) {
      try {
        (listener as (event: JobEvent) => void)(event);
      } catch (error) {
        this.#init.onListenerError(error, event.type);
      }
    }
    const outcome = this.#outcomeOf(event);
    if (outcome) {
      this.#resolve(outcome);
      this.#emitter.removeAllListeners();
    }
  }

  #outcomeOf(event: JobEvent): JobOutcome | undefined {
    const { promptId, server } = this;
    switch (event.type) {
      case 'succeeded':
        return { status: 'succeeded', promptId, server, outputs: event.outputs, warnings: this.warnings };
      case 'failed':
        return { status: 'failed', promptId, server, error: event.error };
      case 'interrupted':
        return { status: 'interrupted', promptId, server, error: event.error };
      default:
        return undefined;
    }
  }
}
