/**
 * The queue every stage shares: admissions against the limits (intake), the fair order of waiting jobs and the server
 * slots of handed-off jobs (dispatch), and their release when a job leaves a process's hands (attempt, delivery).
 * Each method is one atomic change of the shared state (`SharedCell`), in memory or in Redis: the same code decides
 * for one process and for a fleet.
 */
import { FairQueue } from './fair-queue.js';
import type { SharedCell } from './engine/shared-cell.js';
import type { HandOff, QueuedJob, QueueState, WaitingEnd } from './engine/queue-state.js';
import { checkLimits, type JobCounts, type JobLimits } from './limits.js';

/** An intake entry whose grace passed this many times over belonged to a process that died before writing its job. */
const FORGOTTEN_INTAKES_AFTER = 10;

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

  /** Throws the limit's `UserFacingError` when a new job of the member would not be admitted now (changes nothing). */
  async assertAdmissible(memberId: string, limits: JobLimits): Promise<void> {
    checkLimits(limits, countsOf(await this.cell.read(), memberId));
  }

  /**
   * The next job's place in the queue order (a number lost by a process that dies is only a gap). With `intake`, the
   * job about to be written is entered as being taken in, for `graceMs` of the cell's clock (see `QueueState.intake`):
   * its `admit` must then find that entry. Entries left by processes that died before writing their record are
   * dropped here, long after their grace.
   */
  nextSequence(intake?: { readonly jobId: string; readonly graceMs: number }): Promise<number> {
    return this.cell.change((state, now) => {
      if (intake !== undefined && Number.isFinite(intake.graceMs)) {
        for (const [id, until] of Object.entries(state.intake)) {
          if (now - until > FORGOTTEN_INTAKES_AFTER * intake.graceMs) delete state.intake[id];
        }
        state.intake[intake.jobId] = now + intake.graceMs;
      }
      return state.nextSequence++;
    });
  }

  /**
   * Admits a written job: checks its member's limit and the queue length (throws the limit's `UserFacingError`),
   * counts it and puts it at the back of its member's lane, in one atomic change, so no process can die between the
   * count and the queue entry. With a finite `graceMs` (a fleet), the job must still be entered as being taken in
   * (`nextSequence`): 'late' (and nothing changed) when it is not, because the dispatcher took it in as a stray once its
   * grace had passed (`readmit`), so it is not queued twice.
   */
  admit(job: QueuedJob, limits: JobLimits, graceMs = Number.POSITIVE_INFINITY): Promise<'admitted' | 'late'> {
    return this.cell.change((state, now) => {
      if (state.admitted[job.id] !== undefined) return 'admitted';
      if (Number.isFinite(graceMs) && state.intake[job.id] === undefined) return 'late';
      checkLimits(limits, countsOf(state, job.memberId));
      delete state.intake[job.id];
      state.admitted[job.id] = { memberId: job.memberId, at: now };
      const queue = waitingOf(state);
      queue.push(job);
      state.waiting = queue.toState();
      return 'admitted';
    });
  }

  /**
   * Intake gives up on a job it entered, unless it was admitted after all (an admission whose answer was lost: Redis
   * may have committed it before the connection broke): true when it was. Otherwise its entry goes, in a change that
   * also makes a lost admission still on its way fail (it watched the state this changes), so false is final.
   */
  withdraw(jobId: string): Promise<boolean> {
    return this.cell.change((state) => {
      if (knows(state, jobId)) return true;
      delete state.intake[jobId];
      return false;
    });
  }

  /** True when intake is still taking the job in (entered, not admitted), as last seen. */
  inIntake(jobId: string, state: QueueState = this.cell.last): boolean {
    return state.intake[jobId] !== undefined;
  }

  /**
   * Queues a written waiting job that no part of the queue knows (its process died after writing it, before admitting
   * it), past the limits: it was taken from the member already. False when the queue knows it, or while its intake's
   * grace lasts (by the cell's clock): the intake may still admit it.
   */
  readmit(job: QueuedJob): Promise<boolean> {
    return this.cell.change((state, now) => {
      if (knows(state, job.id)) return false;
      const until = state.intake[job.id];
      if (until !== undefined && now < until) return false;
      delete state.intake[job.id];
      state.admitted[job.id] = { memberId: job.memberId, at: now };
      const queue = waitingOf(state);
      queue.push(job);
      state.waiting = queue.toState();
      return true;
    });
  }

  /**
   * Hands off a written job that no part of the queue knows, to be carried forward as its record says: followed on
   * `server`, or delivered (it ended). Undefined when the queue knows it.
   */
  adopt(
    job: Pick<QueuedJob, 'id' | 'memberId' | 'workflow'>,
    server: string | undefined,
  ): Promise<HandOff | undefined> {
    return this.cell.change((state) => {
      if (knows(state, job.id)) return undefined;
      const key = `${job.id}-${state.nextHandOff++}`;
      const entry: HandOff = { key, memberId: job.memberId, workflow: job.workflow, at: Date.now() };
      if (server !== undefined) state.admitted[job.id] = { memberId: job.memberId, at: Date.now() };
      state.handOffs[job.id] = server === undefined ? entry : { ...entry, server };
      return state.handOffs[job.id];
    });
  }

  /** True when some part of the queue knows the job (counted, waiting, or handed off), as last seen. */
  knows(jobId: string, state: QueueState = this.cell.last): boolean {
    return knows(state, jobId);
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
}

function waitingOf(state: QueueState): FairQueue<QueuedJob> {
  return FairQueue.fromState(state.waiting);
}

/** What the limits are checked against, for a new job of `memberId`. */
function countsOf(state: QueueState, memberId: string): JobCounts {
  const memberInFlight = Object.values(state.admitted).filter((entry) => entry.memberId === memberId).length;
  return { memberInFlight, waiting: waitingOf(state).size };
}

function knows(state: QueueState, jobId: string): boolean {
  if (state.admitted[jobId] !== undefined || state.handOffs[jobId] !== undefined) return true;
  return waitingOf(state).has(jobId);
}
