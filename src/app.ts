/**
 * The composition root as a function: config -> stores -> workflows -> job runner -> Discord client, each service
 * handed to the ones that need it. `src/index.ts` calls it for `npm start`; the end-to-end tests and `npm run demo`
 * call it too, pointed at the ComfyUI emulator and the fake Discord, so they run exactly what production runs.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Events, REST, RESTEvents, Status, type Client } from 'discord.js';
import { z } from 'zod';
import { COMMANDS } from './commands/index.js';
import type { Config } from './config.js';
import { componentHandlers } from './discord/buttons.js';
import { CardUpdater } from './discord/card-updater.js';
import { createDiscordClient, createInteractionRest, mayReadMessageContent } from './discord/client.js';
import { createDiscordTransport } from './discord/rest-transport.js';
import { AcknowledgementQueue } from './discord/acknowledgements.js';
import { JobPresenter } from './discord/job-presenter.js';
import { createRefineHandler } from './discord/refine-handler.js';
import { createInteractionRouter } from './discord/router.js';
import type { BotServices } from './discord/services.js';
import { SessionOpener } from './discord/session-opener.js';
import { createMetrics } from './health/metrics.js';
import { startHealthServer } from './health/server.js';
import type { ConnectServer } from './jobs/index.js';
import { JobRunner } from './jobs/runner.js';
import type { Logger } from './logger.js';
import { openSessions } from './sessions/index.js';
import { openStore, type Store } from './store/index.js';
import { loadWorkflows } from './workflows/index.js';

/** A running bot. */
export interface Comfycord {
  readonly client: Client;
  readonly runner: JobRunner;
  readonly services: BotServices;
  /** The health and metrics endpoint, when HTTP_PORT is set. */
  readonly healthUrl: string | undefined;
  /** Stops taking jobs, persists, closes sockets and the store; the next start resumes. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Where attached images wait for their jobs; default `data/inputs` beside the SQLite file, or `data/inputs`. */
  readonly dataDir?: string;
  /** Minimum time between two edits of one status card (tests shorten it). */
  readonly cardIntervalMs?: number;
  /** Creates each ComfyUI server's client; a `ComfyClient` by default (benchmarks inject a polling-only one). */
  readonly connect?: ConnectServer;
}

/** Starts comfycord: everything is connected when the promise resolves. */
export async function startComfycord(options: StartOptions): Promise<Comfycord> {
  const { config, logger } = options;
  const dataDir = options.dataDir ?? 'data';
  const inputDir = path.join(dataDir, 'inputs');
  await mkdir(inputDir, { recursive: true });

  const store = await openStore(config.storeUrl, logger.child({ module: 'store' }));
  const workflows = await loadWorkflows(config.workflows.dir, logger.child({ module: 'workflows' }));
  const runner = new JobRunner({
    store,
    servers: config.comfy.servers,
    workflows,
    defaultWorkflow: config.workflows.defaultWorkflow,
    promptsPerServer: config.comfy.promptsPerServer,
    limits: { jobsPerMember: config.limits.jobsPerMember, queueLength: config.limits.queueLength },
    stallTimeoutMs: config.comfy.stallTimeoutMs,
    outageTimeoutMs: config.comfy.outageTimeoutMs,
    connect: options.connect,
    logger,
  });
  const sessions = openSessions(store);
  const discordLogger = logger.child({ module: 'discord' });
  const messageContent = await checkMessageContent(config, discordLogger);
  const transport = createDiscordTransport();
  const client = createDiscordClient({
    apiUrl: config.discord.apiUrl,
    messageContent,
    makeRequest: transport.makeRequest,
  });
  const interactionRest = createInteractionRest(config.discord.apiUrl, transport.makeRequest);
  const cards = new CardUpdater({
    rest: client.rest,
    interactionRest,
    logger: discordLogger,
    minIntervalMs: options.cardIntervalMs,
  });
  const services: BotServices = { config, workflows, jobs: runner, sessions, cards, inputDir };

  const sessionOpener = new SessionOpener(client.rest, sessions, discordLogger, config.refineIgnorePrefix);
  const presenter = new JobPresenter({ cards, sessions, sessionOpener, logger: discordLogger });
  runner.onEvent(presenter.listener);
  const acknowledgements = new AcknowledgementQueue();
  acknowledgements.watch(client.rest);
  const route = createInteractionRouter({
    commands: COMMANDS,
    components: componentHandlers,
    services,
    logger: discordLogger,
    acknowledgements,
  });
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  const refine = createRefineHandler(services, discordLogger);
  client.on(Events.MessageCreate, (message) => void refine(message));
  client.on(Events.Error, (error) => discordLogger.error({ err: error }, 'discord client error'));

  const health =
    config.http.port === undefined
      ? undefined
      : await startHealth(config, client, [client.rest, interactionRest], runner, store, logger);

  // Resume before logging in: recovered results are delivered over REST (which needs only the token), and no
  // interaction can arrive while the runner still refuses new jobs.
  client.rest.setToken(config.discord.token ?? '');
  await runner.resume();
  await login(client, config.discord.token ?? '');
  discordLogger.info({ user: client.user?.tag }, 'connected to Discord');

  return {
    client,
    runner,
    services,
    healthUrl: health?.url,
    stop: async () => {
      try {
        await stopAll(client, runner, store, logger);
      } finally {
        await transport.close();
        await health?.close();
      }
    },
  };
}

