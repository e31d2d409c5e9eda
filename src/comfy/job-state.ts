/**
 * The life of one prompt, folded from everything the client learns about it: WebSocket messages, binary previews,
 * `/queue` snapshots and the `/history` entry. Pure (no I/O, no timers): each input returns the job events it causes,
 * and at most one of them is ever terminal. `/history` is the truth; WebSocket messages are a faster view of it.
 */
import type { BinaryFrame } from './binary-frames.js';
import {
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyLostError,
  type ComfyError,
  type ExecutionFailure,
} from './errors.js';
import { OutputCollector, filesOfNodeOutput, type OutputFile } from './outputs.js';
import type { HistoryEntry, NodeOutput, QueueSnapshot } from './schemas.js';
import { ComfyMessageSchema, type ComfyMessage, type ComfyMessageData } from './ws-messages.js';

/** Everything a job handle reports, in order; `succeeded`, `failed` and `interrupted` are terminal. */
export type JobEvent =
  | { readonly type: 'queued'; readonly position: number }
  | { readonly type: 'started' }
  | { readonly type: 'progress'; readonly value: number; readonly max: number; readonly node: string | null }
  | { readonly type: 'preview'; readonly bytes: Uint8Array; readonly mimeType: string; readonly node?: string }
  | { readonly type: 'text'; readonly node: string; readonly text: string }
  | { readonly type: 'output'; readonly node: string; readonly output: NodeOutput; readonly files: OutputFile[] }
  | { readonly type: 'succeeded'; readonly outputs: OutputFile[] }
  | { readonly type: 'failed'; readonly error: ComfyError }
  | { readonly type: 'interrupted'; readonly error: ComfyInterruptedError };

/** Where a job is: `finishing` = the server said it succeeded and the outputs are being confirmed from history. */
export type JobPhase = 'submitted' | 'queued' | 'running' | 'finishing' | 'succeeded' | 'failed' | 'interrupted';

/** How many consecutive reconciliations must miss a prompt before it counts as gone (guards against races). */
const ABSENCES_BEFORE_GONE = 2;

/** The folded state of one prompt. */
export class JobState {
  phase: JobPhase = 'submitted';
  /** 1-based place among pending prompts, when known. */
  position: number | undefined;
  /** Set when the caller asked to cancel, so a prompt vanishing from the queue reads as cancelled. */
  cancelRequested = false;
  private readonly outputs = new OutputCollector();
  private seenRunning = false;
  private seenAnywhere: boolean;
  private connectionLostSinceSeen = false;
  private absences = 0;

  constructor(
    readonly server: string,
    readonly promptId: string,
    /** True when we queued the prompt ourselves (POST /prompt answered 200); false when following an old one. */
    known: boolean,
  ) {
    this.seenAnywhere = known;
  }

  /** True once a terminal event was produced. */
  get terminal(): boolean {
    return this.phase === 'succeeded' || this.phase === 'failed' || this.phase === 'interrupted';
  }

  /** True when the prompt was missed once and a quick second look is due. */
  get recheckDue(): boolean {
    return !this.terminal && this.absences > 0;
  }

  /** Folds a WebSocket message about this prompt. */
  onMessage(message: ComfyMessage): JobEvent[] {
    if (this.terminal) return [];
    this.sighted();
    switch (message.type) {
      case 'execution_start':
      case 'execution_cached':
      case 'progress_state':
        return this.start();
      case 'executing':
        // `node: null` closes the prompt; the client then reads history, which says how it ended.
        return this.start();
      case 'progress': {
        const { value, max, node } = message.data;
        return [...this.start(), { type: 'progress', value, max, node: node ?? null }];
      }
      case 'executed':
        return [...this.start(), ...this.recordOutput(message.data.node, message.data.output)];
      case 'execution_success': {
        // History is written just after this message; outputs are confirmed from it (see `onHistory`).
        const events = this.start();
        this.phase = 'finishing';
        return events;
      }
      case 'execution_error':
        return this.finish({ type: 'failed', error: this.executionError(message.data) });
      case 'execution_interrupted':
        return this.interrupted(false, message.data.node_id);
      default:
        return [];
    }
  }

  /** Folds a binary frame attributed to this prompt. */
  onFrame(frame: BinaryFrame): JobEvent[] {
    if (this.terminal) return [];
    this.sighted();
    const event: JobEvent =
      frame.kind === 'preview'
        ? { type: 'preview', bytes: frame.bytes, mimeType: frame.mimeType, node: frame.nodeId }
        : { type: 'text', node: frame.nodeId, text: frame.text };
    return [...this.start(), event];
  }

  /** Folds a `/queue` snapshot; returns no event when the prompt is absent (then look it up in history). */
  onQueue(queue: QueueSnapshot): JobEvent[] {
    if (this.terminal) return [];
    if (queue.running.includes(this.promptId)) {
      this.sighted();
      return this.start();
    }
    const index = queue.pending.indexOf(this.promptId);
    if (index < 0 || this.seenRunning) return [];
    this.sighted();
    const position = index + 1;
    if (this.phase === 'queued' && this.position === position) return [];
    this.phase = 'queued';
    this.position = position;
    return [{ type: 'queued', position }];
  }

