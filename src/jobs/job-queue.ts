/**
 * The queue every stage shares: admissions against the limits (intake), the fair order of waiting jobs and the server
 * slots of handed-off jobs (dispatch), and their release when a job leaves a process's hands (attempt, delivery).
 * Each method is one atomic change of the shared state (`SharedCell`), in memory or in Redis: the same code decides
 * for one process and for a fleet.
 */
import { FairQueue } from './fair-queue.js';
import type { SharedCell } from './engine/shared-cell.js';
import type { HandOff, QueuedJob, QueueState, WaitingEnd } from './engine/queue-state.js';
import { checkLimits, type JobLimits } from './limits.js';

/** The shared queue. */
export class JobQueue {
  constructor(private readonly cell: SharedCell<QueueState>) {}

  /** The state as last seen by this process (for synchronous snapshots). */
  get last(): QueueState {
    return this.cell.last;
  }

  /** Reads the latest state (the dispatcher does before choosing). */
  refresh(): Promise<QueueState> {
    return this.cell.read();
  }

  /**
   * Counts a new job against its member's limit and the queue length (throws the limit's `UserFacingError`) and
   * returns its place in the queue order. It counts until `finished`, so one being written counts too.
   */
  admit(job: Pick<QueuedJob, 'id' | 'memberId'>, limits: JobLimits): Promise<number> {
    return this.cell.change((state) => {
      const memberInFlight = Object.values(state.admitted).filter((entry) => entry.memberId === job.memberId).length;
      checkLimits(limits, { memberInFlight, waiting: waitingOf(state).size });
      state.admitted[job.id] = { memberId: job.memberId, at: Date.now() };
      return state.nextSequence++;
    });
  }

  /** Puts an admitted job at the back of its member's lane. */
  push(job: QueuedJob): Promise<void> {
    return this.#changeWaiting((queue) => queue.push(job));
  }

  /** Puts jobs handed back (their server was lost) ahead of every round, and frees their hand-offs. */
  pushFront(jobs: readonly QueuedJob[]): Promise<void> {
    return this.cell.change((state) => {
      for (const job of jobs) delete state.handOffs[job.id];
      const queue = waitingOf(state);
      queue.pushFront(...jobs);
      state.waiting = queue.toState();
    });
  }

  /**
   * Takes a waiting job out to run it on `server` (its member's turn), holding a slot there; undefined when it is not
   * waiting any more (cancelled meanwhile).
   */
  take(jobId: string, server: string): Promise<HandOff | undefined> {
    return this.cell.change((state) => {
      const queue = waitingOf(state);
      const job = queue.take(jobId);
      if (job === undefined) return undefined;
      state.waiting = queue.toState();
      const key = `${jobId}-${state.nextHandOff++}`;
      const entry: HandOff = { key, server, memberId: job.memberId, workflow: job.workflow, at: Date.now() };
      state.handOffs[jobId] = entry;
      return entry;
    });
  }

  /**
   * Ends a job that is still waiting (cancelled, or failed by an outage): it leaves the queue and is handed off to be
   * delivered; undefined when it was not waiting (already taken, or ended by someone else).
   */
  endWaiting(jobId: string, ended: WaitingEnd): Promise<HandOff | undefined> {
    return this.cell.change((state) => {
      const queue = waitingOf(state);
      const job = queue.remove(jobId);
      if (job === undefined) return undefined;
      state.waiting = queue.toState();
      delete state.admitted[jobId];
      const key = `${jobId}-${state.nextHandOff++}`;
      const entry: HandOff = { key, memberId: job.memberId, workflow: job.workflow, ended, at: Date.now() };
      state.handOffs[jobId] = entry;
      return entry;
    });
  }

  /** Records that the job's server began executing it. */
  markStarted(jobId: string, startedAt: number): Promise<void> {
    return this.cell.change((state) => {
      const entry = state.handOffs[jobId];
      if (entry !== undefined) state.handOffs[jobId] = { ...entry, startedAt };
    });
  }

  /** Records which process carries a hand-off now (after a failover, another one). */
  markCarrier(jobId: string, process: string): Promise<void> {
    return this.cell.change((state) => {
      const entry = state.handOffs[jobId];
      if (entry !== undefined && entry.process !== process) state.handOffs[jobId] = { ...entry, process };
    });
  }

  /** Frees the job's server slot (its attempt is over) but keeps it counted against its member until it finishes. */
  freeSlot(jobId: string): Promise<void> {
    return this.cell.change((state) => {
      const entry = state.handOffs[jobId];
      if (entry?.server !== undefined) state.handOffs[jobId] = { ...entry, server: undefined, startedAt: undefined };
    });
  }

  /** The job reached its end state: it no longer counts against its member, nor holds a slot. */
  finished(jobId: string): Promise<void> {
    return this.cell.change((state) => {
      delete state.admitted[jobId];
      const entry = state.handOffs[jobId];
      if (entry?.server !== undefined) state.handOffs[jobId] = { ...entry, server: undefined, startedAt: undefined };
    });
  }

  /** The job is out of every process's hands (delivered, or handed back to the queue). */
  settled(jobId: string): Promise<void> {
    return this.cell.change((state) => {
      delete state.handOffs[jobId];
    });
  }

  /** Forgets an admission whose job was never written (the write failed). */
  withdraw(jobId: string): Promise<void> {
    return this.cell.change((state) => {
      delete state.admitted[jobId];
    });
  }

  /** Every waiting job in serving order, from the last state seen. */
  ordered(state: QueueState = this.cell.last): QueuedJob[] {
    return waitingOf(state).ordered();
  }

  /** Each waiting job's 1-based position, from the last state seen. */
  positions(state: QueueState = this.cell.last): Map<string, number> {
    return waitingOf(state).positions();
  }

  /** How many handed-off jobs hold a slot on `server`, from the last state seen. */
  slotsTaken(server: string, state: QueueState = this.cell.last): number {
    return Object.values(state.handOffs).filter((entry) => entry.server === server).length;
  }

  async #changeWaiting(change: (queue: FairQueue<QueuedJob>) => void): Promise<void> {
    await this.cell.change((state) => {
      const queue = waitingOf(state);
      change(queue);
      state.waiting = queue.toState();
    });
  }
}

function waitingOf(state: QueueState): FairQueue<QueuedJob> {
  return FairQueue.fromState(state.waiting);
}
