/**
 * The queue every stage shares: admissions against the limits (intake), the fair order of waiting jobs and the server
 * slots of handed-off jobs (dispatch), and their release when a job leaves a process's hands (attempt, delivery).
 * Each method is one atomic change of the shared state (`SharedCell`), in memory or in Redis: the same code decides
 * for one process and for a fleet. A change touches the state's core and the lanes of the members it concerns (see
 * queue-state.ts); it names them as hints, so a fleet reads them with the core in one round trip.
 */
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

  /**
   * Reads the latest state (the dispatcher does before choosing). Lanes left with nothing in them since their member's
   * turn passed are dropped on the way (they place nothing; see `QueueState.forgetIfIdle`).
   */
  async refresh(): Promise<QueueState> {
    const state = await this.cell.read();
    const idle = state.idleMembers();
    if (idle.length === 0) return state;
    await this.cell.change((current) => idle.forEach((memberId) => current.forgetIfIdle(memberId)), { members: idle });
    return this.cell.last;
  }

  /** Throws the limit's `UserFacingError` when a new job of the member would not be admitted now (changes nothing). */
  async assertAdmissible(memberId: string, limits: JobLimits): Promise<void> {
    checkLimits(limits, await this.cell.look((state) => countsOf(state, memberId), { members: [memberId] }));
  }

  /**
   * The next job's place in the queue order (a number lost by a process that dies is only a gap). With `intake`, the
   * job about to be written is entered as being taken in, for `graceMs` of the cell's clock (see `QueueCore.intake`):
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
      return state.core.nextSequence++;
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
    return this.cell.change(
      (state, now) => {
        if (state.ownerOf(job.id) !== undefined) return 'admitted';
        if (Number.isFinite(graceMs) && state.intake[job.id] === undefined) return 'late';
        checkLimits(limits, countsOf(state, job.memberId));
        delete state.intake[job.id];
        enqueue(state, job, now);
        return 'admitted';
      },
      { members: [job.memberId], jobs: [job.id] },
    );
  }

  /**
   * Intake gives up on a job it entered, unless it was admitted after all (an admission whose answer was lost: Redis
   * may have committed it before the connection broke): true when it was. Otherwise its entry goes, in a change that
   * also makes a lost admission still on its way fail (it compared the state this changes), so false is final.
   */
  withdraw(jobId: string): Promise<boolean> {
    return this.cell.change(
      (state) => {
        if (knows(state, jobId)) return true;
        delete state.intake[jobId];
        return false;
      },
      { jobs: [jobId] },
    );
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
    return this.cell.change(
      (state, now) => {
        if (knows(state, job.id)) return false;
        const until = state.intake[job.id];
        if (until !== undefined && now < until) return false;
        delete state.intake[job.id];
        enqueue(state, job, now);
        return true;
      },
      { members: [job.memberId], jobs: [job.id] },
    );
  }

  /**
   * Hands off a written job that no part of the queue knows, to be carried forward as its record says: followed on
   * `server`, or delivered (it ended). Undefined when the queue knows it.
   */
  adopt(
    job: Pick<QueuedJob, 'id' | 'memberId' | 'workflow'>,
    server: string | undefined,
  ): Promise<HandOff | undefined> {
    return this.cell.change(
      (state) => {
        if (knows(state, job.id)) return undefined;
        const key = `${job.id}-${state.core.nextHandOff++}`;
        const entry: HandOff = { key, memberId: job.memberId, workflow: job.workflow, at: Date.now() };
        if (server !== undefined) state.admit(job.id, job.memberId, Date.now());
        state.handOffs[job.id] = server === undefined ? entry : { ...entry, server };
        return state.handOffs[job.id];
      },
      { members: [job.memberId], jobs: [job.id] },
    );
  }

  /** True when some part of the queue knows the job (counted, waiting, or handed off), as last seen. */
  knows(jobId: string, state: QueueState = this.cell.last): boolean {
    return knows(state, jobId);
  }

  /** Puts jobs handed back (their server was lost) ahead of every round, and frees their hand-offs. */
  pushFront(jobs: readonly QueuedJob[]): Promise<void> {
    return this.cell.change((state) => {
      for (const job of jobs) delete state.handOffs[job.id];
      state.withFair([], (queue) => queue.pushFront(...jobs));
    });
  }

  /**
   * Takes a waiting job out to run it on `server` (its member's turn), holding a slot there; undefined when it is not
   * waiting any more (cancelled meanwhile).
   */
  take(jobId: string, server: string): Promise<HandOff | undefined> {
    return this.cell.change((state) => {
      const job = state.withFair([state.ownerOf(jobId)], (queue) => queue.take(jobId));
      if (job === undefined) return undefined;
      const key = `${jobId}-${state.core.nextHandOff++}`;
      const entry: HandOff = { key, server, memberId: job.memberId, workflow: job.workflow, at: Date.now() };
      state.handOffs[jobId] = entry;
      return entry;
    }, this.#hintsFor(jobId));
  }

  /**
   * Ends a job that is still waiting (cancelled, or failed by an outage): it leaves the queue and is handed off to be
   * delivered; undefined when it was not waiting (already taken, or ended by someone else).
   */
  endWaiting(jobId: string, ended: WaitingEnd): Promise<HandOff | undefined> {
    return this.cell.change((state) => {
      const job = state.withFair([state.ownerOf(jobId)], (queue) => queue.remove(jobId));
      if (job === undefined) return undefined;
      state.unadmit(jobId);
      const key = `${jobId}-${state.core.nextHandOff++}`;
      const entry: HandOff = { key, memberId: job.memberId, workflow: job.workflow, ended, at: Date.now() };
      state.handOffs[jobId] = entry;
      return entry;
    }, this.#hintsFor(jobId));
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
      state.unadmit(jobId);
      const entry = state.handOffs[jobId];
      if (entry?.server !== undefined) state.handOffs[jobId] = { ...entry, server: undefined, startedAt: undefined };
    }, this.#hintsFor(jobId));
  }

  /** The job is out of every process's hands (delivered, or handed back to the queue). */
  settled(jobId: string): Promise<void> {
    return this.cell.change((state) => {
      delete state.handOffs[jobId];
    });
  }

  /** Every waiting job in serving order, from the last state seen. */
  ordered(state: QueueState = this.cell.last): QueuedJob[] {
    return state.fairQueue().ordered();
  }

  /** Each waiting job's 1-based position, from the last state seen. */
  positions(state: QueueState = this.cell.last): Map<string, number> {
    return state.fairQueue().positions();
  }

  /** How many handed-off jobs hold a slot on `server`, from the last state seen. */
  slotsTaken(server: string, state: QueueState = this.cell.last): number {
    return Object.values(state.handOffs).filter((entry) => entry.server === server).length;
  }

  /** The job and, as last seen, its member: what a change by job id will read (a guess; the change checks). */
  #hintsFor(jobId: string): { members: (string | undefined)[]; jobs: string[] } {
    const last = this.cell.last;
    const member = last.complete ? last.ownerOf(jobId) : undefined;
    return { members: [member ?? last.handOffs[jobId]?.memberId], jobs: [jobId] };
  }
}

/** Counts a job against its member and queues it at the back of its member's lane. */
export function enqueue(state: QueueState, job: QueuedJob, now: number): void {
  state.admit(job.id, job.memberId, now);
  state.withFair([job.memberId], (queue) => queue.push(job));
}

/** What the limits are checked against, for a new job of `memberId`. */
function countsOf(state: QueueState, memberId: string): JobCounts {
  return { memberInFlight: state.inFlight(memberId), waiting: state.waitingCount };
}

/** Whether the queue counts the job, or holds its hand-off, or has it in the front lane (always counted, besides). */
function knows(state: QueueState, jobId: string): boolean {
  if (state.handOffs[jobId] !== undefined || state.core.front.some((job) => job.id === jobId)) return true;
  return state.ownerOf(jobId) !== undefined;
}
