/**
 * A stand-in for a ComfyUI 0.3.64 server (or, with `version: 'current'`, for current ComfyUI): the real HTTP and
 * WebSocket protocol on 127.0.0.1, real PNG/WebP files, validation, caching, progress and previews, plus faults for
 * tests. `npm run comfy:emulator` runs it on its own.
 */
export type { Emulator, EmulatorFaults, EmulatorOptions } from './api.js';
export { COMFY_VERSIONS, type ComfyVersion } from './versions/version.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { silentLogger } from '../logger.js';
import type { Emulator, EmulatorOptions } from './api.js';
import { cleanTemp, createEnvironment } from './environment.js';
import { PromptExecutor } from './exec/prompt-executor.js';
import { QueueWorker } from './exec/queue-worker.js';
import { PromptQueue } from './queue/prompt-queue.js';
import type { ReceivedPrompt } from './routes/context.js';
import { addInfoRoutes } from './routes/info-routes.js';
import { addJobsRoutes } from './routes/jobs-routes.js';
import { addPromptRoutes } from './routes/prompt-routes.js';
import { addQueueRoutes } from './routes/queue-routes.js';
import { addUploadRoute } from './routes/upload-route.js';
import { addViewRoute } from './routes/view-route.js';
import { Router } from './server/http-kit.js';
import { Listener } from './server/listener.js';
import { WebSocketHub } from './ws/hub.js';
import { createFaults, type RuntimeKnobs } from './faults.js';
import type { NodeEnvironment } from './nodes/types.js';
import type { ComfyVersion } from './versions/version.js';

/** Default model lists. */
export const DEFAULT_CHECKPOINTS = [
  'v1-5-pruned-emaonly.ckpt',
  'v1-5-pruned-emaonly.safetensors',
  'sd_xl_base_1.0.safetensors',
];

/** The parts of a running emulator. */
interface Core {
  readonly queue: PromptQueue;
  readonly hub: WebSocketHub;
  readonly executor: PromptExecutor;
  readonly worker: QueueWorker;
  readonly received: ReceivedPrompt[];
}

/** Starts an emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = path.resolve(options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'comfy-emulator-')));
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const environment = createEnvironment(
    dataDir,
    options.outputDir,
    {
      checkpoints: options.checkpoints ?? DEFAULT_CHECKPOINTS,
      loras: options.loras ?? ['detail.safetensors'],
      upscaleModels: options.upscaleModels ?? ['RealESRGAN_x4plus.pth'],
    },
    options.catalogue,
  );
  cleanTemp(environment);
  const knobs: RuntimeKnobs = {
    stepMs: options.stepMs ?? 20,
    viewDelayMs: 0,
    failures: [],
    counter: 0,
    systemStatsFails: false,
  };
  const version = options.version ?? '0.3.64';
  const core = createCore(environment, options.previews ?? false, version, knobs, logger);
  const address = { port: 0 };
  const router = createRouter(core, environment, version, knobs, () => [
    'main.py',
    '--listen',
    host,
    '--port',
    String(address.port),
  ]);
  const listener = new Listener(router, core.hub, host, logger);
  try {
    address.port = await listener.listen(options.port ?? 0);
  } catch (error) {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  core.worker.start();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url, dataDir, version }, 'ComfyUI emulator listening');
  return {
    url,
    port: address.port,
    dataDir,
    version,
    faults: createFaults(knobs, core.hub, listener, logger),
    received: core.received,
    requests: listener.requests,
    restart: async () => {
      core.worker.abandonCurrent();
      core.queue.reset();
      knobs.counter = 0;
      // WebSockets are dropped like a real restart would; HTTP keep-alive connections are left alone so in-process
      // callers are not hit by a race on a pooled socket (refuseConnections simulates a server that is down).
      core.hub.dropAll();
      cleanTemp(environment);
      logger.info('ComfyUI emulator restarted');
    },
    close: async () => {
      await core.worker.stop();
      await listener.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function createCore(
  environment: NodeEnvironment,
  previews: boolean,
  version: ComfyVersion,
  knobs: RuntimeKnobs,
  logger: Logger,
): Core {
  // The hub reports the running client's node on reconnect; the executor that knows it is created after the hub.
  const running: { executor?: PromptExecutor } = {};
  const queue: PromptQueue = new PromptQueue(() => {
    hub.send('status', { status: { exec_info: { queue_remaining: queue.remaining() } } }, null);
  });
  const hub = new WebSocketHub(
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
    previews,
    version,
    stepMs: () => knobs.stepMs,
    failures: () => knobs.failures,
  });
  running.executor = executor;
  return { queue, hub, executor, worker: new QueueWorker(queue, executor, hub, logger), received: [] };
}

function createRouter(
  core: Core,
  environment: NodeEnvironment,
  version: ComfyVersion,
  knobs: RuntimeKnobs,
  argv: () => string[],
): Router {
  const context = {
    version,
    queue: core.queue,
    executor: core.executor,
    environment,
    received: core.received,
    nextNumber: () => knobs.counter++,
    viewDelayMs: () => knobs.viewDelayMs,
    systemStatsFails: () => knobs.systemStatsFails,
  };
  const router = new Router();
  addPromptRoutes(router, context);
  addQueueRoutes(router, context);
  addViewRoute(router, context);
  addUploadRoute(router, context);
  addInfoRoutes(router, context, argv);
  // 0.3.64 has no jobs API: /api/jobs answers aiohttp's 404 there, as recorded.
  if (version === 'current') addJobsRoutes(router, context);
  return router;
}
