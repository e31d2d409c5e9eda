/**
 * The Discord face of the engine: the discord.js client, the interaction router, the refine handler and the presenter
 * that turns job events into status cards. Attached to a started engine before it resumes; `connect()` logs in.
 */
import { Events, REST, Status, type Client } from 'discord.js';
import { COMMANDS } from '../commands/index.js';
import type { Config } from '../config.js';
import type { Engine } from '../engine.js';
import { readFleetRoster } from '../health/fleet-presence.js';
import type { HealthCheck } from '../health/server.js';
import type { Logger } from '../logger.js';
import { AcknowledgementQueue } from './acknowledgements.js';
import { componentHandlers } from './buttons.js';
import { CardUpdater } from './card-updater.js';
import { createDiscordClient, createInteractionRest, mayReadMessageContent } from './client.js';
import { faultPointFor } from '../fault-point.js';
import { DeliveryJournal } from './delivery-journal.js';
import { FinalPoster } from './final-post.js';
import { JobPresenter } from './job-presenter.js';
import { createRefineHandler } from './refine-handler.js';
import { RequestJournal } from './request-journal.js';
import { replayReceivedRequests } from './request-replay.js';
import { RetryPause } from '../store/retry-pause.js';
import { createLocalGlobalLimit, type GlobalLimit } from './global-limit.js';
import { openRedisGlobalLimit } from './redis-global-limit.js';
import { createDiscordTransport } from './rest-transport.js';
import { createInteractionRouter } from './router.js';
import type { BotServices } from './services.js';
import { catalogueOf } from '../workflows/model-catalogue.js';
import { SessionOpener } from './session-opener.js';

/** The Discord side of a running bot. */
export interface DiscordFace {
  readonly client: Client;
  readonly services: BotServices;
  /** Both REST managers (the bot's and the interaction webhooks'), for the metrics. */
  readonly rests: readonly REST[];
  /** The `/healthz` check: connected to the gateway. */
  readonly gatewayCheck: HealthCheck;
  /** Logs in; resolves once the gateway is ready. */
  connect(): Promise<void>;
  /** Closes the gateway, waits for the interactions and replies it brought to be answered, and closes REST. */
  close(): Promise<void>;
}

export interface DiscordFaceOptions {
  /** Minimum time between two edits of one status card (tests shorten it). */
  readonly cardIntervalMs?: number;
}

/** Builds the client and subscribes the presenter to the engine's jobs; nothing talks to Discord but REST yet. */
export async function attachDiscord(engine: Engine, options: DiscordFaceOptions = {}): Promise<DiscordFace> {
  const { config } = engine;
  const logger = engine.logger.child({ module: 'discord' });
  const messageContent = await checkMessageContent(config, logger);
  const fault = faultPointFor(config.faultPoint);
  const globalLimit = await openGlobalLimit(config, logger);
  const transport = createDiscordTransport({ fault, globalLimit });
  const client = createDiscordClient({
    apiUrl: config.discord.apiUrl,
    messageContent,
    makeRequest: transport.makeRequest,
    shards: config.discord.shards,
  });
  const interactionRest = createInteractionRest(config.discord.apiUrl, transport.makeRequest);
  const cards = new CardUpdater({
    rest: client.rest,
    interactionRest,
    logger,
    minIntervalMs: options.cardIntervalMs,
    fence: engine.runner.engine.positionFence,
  });
  const { workflows, runner: jobs, sessions, inputs } = engine;
  const fleet = { roster: async () => readFleetRoster(engine.store) };
  const models = catalogueOf(() => jobs.modelChoices());
  const requests = new RequestJournal(engine.store, engine.life);
  const services: BotServices = { config, workflows, models, jobs, fleet, sessions, cards, inputs, requests, fault };

  const sessionOpener = new SessionOpener(sessions);
  const journal = new DeliveryJournal(engine.store);
  const poster = new FinalPoster({ rest: client.rest, interactionRest, journal, logger, fault });
  // What a dead process received and had not yet queued, finished where the runner takes in its stray jobs.
  const replay = {
    services,
    rest: client.rest,
    interactionRest,
    poster,
    deliveries: journal,
    lives: engine.lives,
    retries: new RetryPause(),
    logger,
  };
  engine.runner.onReceivedPass((graceMs) => replayReceivedRequests(replay, graceMs));
  const ignorePrefix = config.refineIgnorePrefix;
  const presenter = new JobPresenter({ cards, poster, journal, sessions, sessionOpener, ignorePrefix, logger, fault });
  engine.runner.onEvent(presenter.listener);
  const acknowledgements = new AcknowledgementQueue();
  acknowledgements.watch(client.rest);
  const route = createInteractionRouter({
    commands: COMMANDS,
    components: componentHandlers,
    services,
    logger,
    acknowledgements,
  });
  // What the gateway brought and is still being answered: `close()` waits for it once the gateway is closed.
  const answering = new Set<Promise<void>>();
  const answer = (work: Promise<void>) => {
    const settled = work.catch((error: unknown) => logger.error({ err: error }, 'answering Discord failed'));
    answering.add(settled);
    void settled.finally(() => answering.delete(settled));
  };
  client.on(Events.InteractionCreate, (interaction) => answer(route(interaction)));
  const refine = createRefineHandler(services, logger);
  client.on(Events.MessageCreate, (message) => answer(refine(message)));
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  // Recovered results are delivered over REST, which needs only the token: set it before the engine resumes.
  client.rest.setToken(config.discord.token ?? '');

  return {
    client,
    services,
    rests: [client.rest, interactionRest],
    gatewayCheck: async () =>
      client.ws.status === Status.Ready ? { ok: true } : { ok: false, reason: 'not connected to the Discord gateway' },
    connect: async () => {
      await login(client, config.discord.token ?? '');
      logger.info(
        { user: client.user?.tag, shards: client.ws.shards.map((shard) => shard.id) },
        'connected to Discord',
      );
    },
    close: async () => {
      try {
        // The gateway first (nothing new arrives), then what it brought is answered (a fleet's process takes its
        // commands into the shared queue; embedded, they are refused). Answering needs REST with its token, which
        // `destroy()` took away with the gateway.
        await client.destroy();
        client.rest.setToken(config.discord.token ?? '');
        while (answering.size > 0) await Promise.allSettled([...answering]);
      } finally {
        await transport.close().finally(() => globalLimit.close());
      }
    },
  };
}

/**
 * Discord's global limit is per bot: a fleet on Redis shares one count there; a process on SQLite is the whole bot and
 * counts alone.
 */
async function openGlobalLimit(config: Config, logger: Logger): Promise<GlobalLimit> {
  if (!/^rediss?:\/\//.test(config.storeUrl)) return createLocalGlobalLimit();
  return openRedisGlobalLimit({ url: config.storeUrl, botId: config.discord.applicationId ?? 'bot', logger });
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
