/**
 * The embedded engine: one process, its queue state in memory (rebuilt from the store's open jobs at every start),
 * every hand-off carried at once by this same process. The default, with a SQLite store.
 */
import type { JobRecord } from '../model.js';
import { queueStateFromJobs } from '../recovery.js';
import { MemoryCell } from './shared-cell.js';
import type { EngineHandlers, QueueEngine } from './queue-engine.js';
import { emptyQueueState, type HandOff, type QueueState } from './queue-state.js';

/** The queue engine of a bot that is one process. */
export class EmbeddedEngine implements QueueEngine {
  readonly kind = 'embedded';
  readonly leading = true;
  readonly intakeGraceMs = Number.POSITIVE_INFINITY;
  readonly cell = new MemoryCell<QueueState>(emptyQueueState());
  #handlers: EngineHandlers | undefined;
  #stopped = false;

  constructor(readonly processName: string) {}

  clientId(stored: () => Promise<string>): Promise<string> {
    return stored();
  }

  async recover(open: readonly JobRecord[]): Promise<{ jobId: string; handOff: HandOff }[]> {
    const state = queueStateFromJobs(open);
    await this.cell.change((current) => current.assign(state));
    return Object.entries(state.handOffs).map(([jobId, handOff]) => ({ jobId, handOff }));
  }

  async start(handlers: EngineHandlers): Promise<void> {
    this.#handlers = handlers;
  }

  async handOff(jobId: string, handOff: HandOff): Promise<void> {
    if (this.#stopped || this.#handlers === undefined) return;
    // Carried here, in hand before the dispatcher goes on; the runner tracks the rest (its stop waits for it).
    await this.#handlers.carry(jobId, handOff);
  }

  changed(): void {
    this.#handlers?.wake();
  }

  async requestCancel(): Promise<void> {
    // One process: the runner has already looked at its own attempts.
  }

  async stop(): Promise<void> {
    this.#stopped = true;
  }

  async close(): Promise<void> {
    // Nothing to hand back: the store's open jobs are picked up by the next start.
  }
}
