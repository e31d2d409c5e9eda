/**
 * The job runner: takes requests, queues them fairly, hands them to the pool's servers (at most `promptsPerServer`
 * each: jobs wait in the bot, not piled onto ComfyUI), follows them, downloads the results and delivers exactly one
 * terminal event per job. Every state change is persisted (the prompt id before the prompt is submitted), so
 * `resume()` after a restart picks up every job where it was. See events.ts for the delivery contract.
 */
import { ComfyClient, ComfyUnreachableError, type ComfyJob } from '../comfy/index.js';
import type { ComfyServerConfig } from '../config.js';
import { UserFacingError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { Attempt } from './attempt.js';
import { AttemptRunner, type AttemptResult } from './attempt-runner.js';
import type { JobEvent, JobListener, TerminalJobEvent } from './events.js';
import { decideAfterFailure, DEFAULT_RETRY_LIMITS, type FailureAction, type RetryLimits } from './failure-policy.js';
import { FairQueue } from './fair-queue.js';
import { OutageTimer, serversDownError } from './outage.js';
import { bindRequest } from './job-binding.js';
import { JobBook } from './job-book.js';
import { JobRepository } from './job-repository.js';
import { checkLimits, DEFAULT_LIMITS, type JobLimits } from './limits.js';
import { JobListeners } from './listeners.js';
import { createJobRecord, isTerminal, sameOrphan, type JobRecord, type JobRequest } from './model.js';
import { OrphanedPrompts, type Orphan } from './orphaned-prompts.js';
import { rebuildTerminalEvent } from './recovery.js';
import { salvageJob, type JobContact } from './salvage.js';
import { ResultFiles } from './result-files.js';
import { ResultDelivery, type DeliveryOptions } from './result-delivery.js';
import { canRunOnServer, workflowOnServer, type WorkflowSource } from './server-capabilities.js';
import { ServerPool, type ConnectServer, type ServerPoolOptions } from './server-pool.js';
import { buildSnapshot, type RunnerSnapshot } from './snapshot.js';
import type { Store } from '../store/index.js';

/** How the runner is wired and tuned. */
export interface JobRunnerOptions {
  readonly store: Store;
  readonly servers: readonly ComfyServerConfig[];
  readonly workflows: WorkflowSource;
  /** The workflow run when a request names none; the first loaded one when unset. */
  readonly defaultWorkflow?: string | undefined;
  /** Creates a server's client; a `ComfyClient` by default. */
  readonly connect?: ConnectServer;
  /** Prompts a server holds at once: one running, one ready by default. */
  readonly promptsPerServer?: number;
  readonly limits?: Partial<JobLimits>;
  readonly retry?: Partial<RetryLimits>;
  readonly delivery?: DeliveryOptions;
  readonly health?: Pick<ServerPoolOptions, 'healthIntervalMs' | 'downBackoff' | 'failuresBeforeDown'>;
  /** How long a cancelled prompt may take to stop before the job is ended as cancelled anyway. Default 15 s. */
  readonly cancelGraceMs?: number;
  /** How long waiting jobs wait while every server is down before they fail with a sentence. Default 2 min. */
  readonly outageTimeoutMs?: number;
  /**
   * Where finished jobs' files are kept until they are delivered (e.g. `data/results`), so a restart delivers them
   * without the server. Unset: nothing is kept, and a restart downloads them again.
   */
  readonly resultsDir?: string | undefined;
  /** The stall timeout of the default clients. Default 10 min. */
  readonly stallTimeoutMs?: number;
  /** The largest output file the default clients download. Default 100 MiB. */
  readonly maxOutputBytes?: number;
  /** How long a delivered job's record stays readable (Reroll, Vary, Upscale). Default 30 days. */
  readonly deliveredRetentionMs?: number;
  readonly logger?: Logger;
}

type Phase = 'new' | 'running' | 'stopped';

/** The scheduler of generation jobs. */
export class JobRunner {
  readonly #logger: Logger;
  readonly #workflows: WorkflowSource;
  readonly #defaultWorkflow: string | undefined;
  readonly #limits: JobLimits;
  readonly #retry: RetryLimits;
  readonly #cancelGraceMs: number;
  readonly #repository: JobRepository;
  readonly #book: JobBook;
  readonly #listeners: JobListeners;
  readonly #delivery: ResultDelivery;
  readonly #pool: ServerPool;
  readonly #outage: OutageTimer;
  readonly #outageTimeoutMs: number;
  readonly #results: ResultFiles;
  readonly #runner: AttemptRunner;
  readonly #orphans: OrphanedPrompts;
  readonly #queue = new FairQueue<{ id: string; memberId: string }>();
  readonly #attempts = new Map<string, Attempt>();
  /** Jobs whose terminal event was decided in this process: the exactly-once guard. */
  readonly #finished = new Set<string>();
  /** Jobs being written before they join the queue, per member (they count against the member's limit). */
  readonly #creating = new Map<string, number>();
  /** The last position announced for each waiting job. */
  readonly #positions = new Map<string, number>();
  /** Work that ends in a delivery (finishing and redelivering jobs): `stop()` waits for it. */
  readonly #settling = new Set<Promise<void>>();
  /** Aborted by `stop()`: redeliveries waiting for a server give up (the next start tries again). */
  readonly #stopping = new AbortController();
  #sequence = 0;
  #phase: Phase = 'new';

  constructor(options: JobRunnerOptions) {
    this.#logger = (options.logger ?? silentLogger()).child({ module: 'jobs' });
    this.#workflows = options.workflows;
    this.#defaultWorkflow = options.defaultWorkflow;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#retry = { ...DEFAULT_RETRY_LIMITS, ...options.retry };
    this.#cancelGraceMs = options.cancelGraceMs ?? 15_000;
    this.#repository = new JobRepository(options.store, { deliveredTtlMs: options.deliveredRetentionMs });
    this.#book = new JobBook(this.#repository, this.#logger);
    this.#listeners = new JobListeners(this.#logger);
    this.#results = new ResultFiles(options.resultsDir, this.#logger);
    this.#delivery = new ResultDelivery(this.#book, this.#listeners, this.#logger, {
      ...options.delivery,
      onDelivered: (jobId) => this.#results.discard(jobId),
    });
    const logger = options.logger ?? silentLogger();
    const { stallTimeoutMs, maxOutputBytes: maxDownloadBytes } = options;
    this.#pool = new ServerPool({
      servers: options.servers,
      connect:
        options.connect ??
        ((server, clientId) =>
          new ComfyClient({
            name: server.name,
            baseUrl: server.url,
            clientId,
            logger,
            stallTimeoutMs,
            maxDownloadBytes,
          })),
      workflows: options.workflows,
      promptsPerServer: options.promptsPerServer ?? 2,
      logger: this.#logger,
      ...options.health,
      onUp: (server) => {
        this.#outage.check();
        this.#orphans.serverUp(server);
        this.#pump();
      },
      onDown: (server, error) => {
        this.#serverDown(server, error);
        this.#outage.check();
      },
    });
    this.#orphans = new OrphanedPrompts({
      client: (server) => this.#pool.client(server),
      forget: (orphan) => this.#forgetOrphan(orphan),
      logger: this.#logger,
    });
    this.#outageTimeoutMs = options.outageTimeoutMs ?? 120_000;
    this.#outage = new OutageTimer(
      () => this.#allServersDown(),
      this.#outageTimeoutMs,
      () => this.#failWaitingJobs(),
    );
    this.#runner = new AttemptRunner(this.#book, this.#workflows, {
      client: (server) => this.#pool.client(server),
      workflowOn: (job, server) => this.#workflowOn(job, server),
      rangesOn: (workflow, server) => this.#pool.capabilities(server)?.ranges.get(workflow.name.toLowerCase()),
      isCurrent: (jobId, attempt) => this.#attempts.get(jobId) === attempt,
      emit: (jobId, event) => this.#emit(jobId, event),
      keep: (jobId, files) => this.#results.keep(jobId, files),
      succeeded: (jobId, attempt, result) => this.#succeeded(jobId, attempt, result),
      failed: (jobId, attempt, error) => this.#attemptFailed(jobId, attempt, error),
      cancelOnServer: (jobId, attempt, comfyJob) => void this.#cancelOnServer(jobId, attempt, comfyJob),
    });
  }

  /** Subscribes to every event of every job (recovered ones included); returns the unsubscribe function. */
  onEvent(listener: JobListener): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Starts the runner: checks the servers and reconciles every unfinished job from the store — results that
   * finished while the bot was down are delivered, jobs still on a server are followed, waiting jobs are queued
   * again in their order. Call once, after subscribing.
   */
  async resume(): Promise<void> {
    if (this.#phase !== 'new') throw new Error('JobRunner.resume() may be called once, before stop()');
    const open = await this.#repository.listOpen((id, contact) => this.#salvage(id, contact));
    const clientId = await this.#repository.clientId();
    await this.#results.sweep(new Set(open.map((job) => job.id)));
    this.#phase = 'running';
    this.#sequence = Math.max(0, ...open.map((job) => job.sequence + 1));
    this.#pool.start(clientId);
    for (const job of [...open, ...(await this.#repository.listWithOrphans())]) {
      for (const orphan of job.orphanedPrompts ?? []) this.#orphans.add({ jobId: job.id, ...orphan });
    }
    for (const job of open) {
      this.#book.adopt(job);
      if (isTerminal(job.state)) this.#settle(this.#redeliver(job));
      else if (job.state === 'waiting') this.#queue.push({ id: job.id, memberId: job.memberId });
      else this.#followAfterRestart(job);
    }
    this.#logger.info({ jobs: open.length }, 'job runner resumed');
    this.#pump();
  }

  /** Queues a job; throws a `UserFacingError` when a limit is hit or the settings cannot be used. */
  async enqueue(request: JobRequest): Promise<JobRecord> {
    if (this.#phase !== 'running') {
      throw new UserFacingError('runner-stopped', 'The bot is restarting; please try again in a minute.');
    }
    if (this.#outage.declared)
      throw serversDownError('every ComfyUI server has been down longer than the outage timeout', this.#answering());
    checkLimits(this.#limits, { memberInFlight: this.#inFlightOf(request.memberId), waiting: this.#queue.size });
    const bound = bindRequest(this.#workflows, this.#defaultWorkflow, request);
    this.#checkSomeServerCanRun(bound.workflow.name);
    const { workflow, settings, graph, applied } = bound;
    const job = createJobRecord(
      request,
      { workflow: workflow.name, settings, graph, applied: { ...applied } },
      this.#sequence++,
    );
    await this.#create(job);
    if (this.#phase === 'running') {
      this.#queue.push({ id: job.id, memberId: job.memberId });
      this.#pump();
    }
    return this.#book.get(job.id) ?? job;
  }

  /** Cancels a job of `memberId`: a waiting one leaves the queue, one on a server is interrupted or dequeued there. */
  async cancel(jobId: string, memberId: string): Promise<void> {
    if (this.#phase !== 'running') {
      throw new UserFacingError('runner-stopped', 'The bot is restarting; please try again in a minute.');
    }
    const job = this.#book.get(jobId) ?? (await this.#repository.get(jobId));
    if (job === undefined) throw new UserFacingError('job-unknown', 'That job no longer exists.');
    if (job.memberId !== memberId) {
      throw new UserFacingError('job-not-yours', 'Only the member who asked for this image can cancel it.');
    }
    if (this.#queue.remove(jobId) !== undefined) {
      this.#finish(jobId, { state: 'cancelled' }, { type: 'cancelled' });
      return this.#pump();
    }
    const attempt = this.#attempts.get(jobId);
    if (attempt === undefined || this.#finished.has(jobId)) {
      throw new UserFacingError('job-finished', 'That job has already finished.');
    }
    attempt.cancelRequested = true;
    clearTimeout(attempt.cancelTimer);
    attempt.cancelTimer = setTimeout(() => this.#forceCancel(jobId, attempt), this.#cancelGraceMs);
    attempt.cancelTimer.unref();
    if (attempt.comfyJob) await this.#cancelOnServer(jobId, attempt, attempt.comfyJob);
  }

  /** Updates how the Discord layer reaches the member (e.g. the status message once it exists). */
  async updateDelivery(jobId: string, delivery: NonNullable<JobRecord['delivery']>): Promise<void> {
    const job = this.#book.get(jobId) ?? (await this.#repository.get(jobId));
    if (job === undefined) return;
    await this.#repository.saveContact({ ...job, delivery });
    if (this.#book.get(jobId)) return void (await this.#book.save(jobId, { delivery }));
    await this.#repository.save({ ...job, delivery, updatedAt: Date.now() });
  }

  /** A job by id: from memory while the runner handles it, else from the store (delivered jobs expire). */
  async findJob(jobId: string): Promise<JobRecord | undefined> {
    return this.#book.get(jobId) ?? (await this.#repository.get(jobId));
  }

  /** What waits, what runs where, and how the servers are. */
  snapshot(): RunnerSnapshot {
    const serverOf = (jobId: string) => this.#attempts.get(jobId)?.server;
    return buildSnapshot(
      this.#book.values(),
      this.#queue.positions(),
      serverOf,
      this.#pool.status(),
      this.#outage.declared,
    );
  }

  /**
   * Stops taking and dispatching jobs, stops following prompts (they keep running on their servers), waits for
   * deliveries under way and for every write, and closes the server connections. The next `resume()` continues.
   */
  async stop(): Promise<void> {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#outage.stop();
    this.#orphans.stop();
    this.#stopping.abort();
    for (const attempt of this.#attempts.values()) attempt.abandon();
    this.#delivery.stop();
    await this.#pool.stop();
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
    await this.#delivery.idle();
    await this.#book.idle();
    this.#logger.info('job runner stopped');
  }

  /** An open job whose record cannot be read: rebuilt from its contact and kept files (salvage.ts). */
  async #salvage(id: string, contact: JobContact | undefined): Promise<JobRecord | undefined> {
    if (contact === undefined) {
      this.#logger.error({ jobId: id }, 'an open job has neither a readable record nor a contact; it is dropped');
      return undefined;
    }
    const kept = await this.#results.manifest(id);
    const servers = this.#pool.status().map((server) => server.name);
    const job = salvageJob(contact, { kept, servers, now: Date.now() });
    this.#logger.error(
      {
        jobId: id,
        member: contact.memberId,
        channel: contact.channelId,
        promptId: contact.promptId,
        kept: kept?.length,
      },
      job.state === 'succeeded'
        ? 'an open job’s record is unreadable; delivering its kept result from disk'
        : 'an open job’s record is unreadable; telling the member and cancelling its prompt on every server',
    );
    return job;
  }

  async #create(job: JobRecord): Promise<void> {
    this.#creating.set(job.memberId, (this.#creating.get(job.memberId) ?? 0) + 1);
    try {
      await this.#book.create(job);
    } catch (error) {
      throw new UserFacingError('store-unavailable', 'The bot could not save your job; please try again in a minute.', {
        cause: error,
        detail: `writing job ${job.id} failed: ${String(error)}`,
      });
    } finally {
      const count = (this.#creating.get(job.memberId) ?? 1) - 1;
      if (count > 0) this.#creating.set(job.memberId, count);
      else this.#creating.delete(job.memberId);
    }
  }

  /** True when some server that is down still answers (with errors), so "cannot be reached" would be untrue. */
  #answering(): boolean {
    return this.#pool.status().some((server) => server.answering);
  }

  #allServersDown(): boolean {
    const servers = this.#pool.status();
    return servers.length > 0 && servers.every((server) => server.health === 'down');
  }

  /** After a long outage: waiting jobs fail with a sentence instead of waiting without end. */
  #failWaitingJobs(): void {
    const error = serversDownError(
      'every ComfyUI server stayed down longer than the outage timeout',
      this.#answering(),
    );
    const failure = { identifier: error.identifier, message: error.userMessage };
    for (const item of this.#queue.ordered()) {
      this.#finish(item.id, { state: 'failed', failure }, { type: 'failed', error });
    }
    this.#logger.warn({ failed: failure }, 'every image server stayed down; waiting jobs failed');
  }

  #inFlightOf(memberId: string): number {
    let count = this.#creating.get(memberId) ?? 0;
    for (const job of this.#book.values()) {
      if (job.memberId === memberId && !isTerminal(job.state) && !this.#finished.has(job.id)) count++;
    }
    return count;
  }

  #checkSomeServerCanRun(workflow: string): void {
    if (!this.#pool.allAssessed) return;
    if (this.#pool.status().some((server) => this.#workflowOn({ workflow }, server.name) !== undefined)) return;
    throw new UserFacingError(
      'workflow-unavailable',
      `No image server can run ${workflow} (it needs nodes or models they lack); try another workflow.`,
    );
  }

  /** The workflow (its own or a fallback) a job would run on a server, if the server can run any. */
  #workflowOn(job: Pick<JobRecord, 'workflow'>, server: string) {
    return workflowOnServer(this.#pool.capabilities(server), this.#workflows, job.workflow);
  }

  #canRunOn(jobId: string, server: string): boolean {
    return canRunOnServer(this.#pool.capabilities(server), this.#workflows, this.#book.require(jobId));
  }

  /** Hands waiting jobs, in fair order, to free servers that can run them. */
  #pump(): void {
    if (this.#phase !== 'running') return;
    for (const item of this.#pool.hasFreeSlot() ? this.#queue.ordered() : []) {
      const server = this.#pool.choose((name) => this.#canRunOn(item.id, name));
      if (server === undefined) continue;
      this.#queue.take(item.id);
      this.#dispatch(item.id, server);
    }
    this.#announcePositions();
  }

  /** Sends `queued` to every waiting job whose position changed. */
  #announcePositions(): void {
    const positions = this.#queue.positions();
    for (const id of this.#positions.keys()) if (!positions.has(id)) this.#positions.delete(id);
    for (const [id, position] of positions) {
      if (this.#positions.get(id) === position) continue;
      this.#positions.set(id, position);
      this.#listeners.emit(this.#book.require(id), { type: 'queued', position });
    }
  }

  #dispatch(jobId: string, server: string): void {
    const attempt = new Attempt(server, false);
    this.#attempts.set(jobId, attempt);
    this.#pool.reserve(server, jobId);
    this.#runner.submit(jobId, attempt);
  }

  #followAfterRestart(job: JobRecord): void {
    const attempt = new Attempt(job.server ?? '', job.state === 'running');
    this.#attempts.set(job.id, attempt);
    const client = job.server === undefined ? undefined : this.#pool.client(job.server);
    if (client === undefined) {
      // Its server was removed from the configuration: the job is lost there, like on a server that died.
      const lost = new ComfyUnreachableError(job.server ?? '(none)', 'the server is no longer configured');
      return this.#attemptFailed(job.id, attempt, lost);
    }
    this.#pool.reserve(attempt.server, job.id);
    this.#runner.follow(job.id, attempt, client.follow(job.promptId));
  }

  #succeeded(jobId: string, attempt: Attempt, { refs, files, kept, durationMs }: AttemptResult): void {
    if (this.#attempts.get(jobId) !== attempt) return;
    this.#pool.recordDuration(attempt.server, durationMs);
    const applied = this.#book.require(jobId).applied;
    const change = { state: 'succeeded' as const, outputs: refs, keptFiles: kept };
    this.#finish(jobId, change, { type: 'succeeded', files, applied, durationMs });
  }

  #attemptFailed(jobId: string, attempt: Attempt, error: unknown): void {
    if (attempt.abandoned || this.#attempts.get(jobId) !== attempt) return;
    if (error instanceof ComfyUnreachableError) this.#pool.suspect(attempt.server);
    const job = this.#book.require(jobId);
    const facts = { cancelRequested: attempt.cancelRequested, started: attempt.started, ...job };
    const action = decideAfterFailure(error, facts, this.#retry);
    this.#logger.info({ jobId, server: attempt.server, action: action.kind, err: error }, 'job attempt ended');
    this.#apply(jobId, attempt, action);
  }

  /** Carries out a decision about a job whose attempt is over. */
  #apply(jobId: string, attempt: Attempt, action: FailureAction): void {
    this.#release(jobId, attempt);
    switch (action.kind) {
      case 'cancel':
        return this.#finish(jobId, { state: 'cancelled' }, { type: 'cancelled' });
      case 'fail': {
        const failure = { identifier: action.error.identifier, message: action.error.userMessage };
        return this.#finish(jobId, { state: 'failed', failure }, { type: 'failed', error: action.error });
      }
      case 'requeue':
      case 'move':
        return this.#requeueFront([{ jobId, from: attempt.server, move: action.kind === 'move' }]);
    }
  }

  /** Puts jobs taken from a server back at the head of the queue, in their original order. */
  #requeueFront(returned: { jobId: string; from: string; move: boolean }[]): void {
    const jobs = returned.map(({ jobId, from, move }) => {
      const job = this.#book.require(jobId);
      const moved = move ? { moves: job.moves + 1, movedFrom: from } : {};
      return this.#book.update(jobId, { state: 'waiting', startedAt: undefined, ...moved });
    });
    jobs.sort((a, b) => a.sequence - b.sequence);
    if (this.#phase !== 'running') return;
    this.#queue.pushFront(...jobs.map(({ id, memberId }) => ({ id, memberId })));
    this.#pump();
  }

  /** A server went down: every job on it is returned to the queue, moved, or failed, at once. */
  #serverDown(server: string, error: unknown): void {
    const lost = new ComfyUnreachableError(server, `health check failed: ${String(error)}`, error);
    const returned: { jobId: string; from: string; move: boolean }[] = [];
    for (const jobId of this.#pool.jobsOn(server)) {
      const attempt = this.#attempts.get(jobId);
      if (attempt === undefined || attempt.server !== server || attempt.abandoned) continue;
      const job = this.#book.require(jobId);
      const facts = { cancelRequested: attempt.cancelRequested, started: attempt.started, ...job };
      const action = decideAfterFailure(lost, facts, this.#retry);
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

  /**
   * The job's prompt stays on a server the bot gave up on: recorded in the job (persisted, for a restart) and
   * cancelled there once the server answers, so the server does not keep rendering what now runs elsewhere.
   */
  #orphanPrompt(jobId: string, server: string): void {
    const job = this.#book.require(jobId);
    if (job.state !== 'submitted' && job.state !== 'running') return;
    const orphan = { server, promptId: job.promptId };
    this.#book.update(jobId, { orphanedPrompts: [...(job.orphanedPrompts ?? []), orphan] });
    this.#orphans.add({ jobId, ...orphan });
  }

  /** A cancelled orphaned prompt leaves its job's record (through the book while the runner holds the job). */
  async #forgetOrphan(orphan: Orphan): Promise<void> {
    const job = this.#book.get(orphan.jobId);
    if (job === undefined) return this.#repository.removeOrphan(orphan.jobId, orphan);
    const remaining = (job.orphanedPrompts ?? []).filter((known) => !sameOrphan(known, orphan));
    await this.#book.save(orphan.jobId, { orphanedPrompts: remaining });
  }

  async #cancelOnServer(jobId: string, attempt: Attempt, comfyJob: ComfyJob): Promise<void> {
    try {
      await comfyJob.cancel();
    } catch (error) {
      this.#logger.warn({ err: error, jobId }, 'cancelling a prompt on its server failed');
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
    this.#pool.release(attempt.server, jobId);
  }

  /** Ends a job exactly once: persists its terminal state, frees its slot, then delivers the event. */
  #finish(jobId: string, change: Partial<JobRecord>, event: TerminalJobEvent): void {
    if (this.#finished.has(jobId)) return;
    this.#finished.add(jobId);
    const attempt = this.#attempts.get(jobId);
    if (attempt) {
      attempt.abandon();
      this.#release(jobId, attempt);
    }
    this.#queue.remove(jobId);
    const saved = this.#book.save(jobId, { ...change, finishedAt: Date.now() });
    this.#pump();
    const settled = saved
      .then(() => this.#delivery.deliver(jobId, event))
      .catch((error: unknown) => {
        // Not persisted as finished: the next start finds the job unfinished and settles it again.
        this.#logger.error({ err: error, jobId }, 'saving a finished job failed');
      })
      .finally(() => this.#finished.delete(jobId));
    this.#settle(settled);
  }

  /** Tracks work that ends in a delivery, so `stop()` can wait for it. */
  #settle(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.#logger.error({ err: error }, 'settling a job failed'));
    this.#settling.add(tracked);
    void tracked.finally(() => this.#settling.delete(tracked));
  }

  /**
   * Delivers again a job that ended before a restart but whose delivery was not confirmed. A succeeded job stays
   * succeeded in the store even when its files could not be had (the member is told so).
   */
  async #redeliver(job: JobRecord): Promise<void> {
    this.#finished.add(job.id);
    const event = await rebuildTerminalEvent(job, {
      results: this.#results,
      clientOf: (name) => this.#pool.client(name),
      isUp: (name) => this.#pool.status().some((server) => server.name === name && server.health === 'up'),
      logger: this.#logger,
      signal: this.#stopping.signal,
      waitMs: this.#outageTimeoutMs,
    });
    if (event === undefined) return this.#book.forget(job.id);
    await this.#delivery.deliver(job.id, event);
    this.#finished.delete(job.id);
  }

  #emit(jobId: string, event: JobEvent): void {
    const job = this.#book.get(jobId);
    if (job) this.#listeners.emit(job, event);
  }
}
