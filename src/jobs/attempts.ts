/**
 * The attempt stage: carrying a handed-off job forward in this process. A job handed off to run is submitted to its
 * server (attempt-runner.ts); one already on a server (after a restart, or taken over from a process that died) is
 * followed by its recorded prompt id, reconciled with the server's history and queue rather than submitted again; one
 * that ended is delivered. An attempt that ends without a result goes through the failure policy: the job is handed
 * back to the head of the queue, moved, cancelled or failed. The live attempts are this process's own (they hold its
 * sockets); everything another process needs is in the store and the shared queue.
 */
import { ComfyUnreachableError, type ComfyJob } from '../comfy/index.js';
import type { Logger } from '../logger.js';
import { Attempt } from './attempt.js';
import { AttemptRunner, type AttemptResult } from './attempt-runner.js';
import type { CarryOutcome } from './engine/queue-engine.js';
import type { HandOff, WaitingEnd } from './engine/queue-state.js';
import type { JobEvent, TerminalJobEvent } from './events.js';
import {
  decideAfterFailure,
  errorOfFailure,
  failureOf,
  type FailureAction,
  type RetryLimits,
} from './failure-policy.js';
import type { JobFinisher } from './finish.js';
import type { JobBook } from './job-book.js';
import type { JobQueue } from './job-queue.js';
import type { JobRepository } from './job-repository.js';
import type { JobListeners } from './listeners.js';
import { isTerminal, sameOrphan, type InputImage, type JobRecord } from './model.js';
import type { Orphan, OrphanedPrompts } from './orphaned-prompts.js';
import type { ResultFiles } from './result-files.js';
import { workflowOnServer, type WorkflowSource } from './server-capabilities.js';
import type { ServerPool } from './server-pool.js';

/** What the attempt stage works with. */
export interface AttemptsContext {
  readonly book: JobBook;
  readonly repository: JobRepository;
  readonly queue: JobQueue;
  readonly pool: ServerPool;
  readonly workflows: WorkflowSource;
  readonly listeners: JobListeners;
  readonly results: ResultFiles;
  /** Where attempts read members' images (in a fleet, also from the store); the recorded file by default. */
  readonly readInput?: ((image: InputImage) => Promise<Buffer>) | undefined;
  readonly orphans: () => OrphanedPrompts;
  readonly finisher: () => JobFinisher;
  readonly retry: RetryLimits;
  readonly cancelGraceMs: number;
  readonly logger: Logger;
  /** The queue changed (a job went back to it): the dispatcher looks again. */
  readonly changed: () => void;
}

interface Carried {
  readonly resolve: (outcome: CarryOutcome) => void;
}

/** The jobs this process carries, and their live attempts. */
export class JobAttempts {
  readonly #attempts = new Map<string, Attempt>();
  /** The jobs carried here, each resolved when it leaves this process's hands. */
  readonly #carried = new Map<string, Carried>();
  readonly #runner: AttemptRunner;
  /** Set once the process stops (`abandonAll`): a job handed to it from then on is given back at once. */
  #stopping = false;