async function startHealth(
  config: Config,
  client: Client,
  rests: readonly REST[],
  runner: JobRunner,
  store: Store,
  logger: Logger,
) {
  const metrics = createMetrics(() => runner.snapshot());
  runner.onEvent(metrics.onJobEvent);
  // Both managers: card edits go through the interaction-webhook one, and their errors count too.
  for (const rest of rests) {
    rest.on(RESTEvents.Response, (request, response) => metrics.onDiscordResponse(request.method, response.status));
  }
  const probe = store.collection('health', z.object({ at: z.number() }), { version: 1 });
  return startHealthServer({
    host: config.http.host,
    port: config.http.port ?? 0,
    metrics,
    logger: logger.child({ module: 'health' }),
    checks: {
      gateway: async () =>
        client.ws.status === Status.Ready
          ? { ok: true }
          : { ok: false, reason: 'not connected to the Discord gateway' },
      store: async () => {
        await probe.set('probe', { at: Date.now() }, 60_000);
        return (await probe.get('probe'))
          ? { ok: true }
          : { ok: false, reason: 'the store did not return what was written' };
      },
      comfyui: async () => {
        const servers = runner.snapshot().servers;
        const down = servers.filter((server) => server.health !== 'up').map((server) => server.name);
        return down.length < servers.length
          ? { ok: true }
          : { ok: false, reason: `no ComfyUI server is up (${down.join(', ')})` };
      },
    },
  });
}

/** Whether to ask for the Message Content intent: only when the application has it, else Discord refuses (4014). */
async function checkMessageContent(config: Config, logger: Logger): Promise<boolean> {
  const rest = new REST({ api: config.discord.apiUrl }).setToken(config.discord.token ?? '');
  try {
    const allowed = await mayReadMessageContent(rest);
    if (!allowed) {
      logger.warn(
        'the Message Content intent is off for this application (Developer Portal → Bot): plain replies in session ' +
          'threads are not read; replies that mention the bot still refine',
      );
    }
    return allowed;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

async function login(client: Client, token: string): Promise<void> {
  // Listen before logging in: clientReady can fire before login() resolves.
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(token);
  await ready;
}

async function stopAll(client: Client, runner: JobRunner, store: Store, logger: Logger): Promise<void> {
  logger.info('stopping: no new jobs; jobs in flight are persisted and resumed on the next start');
  try {
    await runner.stop();
  } finally {
    // Whatever the runner did, the gateway and the store are closed: a half-stopped bot must not linger.
    await client.destroy();
    await store.close();
  }
}
