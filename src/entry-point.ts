/**
 * What `npm start` and `npm run web` share as processes: reading the configuration once, a logger that redacts every
 * secret the configuration holds, and a start that exits with one sentence on failure and stops cleanly on
 * SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig, readEnvironment, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** Something started that can be stopped. */
interface Stoppable {
  stop(): Promise<void>;
}

/** How one entry point starts its part of comfycord. */
export interface EntryPoint<Started extends Stoppable> {
  /** Names the process in its messages: "comfycord", "comfycord web". */
  readonly name: string;
  readonly requireDiscord: boolean;
  start(config: Config, logger: Logger): Promise<Started>;
  /** Called once started, e.g. to say where to look. */
  ready?(started: Started, logger: Logger): void;
}

/** Runs an entry point until a signal stops it; a bad configuration or a failed start exits 1 with one sentence. */
export async function runEntryPoint<Started extends Stoppable>(entry: EntryPoint<Started>): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment(), { requireDiscord: entry.requireDiscord });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ ...config.log, secrets: secretsOf(config), processName: config.processName });
  // A stray rejection must leave a log line, not kill the process silently.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  let started: Started;
  try {
    started = await entry.start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${entry.name} could not start`);
    console.error(`${entry.name} could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  entry.ready?.(started, logger);
  stopOnSignals(started, logger);
  // From here a SIGTERM drains: before, it ended the process at once (a supervisor, or a test, may wait for this line).
  logger.info('running; SIGTERM or SIGINT stops it cleanly');
}

/** The bot token, the webhook secret and the API keys: never written to a log. */
function secretsOf(config: Config): string[] {
  const secrets = [config.discord.token, config.web.webhookSecret, ...config.web.apiKeys.map((key) => key.key)];
  return secrets.filter((secret): secret is string => Boolean(secret));
}

function stopOnSignals(started: Stoppable, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