  constructor(private readonly context: AttemptsContext) {
    this.#runner = new AttemptRunner(context.book, context.workflows, {
      client: (server) => context.pool.client(server),
      clientId: () => context.pool.clientId,
      workflowOn: (job, server) => this.workflowOn(job, server),
      rangesOn: (workflow, server) => context.pool.capabilities(server)?.ranges.get(workflow.name.toLowerCase()),
      spellingsOn: (server) => context.pool.capabilities(server)?.spellings,
      isCurrent: (jobId, attempt) => this.#attempts.get(jobId) === attempt,
      emit: (jobId, event) => this.#emit(jobId, event),
      keep: (jobId, files) => context.results.keep(jobId, files),
      ...(context.readInput === undefined ? {} : { readInput: context.readInput }),
      started: (jobId, startedAt) => void context.queue.markStarted(jobId, startedAt).catch(() => undefined),
      succeeded: (jobId, attempt, result) => this.#succeeded(jobId, attempt, result),
      failed: (jobId, attempt, error) => this.#attemptFailed(jobId, attempt, error),
      cancelOnServer: (jobId, attempt, comfyJob) => void this.#cancelOnServer(jobId, attempt, comfyJob),
    });
  }

  /** The workflow (its own or a fallback) a job would run on a server, if the server can run any. */
  workflowOn(job: Pick<JobRecord, 'workflow'>, server: string) {
    return workflowOnServer(this.context.pool.capabilities(server), this.context.workflows, job.workflow);
  }

  /** The server a job's live attempt is on. */
  serverOf(jobId: string): string | undefined {
    return this.#attempts.get(jobId)?.server;
  }

  /** Carries a handed-off job forward (see `CarryJob`). */
  async carry(jobId: string, handOff: HandOff): Promise<{ readonly outcome: Promise<CarryOutcome> }> {
    const { book, repository, queue } = this.context;
    // Stopping (the one place that refuses a hand-off then, for either engine): nothing would ever release the job
    // (`releaseAll` has run or is about to) and the engine would wait for it for ever; so it is released at once, and
    // goes back to a process that is not stopping. A fleet's paused worker still ends the blocking fetch it had under
    // way, and may be handed the very job this process just handed back.
    if (this.#stopping || this.#carried.has(jobId)) return { outcome: Promise.resolve('released') };
    // Claimed before the first await: the same job handed here again meanwhile (a fleet's stalled job handed out once
    // more) is given back, not carried a second time, whose claim would replace this one and leave its outcome, and a
    // `stop()` waiting for it, unresolved for ever.
    let resolve!: (outcome: CarryOutcome) => void;
    const outcome = new Promise<CarryOutcome>((done) => (resolve = done));
    const claim: Carried = { resolve };
    this.#carried.set(jobId, claim);
    const unclaim = (how: CarryOutcome) => {
      if (this.#carried.get(jobId) === claim) this.#carried.delete(jobId);
      resolve(how);
      return { outcome };
    };
    const known = book.get(jobId);
    let job: JobRecord | undefined;
    try {
      job = known ?? (await repository.get(jobId));
      // Stopping, or released meanwhile (`releaseAll`, `release`): given back.
      if (this.#stopping || this.#carried.get(jobId) !== claim) return unclaim('released');
      if (job === undefined || job.deliveredAt !== undefined) {
        // Delivered already, or its record is unreadable: out of the queue (the dispatcher salvages an open one).
        await queue.finished(jobId);
        await queue.settled(jobId);
        return unclaim('done');
      }
    } catch (error) {
      unclaim('released');
      throw error;
    }
    if (known === undefined) book.adopt(job);
    const finisher = this.context.finisher();
    if (handOff.ended !== undefined && !isTerminal(job.state)) {
      const { change, event } = endOf(handOff.ended);
      void finisher.finish(jobId, change, event).then((delivered) => this.#settled(jobId, delivered));
    } else if (isTerminal(job.state)) {
      void finisher.redeliver(job).then((delivered) => this.#settled(jobId, delivered));
    } else if (job.state === 'waiting' && handOff.server !== undefined) {
      this.#submit(jobId, handOff.server);
    } else if (job.state === 'waiting') {
      // Handed off without a server (never made by this release): back to the queue.
      this.#requeueFront([{ jobId, from: '', move: false }]);
    } else {
      this.#follow(job);
    }
    return { outcome };
  }

  /**
   * Cancels the job's live attempt here: the prompt is interrupted or dequeued on its server, and the job ends as
   * cancelled (at the latest after the grace time). False when this process has no live attempt of it.
   */
  async cancel(jobId: string): Promise<boolean> {
    const attempt = this.#attempts.get(jobId);
    if (attempt === undefined || this.context.finisher().has(jobId)) return false;
    attempt.cancelRequested = true;
    clearTimeout(attempt.cancelTimer);
    attempt.cancelTimer = setTimeout(() => this.#forceCancel(jobId, attempt), this.context.cancelGraceMs);
    attempt.cancelTimer.unref();
    if (attempt.comfyJob) await this.#cancelOnServer(jobId, attempt, attempt.comfyJob);
    return true;
  }

  /** Ends the job's live attempt (it is being finished): nothing it reports any more is acted upon. */
  endAttempt(jobId: string): void {
    const attempt = this.#attempts.get(jobId);
    if (attempt === undefined) return;
    attempt.abandon();
    this.#release(jobId, attempt);
  }

  /**
   * Gives up every job carried here (the process stops): attempts are abandoned, their prompts left running on the
   * servers, where the next carrier finds them by their recorded prompt ids.
   */
  abandonAll(): void {
    this.#stopping = true;
    for (const attempt of this.#attempts.values()) attempt.abandon();
  }

  /**
   * Hands back every job carried here (after `abandonAll` and once this process's sockets are closed: a process that
   * takes a job over listens under the same client id, and ComfyUI forgets an id when any socket of it closes).
   */
  releaseAll(): void {
    this.abandonAll();
    for (const [jobId, carried] of this.#carried) {
      // A delivery under way ends its try first (so no other process posts the same card meanwhile).
      if (this.context.finisher().has(jobId)) continue;
      this.#carried.delete(jobId);
      carried.resolve('released');
    }
  }

  /** Gives up one job carried here (draining); see `releaseAll`. */
  release(jobId: string): void {
    this.#attempts.get(jobId)?.abandon();
    this.#attempts.delete(jobId);
    this.#carried.get(jobId)?.resolve('released');
    this.#carried.delete(jobId);
  }

  /** The ids of the jobs carried here. */
  carriedIds(): string[] {
    return [...this.#carried.keys()];
  }

  /** A server went down: every job on it is returned to the queue, moved, or failed, at once. */
  serverDown(server: string, error: unknown): void {
    const lost = new ComfyUnreachableError(server, `health check failed: ${String(error)}`, error);
    const returned: { jobId: string; from: string; move: boolean }[] = [];
    for (const jobId of this.context.pool.jobsOn(server)) {
      const attempt = this.#attempts.get(jobId);
      if (attempt === undefined || attempt.server !== server || attempt.abandoned) continue;
      const job = this.context.book.require(jobId);
      const facts = { cancelRequested: attempt.cancelRequested, started: attempt.started, ...job };
      const action = decideAfterFailure(lost, facts, this.context.retry);
      attempt.abandon();
      this.#orphanPrompt(jobId, server);
      if (action.kind === 'requeue' || action.kind === 'move') {
        this.#release(jobId, attempt);
        returned.push({ jobId, from: server, move: action.kind === 'move' });
      } else {
        this.#apply(jobId, attempt, action);
      }
    }
    if (returned.length > 0) this.#requeueFront(returned);
  }

  /** A cancelled orphaned prompt leaves its job's record (through the book while this process holds the job). */
  async forgetOrphan(orphan: Orphan): Promise<void> {
    const job = this.context.book.get(orphan.jobId);
    if (job === undefined) return this.context.repository.removeOrphan(orphan.jobId, orphan);
    const remaining = (job.orphanedPrompts ?? []).filter((known) => !sameOrphan(known, orphan));
    await this.context.book.save(orphan.jobId, { orphanedPrompts: remaining });
  }

  #submit(jobId: string, server: string): void {
    const attempt = new Attempt(server, false);
    this.#attempts.set(jobId, attempt);
    this.context.pool.reserve(server, jobId);
    this.#runner.submit(jobId, attempt);
  }

  /** Follows a job already on a server by its recorded prompt id (not submitted again while the server has it). */
  #follow(job: JobRecord): void {
    const attempt = new Attempt(job.server ?? '', job.state === 'running');
    this.#attempts.set(job.id, attempt);
    // Under the client id it was submitted with: ComfyUI sends its progress there (another process's, after a takeover).
    const client = job.server === undefined ? undefined : this.context.pool.clientAs(job.server, job.clientId);
    if (client === undefined) {
      // Its server was removed from the configuration: the job is lost there, like on a server that died.
      const lost = new ComfyUnreachableError(job.server ?? '(none)', 'the server is no longer configured');
      return this.#attemptFailed(job.id, attempt, lost);
    }
    this.context.pool.reserve(attempt.server, job.id);
    this.#runner.follow(job.id, attempt, client.follow(job.promptId));
  }

  #succeeded(jobId: string, attempt: Attempt, { refs, files, kept, durationMs }: AttemptResult): void {
    if (this.#attempts.get(jobId) !== attempt) return;
    this.context.pool.recordDuration(attempt.server, durationMs);
    const applied = this.context.book.require(jobId).applied;
    const change = { state: 'succeeded' as const, outputs: refs, keptFiles: kept };
    this.#finish(jobId, change, { type: 'succeeded', files, applied, durationMs });
  }

  #attemptFailed(jobId: string, attempt: Attempt, error: unknown): void {
    if (attempt.abandoned || this.#attempts.get(jobId) !== attempt) return;
    if (error instanceof ComfyUnreachableError) this.context.pool.suspect(attempt.server);
    const job = this.context.book.require(jobId);
    const facts = { cancelRequested: attempt.cancelRequested, started: attempt.started, ...job };
    const action = decideAfterFailure(error, facts, this.context.retry);
    this.context.logger.info({ jobId, server: attempt.server, action: action.kind, err: error }, 'job attempt ended');
    this.#apply(jobId, attempt, action);
  }

  /** Carries out a decision about a job whose attempt is over. */
  #apply(jobId: string, attempt: Attempt, action: FailureAction): void {
    this.#release(jobId, attempt);
    switch (action.kind) {
      case 'cancel':
        return this.#finish(jobId, { state: 'cancelled' }, { type: 'cancelled' });
      case 'fail': {
        return this.#finish(
          jobId,
          { state: 'failed', failure: failureOf(action.error) },
          { type: 'failed', error: action.error },
        );
      }
      case 'requeue':
      case 'move':
        return this.#requeueFront([{ jobId, from: attempt.server, move: action.kind === 'move' }]);
    }
  }

  #finish(jobId: string, change: Partial<JobRecord>, event: TerminalJobEvent): void {
    void this.context
      .finisher()
      .finish(jobId, change, event)
      .then((delivered) => this.#settled(jobId, delivered));
  }

  /**
   * Puts jobs taken from a server back at the head of the queue, in their original order, once their records say
   * waiting (whichever process takes one next reads it from the store).
   */
  #requeueFront(returned: { jobId: string; from: string; move: boolean }[]): void {
    const { book, queue } = this.context;
    const saving = returned.map(({ jobId, from, move }) => {
      const job = book.require(jobId);
      const moved = move ? { moves: job.moves + 1, movedFrom: from } : {};
      return book.save(jobId, { state: 'waiting', startedAt: undefined, ...moved });
    });
    void Promise.all(saving)
      .then(async (jobs) => {
        for (const { jobId } of returned) this.#handedBack(jobId);
        jobs.sort((a, b) => a.sequence - b.sequence);
        await queue.pushFront(
          jobs.map(({ id, memberId, workflow, createdAt }) => ({ id, memberId, workflow, createdAt })),
        );
        this.context.changed();
      })
      .catch((error: unknown) => {
        // The next start (embedded) or the fleet's dispatcher finds them waiting in the store and queues them again.
        this.context.logger.error({ err: error, jobs: returned.map((job) => job.jobId) }, 'could not requeue jobs');
        for (const { jobId } of returned) this.#handedBack(jobId);
      });
  }

  /**
   * The job's prompt stays on a server the bot gave up on: recorded in the job (persisted, for a restart) and
   * cancelled there once the server answers, so the server does not keep rendering what now runs elsewhere.
   */
  #orphanPrompt(jobId: string, server: string): void {
    const job = this.context.book.require(jobId);
    if (job.state !== 'submitted' && job.state !== 'running') return;
    const orphan = { server, promptId: job.promptId };
    this.context.book.update(jobId, { orphanedPrompts: [...(job.orphanedPrompts ?? []), orphan] });
    this.context.orphans().add({ jobId, ...orphan });
  }

  async #cancelOnServer(jobId: string, attempt: Attempt, comfyJob: ComfyJob): Promise<void> {
    try {
      await comfyJob.cancel();
    } catch (error) {
      this.context.logger.warn({ err: error, jobId }, 'cancelling a prompt on its server failed');
      this.#forceCancel(jobId, attempt);
    }
  }

  /** Ends a cancelled job whose server did not confirm: the member asked, the member gets it. */
  #forceCancel(jobId: string, attempt: Attempt): void {
    if (attempt.abandoned || this.#attempts.get(jobId) !== attempt) return;
    attempt.abandon();
    this.#apply(jobId, attempt, { kind: 'cancel' });
  }

  #release(jobId: string, attempt: Attempt): void {
    clearTimeout(attempt.cancelTimer);
    if (this.#attempts.get(jobId) === attempt) this.#attempts.delete(jobId);
    this.context.pool.release(attempt.server, jobId);
  }

  /**
   * The job's delivery is over here: delivered (out of every process's hands), or left undelivered (stopping): then
   * its hand-off stays, for the next start or another process to deliver it.
   */
  #settled(jobId: string, delivered: boolean): void {
    const carried = this.#carried.get(jobId);
    if (carried === undefined) return;
    this.#carried.delete(jobId);
    if (!delivered) return carried.resolve('released');
    void this.context.queue
      .settled(jobId)
      .catch((error: unknown) => this.context.logger.warn({ err: error, jobId }, 'could not settle a hand-off'))
      .finally(() => carried.resolve('done'));
  }

  /** The job went back to the queue: out of this process's hands. */
  #handedBack(jobId: string): void {
    const carried = this.#carried.get(jobId);
    this.#carried.delete(jobId);
    this.context.book.forget(jobId);
    carried?.resolve('done');
  }

  #emit(jobId: string, event: JobEvent): void {
    const job = this.context.book.get(jobId);
    if (job) this.context.listeners.emit(job, event);
  }
}

/** The record change and the event of a job that ended while it waited. */
function endOf(ended: WaitingEnd): { change: Partial<JobRecord>; event: TerminalJobEvent } {
  if (ended.state === 'cancelled') return { change: { state: 'cancelled' }, event: { type: 'cancelled' } };
  const { state: _state, ...failure } = ended;
  return { change: { state: 'failed', failure }, event: { type: 'failed', error: errorOfFailure(failure) } };
}
