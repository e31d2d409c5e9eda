/**
 * The job runner: the public face of the job layer, wiring its stages over a queue engine. Intake (limits, enqueue)
 * takes requests; dispatch hands waiting jobs fairly to free server slots (at most `promptsPerServer` each: jobs wait
 * in the bot, not piled onto ComfyUI); the attempt stage submits, follows and downloads; delivery ends each job
 * exactly once and hands its result to the listeners; recovery picks every job up after a restart. Every state
 * change is persisted (the prompt id before the prompt is submitted). The engine is embedded (one process, the
 * default) or a fleet on Redis (engine/fleet.ts): the stages are the same code on either. See events.ts for the
 * delivery contract.
 */
import { hostname } from 'node:os';
import { ComfyClient } from '../comfy/index.js';
import type { ComfyServerConfig } from '../config.js';
import { sentence } from '../i18n/catalog.js';
import { UserFacingError } from '../errors.js';
import { noFault, type FaultPoint } from '../fault-point.js';
import { silentLogger, type Logger } from '../logger.js';
import { JobAttempts } from './attempts.js';
import { Dispatcher } from './dispatch.js';
import { EmbeddedEngine } from './engine/embedded.js';
import type { QueueEngine } from './engine/queue-engine.js';
import type { JobListener } from './events.js';
import { DEFAULT_RETRY_LIMITS, failureOf, type RetryLimits } from './failure-policy.js';
import { JobFinisher } from './finish.js';
import { takeRequest } from './intake.js';
import { JobBook } from './job-book.js';
import { JobQueue } from './job-queue.js';
import { JobRepository } from './job-repository.js';
import { DEFAULT_LIMITS, type JobLimits } from './limits.js';
import { JobListeners } from './listeners.js';
import { isTerminal, type InputImage, type JobRecord, type JobRequest } from './model.js';
import { OrphanedPrompts } from './orphaned-prompts.js';
import { OutageTimer, serversDownError } from './outage.js';
import { ResultDelivery, type DeliveryOptions } from './result-delivery.js';
import { takeInStrayJobs } from './recovery.js';
import { salvageJob, type JobContact } from './salvage.js';
import { ResultFiles } from './result-files.js';
import { canRunOnServer, type ServerCapabilities, type WorkflowSource } from './server-capabilities.js';
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
  /** Where attempts read members' images (input-files.ts: the folder, and in a fleet the store); the recorded file by default. */
  readonly readInput?: ((image: InputImage) => Promise<Buffer>) | undefined;
  /** The stall timeout of the default clients. Default 10 min. */
  readonly stallTimeoutMs?: number;
  /** The largest output file the default clients download. Default 100 MiB. */
  readonly maxOutputBytes?: number;
  /** How long a delivered job's record stays readable (Reroll, Vary, Upscale). Default 30 days. */
  readonly deliveredRetentionMs?: number;
  /** Stops the process at a named point (tests crash it there); a no-op by default. */
  readonly fault?: FaultPoint;
  /**
   * In a fleet, how often the dispatcher looks between stray passes for requests received by a process that died
   * (`onReceivedPass`), so they are taken over moments after the death is known. Default 1 s.
   */
  readonly receivedCheckMs?: number;
  /** The queue engine: embedded (one process, the default) or a fleet's (engine/fleet.ts). */
  readonly engine?: QueueEngine;
  readonly logger?: Logger;
}

/**
 * `draining` is a fleet's stopping process: it carries and dispatches nothing any more, but still takes requests into
 * the shared queue (another process carries them) until `stop()`.
 */
type Phase = 'new' | 'running' | 'draining' | 'stopped';

/**
 * A face's pass over what dead processes left: the requests received but not yet written as jobs (those whose writer's
 * life is over, and those naming no writer older than `graceMs`), or other leftovers (`onStrayPass`).
 */
export type ReceivedRequestsPass = (graceMs: number) => Promise<unknown>;

