/**
 * The queue engine under the job stages: what differs between one process (embedded) and a fleet of processes on
 * Redis (BullMQ). The stages (intake, dispatch, attempt, delivery, recovery) are the same code on either; the engine
 * provides the shared state, the hand-off of a job to the process that carries it, the dispatcher's turn, and the
 * messages between processes.
 *
 * The fleet mode's interface, for the processes' operators and the fleet's views:
 * - `processName` names this process in logs, in `/queue` (`ActiveJobView.process`) and in its leases;
 * - `leading` is true in the one process that dispatches (the dispatcher's lease holder);
 * - `stop()` stops taking hand-offs (a hand-off that still arrives is refused by `JobAttempts.carry`), and this
 *   process's carried jobs go back to the others once the runner releases them (SIGTERM).
 */
import type { JobRecord } from '../model.js';
import type { PositionFence } from './position-fence.js';
import type { SharedCell } from './shared-cell.js';
import type { HandOff, QueueState } from './queue-state.js';

/**
 * Carries a handed-off job forward in this process (runs its attempt, or only delivers it). Resolves once the job is
 * in hand (read, its attempt begun) with `outcome`, which resolves once the job is out of this process's hands:
 * delivered, handed back to the queue, or given up because this process stops.
 */
export type CarryJob = (jobId: string, handOff: HandOff) => Promise<{ readonly outcome: Promise<CarryOutcome> }>;

/** How a carried job left this process: done (delivered or handed back to the queue) or given up (stopping). */
export type CarryOutcome = 'done' | 'released';

/** The engine under the stages. */
export interface QueueEngine {
  readonly kind: 'embedded' | 'fleet';
  /** This process's name (`COMFYCORD_PROCESS_NAME`, else host-pid). */
  readonly processName: string;
  /** The queue's shared state. */
  readonly cell: SharedCell<QueueState>;
  /** True while this process runs the dispatcher (always, embedded; the lease holder, in a fleet). */
  readonly leading: boolean;
  /**
   * How long intake may take from writing a job to admitting it; past that, the job is the dispatcher's to take in
   * (a fleet's dispatcher takes in open jobs its queue does not know: recovery.ts). Infinite, embedded: its start
   * rebuilds the queue from the store.
   */
  readonly intakeGraceMs: number;
  /**
   * Keeps a card's queue positions from landing after its later states when other processes edit it (a fleet's, in
   * Redis); none for one process, whose card edits are in order already.
   */
  readonly positionFence?: PositionFence | undefined;
  /** The ComfyUI client id of this process: the store's own (embedded, the same across restarts), or one per process. */
  clientId(stored: () => Promise<string>): Promise<string>;
  /**
   * At start, from the store's open jobs: the hand-offs to carry now. The embedded engine rebuilds its state from them
   * (waiting jobs queued again in order, the others carried on); a fleet's state and hand-offs are durable, and what a
   * dead process held comes back through BullMQ's stalled-job check, so it returns none.
   */
  recover(open: readonly JobRecord[]): Promise<{ jobId: string; handOff: HandOff }[]>;
  /**
   * Starts carrying hand-offs (`carry` is called for each job this process is to carry forward) and calls `wake`
   * whenever the queue may have changed somewhere (the dispatcher then looks again), `cancel` when a member asked,
   * in another process, to cancel a job this one may carry.
   */
  start(handlers: EngineHandlers): Promise<void>;
  /** Hands a job to the process that will carry it (this one, embedded). The same key is never carried twice. */
  handOff(jobId: string, handOff: HandOff): Promise<void>;
  /** Tells every process that the queue changed (a job was pushed, a slot freed). */
  changed(): void;
  /** Asks every process to cancel the job (only the one carrying it acts). */
  requestCancel(jobId: string): Promise<void>;
  /** Stops taking new hand-offs (and dispatching); jobs carried here are then released by the runner. */
  stop(): Promise<void>;
  /** Hands back what was released (to other processes, in a fleet) and closes the engine's connections. */
  close(): Promise<void>;
}

/** What the engine calls back. */
export interface EngineHandlers {
  readonly carry: CarryJob;
  readonly wake: () => void;
  readonly cancel: (jobId: string) => void;
  /** Takes in the open jobs the queue does not know, unchanged for `graceMs` (the fleet's dispatcher calls it). */
  readonly takeInStrays?: (graceMs: number) => Promise<void>;
}
