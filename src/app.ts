/**
 * The composition root as a function: the engine (store, workflows, job runner) is started once, the Discord face is
 * attached to it, and when HTTP_PORT is set the HTTP endpoint with health, metrics and the web face (`/v1`, the page). `src/index.ts` calls it for
 * `npm start`; the end-to-end tests and `npm run demo` call it too, pointed at the ComfyUI emulator and the fake
 * Discord, so they run exactly what production runs.
 */
import type { Client } from 'discord.js';
import type { Config } from './config.js';
import { attachDiscord, type DiscordFace } from './discord/face.js';
import type { BotServices } from './discord/services.js';
import { startEngine, type Engine } from './engine.js';
import { startEndpoint } from './health/endpoint.js';
import { joinFleetWith } from './health/fleet.js';
import type { FleetPresence } from './health/fleet-presence.js';
import type { ConnectServer } from './jobs/index.js';
import type { JobRunner } from './jobs/runner.js';
import type { Logger } from './logger.js';
import { attachWeb } from './web/face.js';

/** A running bot. */
export interface Comfycord {
  readonly client: Client;
  readonly runner: JobRunner;
  readonly services: BotServices;
  /** The health and metrics endpoint, when HTTP_PORT is set. */
  readonly healthUrl: string | undefined;
  /**
   * Stops carrying jobs (in a fleet, still taking commands until the gateway closes), persists, closes sockets and the
   * store; the next start resumes.
   */
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
  const { logger } = options;
  const engine = await startEngine(options);
  // A start that fails halfway gives the store (and its lease) back, so the next start need not wait.
  const started = await attachFaces(engine, options).catch(async (error: unknown) => {
    await engine.stop().catch(() => undefined);
    throw error;
  });
  const { discord, web, health, fleet } = started;

  return {
    client: discord.client,
    runner: engine.runner,
    services: discord.services,
    healthUrl: health?.url,
    stop: async () => {
      logger.info(
        engine.runner.engine.kind === 'fleet'
          ? 'stopping: the jobs this process carries go on in the others; commands are taken into the queue until the gateway closes'
          : 'stopping: no new jobs; jobs in flight are persisted and resumed on the next start',
      );
      // In this order: stop carrying jobs and hand them back; meanwhile, in a fleet, members' commands still reaching
      // this process (its gateway is connected) are taken into the shared queue for the others to carry; then the
      // gateway closes, the commands it brought are answered, and only then the store closes under them.
      try {
        await engine.runner.drain();
      } finally {
        // Whatever the runner did, the gateway, the store and the endpoint are closed: a half-stopped bot must not
        // linger.
        try {
          await discord.close();
        } finally {
          await fleet
            .leave()
            .catch((error: unknown) => logger.warn({ err: error }, 'could not leave the fleet roll call'));
          try {
            await web?.close();
            await engine.stop();
          } finally {
            await health?.close();
          }
        }
      }
    },
  };
}

/** The Discord face, this process on the fleet's roll call, the web face and the endpoint; then resumes and logs in. */
async function attachFaces(engine: Engine, options: StartOptions) {
  const discord = await attachDiscord(engine, { cardIntervalMs: options.cardIntervalMs });
  const { shards, shardCount } = discord.client.options;
  const fleet = await joinFleetWith(engine, {
    checks: { gateway: discord.gatewayCheck },
    shards: Array.isArray(shards) ? { ids: [...shards], count: shardCount ?? 1 } : null,
    name: engine.config.processName,
  });
  // A start that fails from here on takes this process off the roll call again.
  const faces = await attachWebAndConnect(engine, options, discord, fleet).catch(async (error: unknown) => {
    await fleet.leave().catch(() => undefined);
    throw error;
  });
  return { discord, fleet, ...faces };
}

/** The web face with health and metrics when HTTP_PORT is set; then resumes and logs in. */
async function attachWebAndConnect(engine: Engine, options: StartOptions, discord: DiscordFace, fleet: FleetPresence) {
  const { config } = options;
  // The web face (the /v1 API and the page) lives on the same endpoint as health and metrics. Without HTTP_PORT it
  // serves nothing, but still keeps the results of the web jobs this process carries (in a fleet, any process may).
  const web = await attachWeb(engine, { serving: config.http.port !== undefined });
  const health =
    config.http.port === undefined
      ? undefined
      : await startEndpoint(engine, {
          checks: { gateway: discord.gatewayCheck },
          rests: discord.rests,
          handle: web.handle,
          fleet,
        });
  if (health) web.listening(health.url);

  // Resume before logging in: recovered results are delivered over REST (which needs only the token), and no
  // interaction can arrive while the runner still refuses new jobs.
  await engine.resume();
  await web.resume();
  await discord.connect();
  // The roll call hears of the gateway at once rather than at the next heartbeat.
  await fleet.beat();

  return { web, health };
}
