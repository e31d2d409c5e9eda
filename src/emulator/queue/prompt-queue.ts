/**
 * ComfyUI's PromptQueue: a heap of pending prompts, the running one, and the history of finished ones. Every change
 * to the queue calls `onChange` (the server broadcasts `status` from there), exactly where ComfyUI does.
 */
import { heapify, heapPop, heapPush } from './heap.js';

/** A queued prompt (ComfyUI's 6-tuple; the sensitive part never leaves the server). */
export interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: Record<string, unknown>;
  readonly extraData: Record<string, unknown>;
  readonly outputs: readonly string[];
  readonly sensitive: Record<string, unknown>;
}

/** A history entry as served by /history. */
export interface HistoryEntry {
  readonly prompt: readonly unknown[];
  readonly outputs: Record<string, unknown>;
  readonly status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, unknown]> };
  readonly meta: Record<string, unknown>;
}

const MAXIMUM_HISTORY_SIZE = 10000;

/** The queue, the running set and the history. */
export class PromptQueue {
  private pending: QueueItem[] = [];
  private readonly running = new Map<number, QueueItem>();
  private readonly history = new Map<string, HistoryEntry>();
  private taskCounter = 0;
  private waiter: (() => void) | undefined;

  constructor(private readonly onChange: () => void) {}

  /** Queues a prompt (and wakes the worker). */
  put(item: QueueItem): void {
    heapPush(this.pending, item);
    this.onChange();
    this.waiter?.();
  }

  /** Takes the next prompt, or undefined when none is pending. */
  take(): { item: QueueItem; taskId: number } | undefined {
    const item = heapPop(this.pending);
    if (!item) return undefined;
    const taskId = this.taskCounter++;
    this.running.set(taskId, item);
    this.onChange();
    return { item, taskId };
  }

  /** Resolves when something is put (the worker's wait). */
  waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = () => {
        this.waiter = undefined;
        resolve();
      };
    });
  }

  /** Releases a pending `waitForWork` (used when stopping). */
  wake(): void {
    this.waiter?.();
  }

  /** Records a finished prompt in history. */
  finish(taskId: number, result: Omit<HistoryEntry, 'prompt'>): void {
    const item = this.running.get(taskId);
    if (!item) return;
    this.running.delete(taskId);
    if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value as string);
    this.history.set(item.promptId, { prompt: publicTuple(item), ...result });
    this.onChange();
  }

  /** Pending + running, as `exec_info.queue_remaining`. */
  remaining(): number {
    return this.pending.length + this.running.size;
  }

  /** `[running, pending]` as public 5-tuples (pending in heap order). */
  snapshot(): { running: unknown[][]; pending: unknown[][] } {
    return { running: [...this.running.values()].map(publicTuple), pending: this.pending.map(publicTuple) };
  }

  /** The running prompt ids. */
  runningIds(): string[] {
    return [...this.running.values()].map((item) => item.promptId);
  }

  /** POST /queue {clear}. */
  wipe(): void {
    this.pending = [];
    this.onChange();
  }

  /** POST /queue {delete}: removes the first pending item with this id (ComfyUI also signals twice for the last). */
  delete(promptId: string): boolean {
    const index = this.pending.findIndex((item) => item.promptId === promptId);
    if (index === -1) return false;
    if (this.pending.length === 1) this.wipe();
    else {
      this.pending.splice(index, 1);
      heapify(this.pending);
    }
    this.onChange();
    return true;
  }

  /** GET /history with max_items/offset semantics of ComfyUI. */
  historyPage(maxItems: number | undefined, offset: number): Record<string, HistoryEntry> {
    const out: Record<string, HistoryEntry> = {};
    const start = offset < 0 && maxItems !== undefined ? this.history.size - maxItems : offset;
    let index = 0;
    for (const [promptId, entry] of this.history) {
      if (index >= start) {
        out[promptId] = entry;
        if (maxItems !== undefined && Object.keys(out).length >= maxItems) break;
      }
      index += 1;
    }
    return out;
  }

  /** One history entry. */
  historyItem(promptId: string): HistoryEntry | undefined {
    return this.history.get(promptId);
  }

  /** Every history entry, oldest first (the jobs API lists them). */
  historyEntries(): ReadonlyMap<string, HistoryEntry> {
    return this.history;
  }

  /** POST /history {delete}. */
  deleteHistory(promptId: string): void {
    this.history.delete(promptId);
  }

  /** POST /history {clear}. */
  wipeHistory(): void {
    this.history.clear();
  }

  /** Forgets everything (emulated restart). */
  reset(): void {
    this.pending = [];
    this.running.clear();
    this.history.clear();
    this.taskCounter = 0;
  }
}

function publicTuple(item: QueueItem): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, [...item.outputs]];
}
