/**
 * The web face on its own, without Discord (`npm run web`): the engine, the web face and the HTTP endpoint, no bot
 * token needed. The same engine `npm start` runs, so a team can move from one to the other on the same store.
 */
import type { Config } from '../config.js';
import { startEngine, type Engine } from '../engine.js';
import { startEndpoint } from '../health/endpoint.js';
import { joinFleetWith } from '../health/fleet.js';
import type { ConnectServer } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import { attachWeb } from './face.js';

/** The port `npm run web` listens on when HTTP_PORT is unset. */
export const DEFAULT_WEB_PORT = 8080;

/** A running web face. */
export interface WebApp {
  readonly engine: Engine;
  /** Where the page and `/v1` answer, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops taking jobs, persists, closes the endpoint and the store; the next start resumes. */
  stop(): Promise<void>;
}

export interface StartWebOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly dataDir?: string;
  readonly pageDir?: string;
  readonly connect?: ConnectServer;
  /** The pauses between webhook retries (tests shorten them). */
  readonly webhookBackoffMs?: readonly number[];
}

/** Starts the engine with the web face only. */
export async function startWeb(options: StartWebOptions): Promise<WebApp> {
  const engine = await startEngine(options);
  const web = await attachWeb(engine, { pageDir: options.pageDir, webhookBackoffMs: options.webhookBackoffMs });
  // It runs jobs like any bot process, so it stands on the fleet's roll call too, without shards.
  const fleet = await joinFleetWith(engine, { name: engine.config.processName });
  const endpoint = await startEndpoint(engine, { handle: web.handle, defaultPort: DEFAULT_WEB_PORT, fleet });
  web.listening(endpoint.url);
  await engine.resume();
  await web.resume();
  return {
    engine,
    url: endpoint.url,
    stop: async () => {
      options.logger.info('stopping: no new jobs; jobs in flight are persisted and resumed on the next start');
      try {
        await engine.runner.stop();
      } finally {
        await fleet.leave().catch((error: unknown) => options.logger.warn({ err: error }, 'could not leave the fleet'));
        // The last results' webhooks are written before the store closes.
        await web.close();
        try {
          await engine.stop();
        } finally {
          await endpoint.close();
        }
      }
    },
  };
}