/** The scheduler of generation jobs. */
export class JobRunner {
  readonly #logger: Logger;
  readonly #workflows: WorkflowSource;
  readonly #defaultWorkflow: string | undefined;
  readonly #limits: JobLimits;
  readonly #fault: FaultPoint;
  readonly #engine: QueueEngine;
  readonly #queue: JobQueue;
  readonly #repository: JobRepository;
  readonly #book: JobBook;
  readonly #listeners: JobListeners;
  readonly #delivery: ResultDelivery;
  readonly #pool: ServerPool;
  readonly #outage: OutageTimer;
  readonly #results: ResultFiles;
  readonly #orphans: OrphanedPrompts;
  readonly #attempts: JobAttempts;
  readonly #finisher: JobFinisher;
  readonly #dispatcher: Dispatcher;
  /** Jobs carried in this process (attempts and deliveries): `stop()` waits for them. */
  readonly #carrying = new Set<Promise<unknown>>();
  /** The faces' passes over requests they received but had not written as jobs (see `onReceivedPass`). */
  readonly #receivedPasses = new Set<ReceivedRequestsPass>();
  /** The faces' passes over other leftovers of dead processes (see `onStrayPass`). */
  readonly #strayPasses = new Set<ReceivedRequestsPass>();
  /** The pass over received requests under way: one at a time, so no entry is finished twice at once here. */
  #receiving: Promise<void> | undefined;
  readonly #receivedCheckMs: number;
  #receivedCheck: NodeJS.Timeout | undefined;
  /** Requests being taken (intake, cancels): `stop()` waits for them before it closes the engine under them. */
  readonly #taking = new Set<Promise<unknown>>();
  /** Aborted by `drain()`: redeliveries waiting for a server give up (the next start tries again). */
  readonly #stopping = new AbortController();
  #phase: Phase = 'new';
  #drained: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: JobRunnerOptions) {
    this.#logger = (options.logger ?? silentLogger()).child({ module: 'jobs' });
    this.#workflows = options.workflows;
    this.#defaultWorkflow = options.defaultWorkflow;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#fault = options.fault ?? noFault;
    this.#receivedCheckMs = options.receivedCheckMs ?? 1_000;
    this.#engine = options.engine ?? new EmbeddedEngine(`${hostname()}-${process.pid}`);
    this.#queue = new JobQueue(this.#engine.cell);
    this.#repository = new JobRepository(options.store, { deliveredTtlMs: options.deliveredRetentionMs });
    this.#book = new JobBook(this.#repository, this.#logger);
    this.#listeners = new JobListeners(this.#logger);
    this.#results = new ResultFiles(options.resultsDir, this.#logger);
    this.#delivery = new ResultDelivery(this.#book, this.#listeners, this.#logger, {
      ...options.delivery,
      onDelivered: (jobId) => this.#results.discard(jobId),
    });
    this.#pool = this.#createPool(options);
    const outageTimeoutMs = options.outageTimeoutMs ?? 120_000;
    this.#outage = new OutageTimer(
      () => this.#allServersDown(),
      outageTimeoutMs,
      () => void this.#failWaitingJobs(),
    );
    const changed = () => this.#engine.changed();
    this.#attempts = new JobAttempts({
      book: this.#book,
      repository: this.#repository,
      queue: this.#queue,
      pool: this.#pool,
      workflows: this.#workflows,
      listeners: this.#listeners,
      results: this.#results,
      readInput: options.readInput,
      orphans: () => this.#orphans,
      finisher: () => this.#finisher,
      retry: { ...DEFAULT_RETRY_LIMITS, ...options.retry } satisfies RetryLimits,
      cancelGraceMs: options.cancelGraceMs ?? 15_000,
      logger: this.#logger,
      changed,
    });
    this.#orphans = new OrphanedPrompts({
      client: (server) => this.#pool.client(server),
      forget: (orphan) => this.#attempts.forgetOrphan(orphan),
      logger: this.#logger,
    });
    this.#finisher = new JobFinisher({
      book: this.#book,
      queue: this.#queue,
      delivery: this.#delivery,
      logger: this.#logger,
      endAttempt: (jobId) => this.#attempts.endAttempt(jobId),
      changed,
      signal: this.#stopping.signal,
      recovery: () => ({
        results: this.#results,
        clientOf: (name) => this.#pool.client(name),
        isUp: (name) => this.#pool.status().some((server) => server.name === name && server.health === 'up'),
        logger: this.#logger,
        waitMs: outageTimeoutMs,
      }),
    });
    this.#dispatcher = new Dispatcher({
      queue: this.#queue,
      pool: this.#pool,
      engine: this.#engine,
      workflows: this.#workflows,
      recordOf: (jobId) => this.findJob(jobId),
      emit: (job, event) => this.#listeners.emit(job, event),
      running: () => this.#phase === 'running',
      logger: this.#logger,
    });
  }

  /** Subscribes to every event of every job (recovered ones included); returns the unsubscribe function. */
  onEvent(listener: JobListener): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Adds a face's pass over the requests it received and had not yet written as jobs when its process died (the
   * Discord face's request journal, the web face's pending generations). It runs where stray jobs are taken in: once
   * at the start of an embedded runner (grace 0: the store is this process's alone, so every entry is a dead one's),
   * and in a fleet with the dispatcher's stray pass (at each takeover and every `strayCheckMs`, with the intake's grace)
   * and, between those, every `receivedCheckMs` while this process dispatches: what names its writer is taken over as
   * soon as that writer's life is over (process-lives.ts), not after a fixed time. Returns the removal.
   */
  onReceivedPass(pass: ReceivedRequestsPass): () => void {
    this.#receivedPasses.add(pass);
    return () => this.#receivedPasses.delete(pass);
  }

  /**
   * Adds a face's pass over other leftovers of dead processes (the web face's unsent webhooks), run with the fleet
   * dispatcher's stray pass only. Returns the removal.
   */
  onStrayPass(pass: ReceivedRequestsPass): () => void {
    this.#strayPasses.add(pass);
    return () => this.#strayPasses.delete(pass);
  }

  /**
   * Starts the runner: checks the servers and reconciles every unfinished job from the store — results that
   * finished while the bot was down are delivered, jobs still on a server are followed, waiting jobs are queued
   * again in their order. Call once, after subscribing.
   */
  async resume(): Promise<void> {
    if (this.#phase !== 'new') throw new Error('JobRunner.resume() may be called once, before stop()');
    // In a fleet, an unreadable record is salvaged by the dispatcher alone (one process, not every one that starts).
    const salvage =
      this.#engine.kind === 'fleet'
        ? undefined
        : (id: string, contact: JobContact | undefined) => this.#salvage(id, contact);
    const open = await this.#repository.listOpen(salvage);
    const clientId = await this.#engine.clientId(() => this.#repository.clientId());
    // By the open index, not the records read: in a fleet an unreadable one is left out of `open` for the dispatcher
    // to salvage, and its kept result must still be there when it does.
    await this.#results.sweep(new Set(await this.#repository.openIds()));
    this.#phase = 'running';
    this.#pool.start(clientId);
    for (const job of [...open, ...(await this.#repository.listWithOrphans())]) this.#orphaned(job);
    const recovered = await this.#engine.recover(open);
    await this.#engine.start({
      carry: async (jobId, handOff) => {
        const carried = this.#track(this.#attempts.carry(jobId, handOff));
        return { outcome: this.#track(carried.then(({ outcome }) => outcome)) };
      },
      wake: () => void this.#dispatcher.pump(),
      cancel: (jobId) => void this.#attempts.cancel(jobId),
      takeInStrays: async (graceMs) => {
        if (this.#phase !== 'running') return;
        await takeInStrayJobs({
          queue: this.#queue,
          repository: this.#repository,
          engine: this.#engine,
          salvage: (id, contact) => this.#salvage(id, contact),
          orphaned: (job) => this.#orphaned(job),
          graceMs,
          logger: this.#logger,
        });
        await this.#takeInReceived(graceMs);
        await this.#runPasses(this.#strayPasses, graceMs);
      },
    });
    for (const { jobId, handOff } of recovered) await this.#engine.handOff(jobId, handOff);
    if (this.#engine.kind === 'embedded') {
      await this.#takeInReceived(0);
    } else {
      // A request's writer may die at any moment, and the stray pass comes only every half minute.
      this.#receivedCheck = setInterval(() => {
        if (this.#engine.leading) void this.#takeInReceived(this.#engine.intakeGraceMs, 'debug');
      }, this.#receivedCheckMs).unref();
    }
    this.#logger.info({ jobs: open.length, process: this.#engine.processName }, 'job runner resumed');
    await this.#dispatcher.pump();
  }

  /** Queues a job; throws a `UserFacingError` when a limit is hit or the settings cannot be used. */
  async enqueue(request: JobRequest): Promise<JobRecord> {
    const job = await this.#take(
      takeRequest(
        {
          queue: this.#queue,
          repository: this.#repository,
          workflows: this.#workflows,
          defaultWorkflow: this.#defaultWorkflow,
          limits: this.#limits,
          assertOpen: () => this.#assertOpen(),
          assertSomeServerCanRun: (job) => this.#assertSomeServerCanRun(job),
          fault: this.#fault,
          intakeGraceMs: this.#engine.intakeGraceMs,
          queued: async (job) => {
            this.#dispatcher.know(job);
            this.#engine.changed();
            await this.#dispatcher.pump();
          },
        },
        request,
      ),
    );
    // Dispatched at once when a server was free: the record as its carrier holds it now.
    return this.#book.get(job.id) ?? job;
  }

  /** Cancels a job of `memberId`: a waiting one leaves the queue, one on a server is interrupted or dequeued there. */
  async cancel(jobId: string, memberId: string): Promise<void> {
    this.#assertTakingRequests();
    return this.#take(this.#cancel(jobId, memberId));
  }

  async #cancel(jobId: string, memberId: string): Promise<void> {
    const job = await this.findJob(jobId);
    if (job === undefined) throw new UserFacingError('job-unknown', 'That job no longer exists.');
    if (job.memberId !== memberId) {
      throw new UserFacingError('job-not-yours', 'Only the member who asked for this image can cancel it.');
    }
    const handOff = await this.#queue.endWaiting(jobId, { state: 'cancelled' });
    if (handOff !== undefined) {
      this.#dispatcher.leaving(jobId);
      await this.#engine.handOff(jobId, handOff);
      return this.#dispatcher.pump();
    }
    // A draining process carries nothing any more (what it abandoned is another's to cancel): only asked, below.
    if (this.#phase === 'running' && (await this.#attempts.cancel(jobId))) return;
    // Carried by another process of the fleet: it is asked (and the request is kept for whoever carries it next).
    const current = this.#engine.kind === 'fleet' ? await this.#repository.get(jobId) : undefined;
    if (current === undefined || isTerminal(current.state) || this.#finisher.has(jobId)) {
      throw new UserFacingError('job-finished', 'That job has already finished.');
    }
    await this.#engine.requestCancel(jobId);
  }

  /** Updates how the Discord layer reaches the member (e.g. the status message once it exists). */
  async updateDelivery(jobId: string, delivery: NonNullable<JobRecord['delivery']>): Promise<void> {
    const job = this.#book.get(jobId) ?? (await this.#repository.get(jobId));
    if (job === undefined) return;
    await this.#repository.saveContact({ ...job, delivery });
    if (this.#book.get(jobId)) return void (await this.#book.save(jobId, { delivery }));
    await this.#repository.save({ ...job, delivery, updatedAt: Date.now() });
  }

  /** A job by id: from memory while this process carries it, else from the store (delivered jobs expire). */
  async findJob(jobId: string): Promise<JobRecord | undefined> {
    return this.#book.get(jobId) ?? (await this.#repository.get(jobId));
  }

  /** What waits, what runs where, and how the servers are (fleet-wide, as this process last saw the queue). */
  snapshot(): RunnerSnapshot {
    return buildSnapshot(this.#queue.last, this.#queue.positions(), this.#pool.status(), this.#outage.declared);
  }

  /** The engine under the stages (its process name, whether it leads the fleet's dispatch). */
  get engine(): QueueEngine {
    return this.#engine;
  }

  /**
   * Stops carrying and dispatching jobs: stops following prompts (they keep running on their servers), waits for
   * deliveries under way, and hands what this process carried back (in a fleet, the other processes take it over at
   * once). In a fleet, requests are still taken into the shared queue until `stop()`: another process carries them,
   * so a member whose command reaches a stopping process (its gateway is still connected) is not refused. Embedded,
   * requests are refused from here on: nobody else would carry a job taken now, which would wait until this process
   * starts again (if it ever does), while the refusal tells the member to ask again in a minute.
   */
  drain(): Promise<void> {
    this.#drained ??= this.#drain();
    return this.#drained;
  }

  /**
   * Stops the runner: drains (see `drain`), refuses requests from then on, waits for those being taken and for every
   * write, and closes the engine. The next `resume()` continues (embedded); in a fleet, the other processes carry on.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.drain();
      this.#phase = 'stopped';
      while (this.#taking.size > 0) await Promise.allSettled([...this.#taking]);
      await this.#book.idle();
      await this.#engine.close();
      this.#logger.info('job runner stopped');
    })();
    return this.#stopped;
  }

  async #drain(): Promise<void> {
    this.#phase = this.#engine.kind === 'fleet' && this.#phase === 'running' ? 'draining' : 'stopped';
    clearInterval(this.#receivedCheck);
    this.#outage.stop();
    this.#orphans.stop();
    this.#stopping.abort();
    await this.#engine.stop();
    // A pass under way ends before the store closes: embedded it finds intake closed (its entries stay for the next
    // start); in a fleet intake stays open while draining, and the entry it is on may be finished here.
    await this.#receiving;
    this.#attempts.abandonAll();
    this.#delivery.stop();
    await this.#pool.stop();
    this.#attempts.releaseAll();
    while (this.#carrying.size > 0) await Promise.allSettled([...this.#carrying]);
    await this.#delivery.idle();
  }

  /** Runs the faces' passes over received requests, one run at a time (a run under way is joined). */
  #takeInReceived(graceMs: number, failures: 'warn' | 'debug' = 'warn'): Promise<void> {
    this.#receiving ??= this.#runPasses(this.#receivedPasses, graceMs, failures).finally(() => {
      this.#receiving = undefined;
    });
    return this.#receiving;
  }

  /**
   * Runs passes over what dead processes left; one that fails is logged (the next pass tries again): at `debug` for
   * the look every second (a Redis away would write a warning a second), a warning in the stray pass.
   */
  async #runPasses(
    passes: ReadonlySet<ReceivedRequestsPass>,
    graceMs: number,
    failures: 'warn' | 'debug' = 'warn',
  ): Promise<void> {
    for (const pass of passes) {
      if (this.#phase !== 'running') return;
      await pass(graceMs).catch((error: unknown) =>
        this.#logger[failures]({ err: error }, 'could not look for requests a stopped process had received'),
      );
    }
  }

  /** The job's prompts left on servers are cancelled there. */
  #orphaned(job: JobRecord): void {
    for (const orphan of job.orphanedPrompts ?? []) this.#orphans.add({ jobId: job.id, ...orphan });
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

  #createPool(options: JobRunnerOptions): ServerPool {
    const logger = options.logger ?? silentLogger();
    const { stallTimeoutMs, maxOutputBytes: maxDownloadBytes } = options;
    return new ServerPool({
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
      // Slots are counted in the shared queue: fleet-wide, every process's jobs on a server count.
      slotsTaken: (server) => this.#queue.slotsTaken(server),
      ...options.health,
      onUp: (server) => {
        this.#outage.check();
        this.#orphans.serverUp(server);
        void this.#dispatcher.pump();
      },
      onDown: (server, error) => {
        this.#attempts.serverDown(server, error);
        this.#outage.check();
      },
      onCleared: () => void this.#dispatcher.pump(),
    });
  }

  /** Tracks the carrying of a job, so `stop()` can wait for it. */
  #track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.catch((error: unknown) => {
      this.#logger.error({ err: error }, 'carrying a job failed');
      throw error;
    });
    const settled = tracked.catch(() => undefined);
    this.#carrying.add(settled);
    void settled.finally(() => this.#carrying.delete(settled));
    return tracked;
  }

  /** Tracks a request being taken, so `stop()` waits for it. */
  #take<T>(work: Promise<T>): Promise<T> {
    const settled = work.catch(() => undefined);
    this.#taking.add(settled);
    void settled.finally(() => this.#taking.delete(settled));
    return work;
  }

  /** Refuses requests before `resume()` and once stopping, except while a fleet's process drains (see `drain`). */
  #assertTakingRequests(): void {
    if (this.#phase !== 'running' && this.#phase !== 'draining') {
      throw new UserFacingError('runner-stopped', 'The bot is restarting; please try again in a minute.');
    }
  }

  #assertOpen(): void {
    this.#assertTakingRequests();
    if (this.#outage.declared)
      throw serversDownError('every ComfyUI server has been down longer than the outage timeout', this.#answering());
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
  async #failWaitingJobs(): Promise<void> {
    const error = serversDownError(
      'every ComfyUI server stayed down longer than the outage timeout',
      this.#answering(),
    );
    const failure = failureOf(error);
    if (!this.#engine.leading) return;
    const failed = await this.#dispatcher.endAllWaiting({ state: 'failed', ...failure });
    this.#logger.warn({ failed: failure, jobs: failed }, 'every image server stayed down; waiting jobs failed');
  }

  #assertSomeServerCanRun(job: Pick<JobRecord, 'workflow' | 'settings'>): void {
    if (!this.#pool.allAssessed) return;
    const { workflow } = job;
    const servers = this.#pool.status();
    if (servers.some((server) => canRunOnServer(this.#pool.capabilities(server.name), this.#workflows, job))) return;
    const runsIt = servers.some((server) => this.#attempts.workflowOn({ workflow }, server.name) !== undefined);
    // An empty list of LoRAs means "none" (the member took them all out), not a choice of files.
    const chosen = job.settings.checkpoint !== undefined || (job.settings.loras?.length ?? 0) > 0;
    throw new UserFacingError(
      'workflow-unavailable',
      sentence(chosen && runsIt ? 'job.noServerWithFiles' : 'job.noServerForWorkflow', { workflow }),
    );
  }

  /** Per server that has been checked, the files each workflow's model and LoRA choices may name there. */
  modelChoices(): Array<{ readonly server: string } & Pick<ServerCapabilities, 'workflows' | 'choices'>> {
    return this.#pool.status().flatMap((server) => {
      const capabilities = this.#pool.capabilities(server.name);
      return capabilities
        ? [{ server: server.name, choices: capabilities.choices, workflows: capabilities.workflows }]
        : [];
    });
  }
}
