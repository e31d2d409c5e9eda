/**
 * The engine both faces share: the store, the loaded workflows, the job runner (queue, limits, servers, restart
 * recovery) and the sessions. It is started once; the Discord face and the web face attach their listeners to it,
 * and only then is it resumed, so a result that finished while the process was down reaches every face.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.js';
import type { ConnectServer } from './jobs/index.js';
import { faultPointFor } from './fault-point.js';
import { InputFiles } from './jobs/input-files.js';
import { JobRepository } from './jobs/job-repository.js';
import { EmbeddedEngine } from './jobs/engine/embedded.js';
import { FleetEngine, type FleetEngineOptions } from './jobs/engine/fleet.js';
import type { QueueEngine } from './jobs/engine/queue-engine.js';
import { JobRunner } from './jobs/runner.js';
import type { Logger } from './logger.js';
import { openSessions, type Sessions } from './sessions/index.js';
import { openStore, type Store } from './store/index.js';
import { ProcessLives, type ProcessLife } from './store/process-lives.js';
import { holdRunnerLease, processLease, type RunnerLease, type RunnerLeaseOptions } from './store/runner-lease.js';
import { loadWorkflows, type LoadedWorkflows } from './workflows/index.js';

/** How often members' images no job needs are looked for and deleted. */
const INPUT_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** The shared services, before and after `resume()`. */
export interface Engine {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly workflows: LoadedWorkflows;
  readonly runner: JobRunner;
  readonly sessions: Sessions;
  /** Where the process keeps its files (inputs, web outputs). */
  readonly dataDir: string;
  /** Where input images wait for their jobs. */
  readonly inputDir: string;
  /** The input images' folder: its cap, its sweeps, and the check that a new image fits. */
  readonly inputs: InputFiles;
  /**
   * This process's life in a fleet (its name and process lease), named by what it writes down to finish later, so a
   * live process takes that over once this life is over (process-lives.ts). Undefined on SQLite: the one process's
   * start finishes whatever the last run left.
   */
  readonly life: ProcessLife | undefined;
  /** Tells whether the life that wrote something is over. */
  readonly lives: ProcessLives;
  /** Starts running jobs and recovers those of the last run; call once, after every face has subscribed. */
  resume(): Promise<void>;
  /** Stops the runner (jobs in flight are persisted) and closes the store. */
  stop(): Promise<void>;
}

export interface EngineOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Default `data`. */
  readonly dataDir?: string;
  /** Creates each ComfyUI server's client; a `ComfyClient` by default (benchmarks inject a polling-only one). */
  readonly connect?: ConnectServer;
  /** The store lease that keeps a second process off this store; tests shorten its time to live. */
  readonly lease?: RunnerLeaseOptions;
  /** The fleet engine's tuning (Redis stores only); tests shorten its lock and lease times. */
  readonly fleet?: Partial<Pick<FleetEngineOptions, 'lockDurationMs' | 'stalledIntervalMs' | 'dispatcherLeaseMs'>>;
}

/** Opens the store, loads the workflows and builds the runner; nothing runs until `resume()`. */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { config, logger } = options;
  const dataDir = options.dataDir ?? 'data';
  const inputDir = path.join(dataDir, 'inputs');
  await mkdir(inputDir, { recursive: true });
  // Workflows first: a broken one stops the start before the store is opened and its lease taken.
  const workflows = await loadWorkflows(config.workflows.dir, logger.child({ module: 'workflows' }));
  const store = await openStore(config.storeUrl, logger.child({ module: 'store' }));
  // On Redis, any number of processes form one bot (the fleet engine); on SQLite the store is one process's.
  const fleet = store.kind === 'redis';
  let lease: RunnerLease;
  try {
    lease = await holdRunnerLease(store, logger.child({ module: 'store' }), {
      // Two runners holding one lease would both carry the same jobs: stopping at once, as after a crash, is safe.
      onLost: () => process.exit(1),
      ...(fleet ? { name: processLease(config.processName) } : {}),
      ...options.lease,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const engine: QueueEngine = fleet
    ? new FleetEngine({
        url: config.storeUrl,
        store,
        processName: config.processName,
        logger,
        ...options.fleet,
      })
    : new EmbeddedEngine(config.processName);
  const openJobs = new JobRepository(store);
  const inputs = new InputFiles({
    dir: inputDir,
    retentionMs: config.retention.inputsMs,
    maxBytes: config.retention.inputsBytes,
    logger: logger.child({ module: 'inputs' }),
    // Every process's open jobs (the store is the fleet's): an image another process's job needs is never deleted.
    inUse: async () => new Set((await openJobs.listOpen()).flatMap((job) => job.inputImage?.path ?? [])),
    // Processes on separate hosts share only the store: a fleet shares members' images through it.
    shared: store.blobs('inputs', { ttlMs: config.retention.inputsMs, maxBytes: config.limits.sharedFileBytes }),
  });
  const fault = faultPointFor(config.faultPoint);
  const runner = new JobRunner({
    store,
    servers: config.comfy.servers,
    workflows,
    defaultWorkflow: config.workflows.defaultWorkflow,
    promptsPerServer: config.comfy.promptsPerServer,
    limits: { jobsPerMember: config.limits.jobsPerMember, queueLength: config.limits.queueLength },
    stallTimeoutMs: config.comfy.stallTimeoutMs,
    maxOutputBytes: config.limits.outputBytes,
    deliveredRetentionMs: config.retention.jobsMs,
    outageTimeoutMs: config.comfy.outageTimeoutMs,
    resultsDir: path.join(dataDir, 'results'),
    readInput: async (image) => inputs.read(image),
    delivery: { fault },
    fault,
    connect: options.connect,
    engine,
    logger,
  });
  const sessions = openSessions(store, { retentionMs: config.retention.historyMs });
  return {
    config,
    logger,
    store,
    workflows,
    runner,
    sessions,
    dataDir,
    inputDir,
    inputs,
    life: fleet ? { process: config.processName, life: lease.holder.id } : undefined,
    lives: new ProcessLives(store.leases),
    resume: async () => {
      await runner.resume();
      inputs.start(INPUT_SWEEP_INTERVAL_MS);
    },
    stop: async () => {
      try {
        await inputs.stop();
        await runner.stop();
      } finally {
        await lease
          .release()
          .catch((error: unknown) => logger.warn({ err: error }, 'could not release the store lease'));
        await store.close();
      }
    },
  };
}
