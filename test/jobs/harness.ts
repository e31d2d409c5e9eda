/**
 * What the runner tests share: real emulators on 127.0.0.1, a real SQLite store in a temp dir, the shipped workflows,
 * and a recorder of every event the runner sends, with generous waits instead of sleeps. `Harness` tracks everything
 * a test starts so `cleanUp()` (in afterEach) stops and closes all of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import {
  JobRunner,
  type JobEvent,
  type JobListener,
  type JobRecord,
  type JobRunnerOptions,
} from '../../src/jobs/index.js';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { loadWorkflows, type LoadedWorkflows } from '../../src/workflows/index.js';

let shipped: Promise<LoadedWorkflows> | undefined;

/** The repository's shipped workflows, loaded once per test file. */
export function shippedWorkflows(): Promise<LoadedWorkflows> {
  shipped ??= loadWorkflows(join(import.meta.dirname, '../../workflows'), silentLogger());
  return shipped;
}

/** A request from `memberId` for a quick image (3 sampler steps unless told otherwise). */
export function quickRequest(memberId: string, settings: Record<string, unknown> = {}) {
  return {
    memberId,
    channelId: 'channel-1',
    guildId: 'guild-1',
    settings: { prompt: `a red fox for ${memberId}`, steps: 3, width: 256, height: 256, ...settings },
  };
}

/** Every event a runner sent, per job and in global order. */
export class EventLog {
  readonly order: { jobId: string; event: JobEvent }[] = [];
  readonly jobs = new Map<string, JobRecord>();
  #waiters: (() => void)[] = [];

  /** The listener to pass to `runner.onEvent`; `confirm` may reject a terminal event to refuse its delivery. */
  listener(confirm: (job: JobRecord, event: JobEvent) => void | Promise<void> = () => undefined): JobListener {
    return (job, event) => {
      this.jobs.set(job.id, job);
      this.order.push({ jobId: job.id, event });
      for (const wake of this.#waiters.splice(0)) wake();
      return confirm(job, event);
    };
  }

  /** The events of one job, in order. */
  of(jobId: string): JobEvent[] {
    return this.order.filter((entry) => entry.jobId === jobId).map((entry) => entry.event);
  }

  /** The terminal events of one job. */
  terminals(jobId: string): JobEvent[] {
    return this.of(jobId).filter((event) => ['succeeded', 'failed', 'cancelled'].includes(event.type));
  }

  /** Every terminal event, in order. */
  allTerminals(): { jobId: string; event: JobEvent }[] {
    return this.order.filter((entry) => ['succeeded', 'failed', 'cancelled'].includes(entry.event.type));
  }

  /** The order in which jobs were handed to servers (first hand-out of each). */
  submissionOrder(): string[] {
    const ids = this.order.filter((entry) => entry.event.type === 'submitted').map((entry) => entry.jobId);
    return [...new Set(ids)];
  }

  /** Resolves once `condition` holds, checking after every event and every 50 ms; rejects after `timeoutMs`. */
  async until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 25_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a job's terminal event and returns it. */
  async terminalOf(jobId: string, timeoutMs?: number): Promise<JobEvent> {
    await this.until(() => this.terminals(jobId).length > 0, `job ${jobId} to end`, timeoutMs);
    return this.terminals(jobId)[0]!;
  }
}

/** What became of a job, for the fault ledger: results delivered, failure sentences given. */
export function tallyOf(log: EventLog, jobId: string): { deliveries: number; sentences: number } {
  const terminals = log.terminals(jobId);
  return {
    deliveries: terminals.filter((event) => event.type === 'succeeded').length,
    sentences: terminals.filter((event) => event.type === 'failed').length,
  };
}

/** Starts and tracks emulators, stores and runners; `cleanUp` releases all of them. */
export class Harness {
  readonly emulators: Emulator[] = [];
  readonly #runners: JobRunner[] = [];
  readonly #stores: Store[] = [];
  readonly #dirs: string[] = [];

  /** Starts one emulator per step time. */
  async startEmulators(...stepMs: number[]): Promise<Emulator[]> {
    const started = await Promise.all(stepMs.map((ms) => startEmulator({ port: 0, stepMs: ms, previews: true })));
    this.emulators.push(...started);
    return started;
  }

  /** Starts one emulator with the given options. */
  async startEmulator(options: EmulatorOptions): Promise<Emulator> {
    const emulator = await startEmulator({ port: 0, ...options });
    this.emulators.push(emulator);
    return emulator;
  }

  /** A fresh temp dir. */
  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'comfycord-jobs-'));
    this.#dirs.push(dir);
    return dir;
  }

  /** A SQLite store URL in a fresh temp dir. */
  async storeUrl(): Promise<string> {
    return `sqlite://${join(await this.tempDir(), 'jobs.sqlite')}`;
  }

  /** Opens the store at `url`. */
  async openStore(url: string): Promise<Store> {
    const store = await openStore(url, silentLogger());
    this.#stores.push(store);
    return store;
  }

  /** A runner over the store and the emulators (named gpu1, gpu2, …), with fast health checks. */
  async runner(store: Store, emulators: readonly Emulator[], options: Partial<JobRunnerOptions> = {}) {
    const runner = new JobRunner({
      store,
      servers: emulators.map((emulator, index) => ({ name: `gpu${index + 1}`, url: emulator.url })),
      workflows: await shippedWorkflows(),
      defaultWorkflow: 'txt2img',
      health: { healthIntervalMs: 200, downBackoff: { minMs: 100, maxMs: 400 }, failuresBeforeDown: 2 },
      ...options,
    });
    this.#runners.push(runner);
    return runner;
  }

  /** A running runner with an event log, whose servers are all up. */
  async started(emulators: readonly Emulator[], options: Partial<JobRunnerOptions> = {}, storeUrl?: string) {
    const store = await this.openStore(storeUrl ?? (await this.storeUrl()));
    const runner = await this.runner(store, emulators, options);
    const log = new EventLog();
    runner.onEvent(log.listener());
    await runner.resume();
    await log.until(() => runner.snapshot().servers.every((server) => server.health === 'up'), 'servers to be up');
    return { runner, log, store };
  }

  /** A running runner whose only server refuses connections, so every job waits in the bot's queue. */
  async startedWithServerDown(emulator: Emulator, options: Partial<JobRunnerOptions> = {}) {
    emulator.faults.refuseConnections(true);
    const store = await this.openStore(await this.storeUrl());
    const runner = await this.runner(store, [emulator], options);
    const log = new EventLog();
    runner.onEvent(log.listener());
    await runner.resume();
    await log.until(() => runner.snapshot().servers[0]?.health === 'down', 'the server to be down');
    const bringUp = () => emulator.faults.refuseConnections(false);
    return { runner, log, store, bringUp };
  }

  /** Stops every runner, closes every store and emulator, removes every temp dir. */
  async cleanUp(): Promise<void> {
    for (const runner of this.#runners.splice(0)) await runner.stop();
    for (const store of this.#stores.splice(0)) await store.close().catch(() => undefined);
    await Promise.all(this.emulators.splice(0).map((emulator) => emulator.close().catch(() => undefined)));
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