  /** True when the last `/queue` snapshot did not list the prompt, so history must say how it ended. */
  absentFrom(queue: QueueSnapshot): boolean {
    return !queue.running.includes(this.promptId) && !queue.pending.includes(this.promptId);
  }

  /** Folds the `/history` entry, or its absence (the prompt was also absent from the queue fetched just before). */
  onHistory(entry: HistoryEntry | undefined): JobEvent[] {
    if (this.terminal) return [];
    if (entry) return this.finishFromHistory(entry);
    this.absences += 1;
    return this.absences >= ABSENCES_BEFORE_GONE ? this.gone() : [];
  }

  /** Records that the connection to the server broke: a prompt that then vanishes was lost, not deleted. */
  onConnectionLost(): void {
    this.connectionLostSinceSeen = true;
  }

  /** Ends the job with an error found outside the protocol (stall, client closed). */
  fail(error: ComfyError): JobEvent[] {
    return this.terminal ? [] : this.finish({ type: 'failed', error });
  }

  /** Ends a job the server said succeeded when history cannot confirm it: outputs from `executed` events. */
  succeedFromEvents(): JobEvent[] {
    return this.terminal ? [] : this.finish({ type: 'succeeded', outputs: this.outputs.files() });
  }

  /** A short description for logs and stall errors. */
  describe(): string {
    return this.position === undefined ? this.phase : `${this.phase} at position ${this.position}`;
  }

  private sighted(): void {
    this.seenAnywhere = true;
    this.connectionLostSinceSeen = false;
    this.absences = 0;
  }

  private start(): JobEvent[] {
    this.seenRunning = true;
    if (this.phase !== 'submitted' && this.phase !== 'queued') return [];
    this.phase = 'running';
    this.position = undefined;
    return [{ type: 'started' }];
  }

  /** An `executed` output: reported when the node is new, or (a loop's next iteration) when it brings new files. */
  private recordOutput(node: string, output: NodeOutput): JobEvent[] {
    const known = this.outputs.has(node);
    const files = this.outputs.addExecuted(node, output);
    if (known && files.length === 0) return [];
    return [{ type: 'output', node, output, files }];
  }

  private finishFromHistory(entry: HistoryEntry): JobEvent[] {
    for (const [name, data] of (entry.status?.messages ?? []).slice().reverse()) {
      const parsed = ComfyMessageSchema.safeParse({ type: name, data });
      if (!parsed.success) continue;
      if (parsed.data.type === 'execution_error') {
        return this.finish({ type: 'failed', error: this.executionError(parsed.data.data) });
      }
      if (parsed.data.type === 'execution_interrupted') return this.interrupted(false, parsed.data.data.node_id);
    }
    if (entry.status?.status_str === 'error') {
      const failure = { nodeId: '?', nodeType: 'unknown', exceptionType: '', traceback: [] };
      const error = new ComfyExecutionError(this.server, this.promptId, {
        ...failure,
        exceptionMessage: 'the server recorded an error without details',
      });
      return this.finish({ type: 'failed', error });
    }
    // Nodes whose `executed` event we missed (socket down, or cached) are reported now, each once.
    const events: JobEvent[] = [];
    for (const [node, output] of Object.entries(entry.outputs)) {
      // History replaces what `executed` said (a loop's files accumulate there too).
      if (this.outputs.add(node, output))
        events.push({ type: 'output', node, output, files: filesOfNodeOutput(node, output) });
    }
    return [...events, ...this.finish({ type: 'succeeded', outputs: this.outputs.files() })];
  }

  private gone(): JobEvent[] {
    if (this.phase === 'finishing') return this.succeedFromEvents();
    if (this.cancelRequested && !this.seenRunning) return this.interrupted(true);
    const reason = !this.seenAnywhere
      ? 'the server has no record of it in its queue or history'
      : this.seenRunning
        ? 'it was running, and the server no longer lists it in its queue or history (restarted?)'
        : this.connectionLostSinceSeen
          ? 'the connection dropped while it was queued, and the server no longer knows it (restarted?)'
          : undefined;
    if (reason === undefined) return this.interrupted(true);
    return this.finish({ type: 'failed', error: new ComfyLostError(this.server, this.promptId, reason) });
  }

  private interrupted(whileQueued: boolean, nodeId?: string): JobEvent[] {
    const error = new ComfyInterruptedError(this.server, this.promptId, whileQueued, nodeId);
    return this.finish({ type: 'interrupted', error });
  }

  private executionError(data: ComfyMessageData<'execution_error'>): ComfyExecutionError {
    const failure: ExecutionFailure = {
      nodeId: data.node_id,
      nodeType: data.node_type,
      exceptionType: data.exception_type,
      exceptionMessage: data.exception_message,
      traceback: data.traceback,
    };
    return new ComfyExecutionError(this.server, this.promptId, failure);
  }

  private finish(event: Extract<JobEvent, { type: 'succeeded' | 'failed' | 'interrupted' }>): JobEvent[] {
    this.phase = event.type;
    this.position = undefined;
    return [event];
  }
}
