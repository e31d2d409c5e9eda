/**
 * A stand-in for a ComfyUI 0.3.64 server: the real HTTP and WebSocket protocol on 127.0.0.1, real PNG/WebP files,
 * validation, caching, progress and previews, plus faults for tests. `npm run comfy:emulator` runs it on its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { silentLogger } from '../logger.js';
import { cleanTemp, createEnvironment } from './environment.js';
import type { InjectedFailure } from './exec/node-runner.js';
import { PromptExecutor } from './exec/prompt-executor.js';
import { QueueWorker } from './exec/queue-worker.js';
import { PromptQueue } from './queue/prompt-queue.js';
import type { ReceivedPrompt, RouteContext } from './routes/context.js';
import { addInfoRoutes } from './routes/info-routes.js';
import { addPromptRoutes } from './routes/prompt-routes.js';
import { addQueueRoutes } from './routes/queue-routes.js';
import { addUploadRoute } from './routes/upload-route.js';
import { addViewRoute } from './routes/view-route.js';
import { Router } from './server/http-kit.js';
import { Listener } from './server/listener.js';
import { WebSocketHub } from './ws/hub.js';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** 0 = any free port (the default in-process; main.ts uses 8188). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Where input/, output/, temp/ live; default a fresh temp dir (removed again by close()). */
  dataDir?: string;
  /** Where output/ lives if not under dataDir (the CLI's --output-dir). */
  outputDir?: string;
  /** Time per sampler step, default 20; 0 allowed (zero render time, for benchmarks). */
  stepMs?: number;
  /** Send sampler preview frames (like --preview-method auto); default false. */
  previews?: boolean;
  /** Combo list for ckpt_name. */
  checkpoints?: string[];
  upscaleModels?: string[];
  loras?: string[];
  logger?: Logger;
}

/** A running emulator. */
export interface Emulator {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly faults: EmulatorFaults;
  /** Every graph accepted by POST /prompt, in order, with its prompt id and client id. */
  readonly received: ReadonlyArray<{ promptId: string; clientId: string | undefined; prompt: Record<string, unknown> }>;
  /** Forgets queue, history and cache, drops sockets, keeps serving on the same port. */
  restart(): Promise<void>;
  /** Stops everything; resolves when the port is free. */
  close(): Promise<void>;
}

/** Knobs for making the emulator misbehave. */
export interface EmulatorFaults {
  /** Time per sampler step, settable at runtime. */
  stepMs: number;
  failNode(match: { nodeId?: string; classType?: string }, exceptionMessage: string, exceptionType?: string): void;
  clearFailures(): void;
  /** Closes every socket abruptly (clients must reconnect). */
  dropWebSockets(): void;
  /** Stops listening / listens again on the same port. */
  refuseConnections(on: boolean): void;
  /** Delay before /view answers. */
  viewDelayMs: number;
}

/** Default model lists. */
export const DEFAULT_CHECKPOINTS = [
  'v1-5-pruned-emaonly.ckpt',
  'v1-5-pruned-emaonly.safetensors',
  'sd_xl_base_1.0.safetensors',
];

/** Starts an emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = path.resolve(options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'comfy-emulator-')));
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const environment = createEnvironment(dataDir, options.outputDir, {
    checkpoints: options.checkpoints ?? DEFAULT_CHECKPOINTS,
    loras: options.loras ?? ['detail.safetensors'],
    upscaleModels: options.upscaleModels ?? ['RealESRGAN_x4plus.pth'],
  });
  cleanTemp(environment);
  const failures: InjectedFailure[] = [];
  const received: ReceivedPrompt[] = [];
  let counter = 0;
  const state = { stepMs: options.stepMs ?? 20, viewDelayMs: 0 };
  // The hub reports the running client's node on reconnect; the executor that knows it is created after the hub.
  const running: { executor?: PromptExecutor } = {};
  const queue = new PromptQueue(() =>
    hub.send('status', { status: { exec_info: { queue_remaining: queue.remaining() } } }, null),
  );
  const hub: WebSocketHub = new WebSocketHub(
    {
      queueRemaining: () => queue.remaining(),
      get runningClientId() {
        return running.executor?.runningClientId ?? null;
      },
      get lastNodeId() {
        return running.executor?.lastNodeId ?? null;
      },
    },
    logger,
  );
  const executor = new PromptExecutor({
    hub,
    environment,
    previews: options.previews ?? false,
    stepMs: () => state.stepMs,
    failures: () => failures,
  });
  running.executor = executor;
  const worker = new QueueWorker(queue, executor, hub, logger);
  const context: RouteContext = {
    queue,
    executor,
    environment,
    received,
    logger,
    nextNumber: () => counter++,
    viewDelayMs: () => state.viewDelayMs,
  };
  const router = new Router();
  addPromptRoutes(router, context);
  addQueueRoutes(router, context);
  addViewRoute(router, context);
  addUploadRoute(router, context);
  const listener = new Listener(router, hub, host, logger);
  let port = 0;
  addInfoRoutes(router, context, () => ['main.py', '--listen', host, '--port', String(port)]);
  port = await listener.listen(options.port ?? 0);
  worker.start();
  logger.info({ url: `http://${host}:${port}`, dataDir }, 'ComfyUI emulator listening');

  const faults: EmulatorFaults = {
    get stepMs() {
      return state.stepMs;
    },
    set stepMs(value: number) {
      state.stepMs = value;
    },
    get viewDelayMs() {
      return state.viewDelayMs;
    },
    set viewDelayMs(value: number) {
      state.viewDelayMs = value;
    },
    failNode: (match, exceptionMessage, exceptionType = 'Exception') => {
      failures.push({ nodeId: match.nodeId, classType: match.classType, message: exceptionMessage, exceptionType });
    },
    clearFailures: () => {
      failures.length = 0;
    },
    dropWebSockets: () => hub.dropAll(),
    refuseConnections: (on) => {
      listener.refuse(on).catch((error: unknown) => logger.error({ err: error }, 'emulator could not listen again'));
    },
  };

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    dataDir,
    faults,
    received,
    restart: async () => {
      worker.abandonCurrent();
      queue.reset();
      counter = 0;
      // WebSockets are dropped like a real restart would; HTTP keep-alive connections are left alone so in-process
      // callers are not hit by a race on a pooled socket (refuseConnections simulates a server that is down).
      hub.dropAll();
      cleanTemp(environment);
      logger.info('ComfyUI emulator restarted');
    },
    close: async () => {
      await worker.stop();
      hub.dropAll();
      await listener.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
