/**
 * `npm start`: reads the configuration, starts comfycord, and stops it cleanly on SIGINT/SIGTERM (jobs in flight are
 * persisted and picked up by the next start).
 */
import { startComfycord } from './app.js';
import { ConfigError, loadConfig, readEnvironment } from './config.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment(), { requireDiscord: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  const secrets = [
    config.discord.token ?? '',
    config.web.webhookSecret ?? '',
    ...config.web.apiKeys.map((key) => key.key),
  ];
  const logger = createLogger({ ...config.log, secrets: secrets.filter(Boolean) });
  // A stray rejection must leave a log line, not kill the bot silently.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  let bot;
  try {
    bot = await startComfycord({ config, logger });
  } catch (error) {
    logger.fatal({ err: error }, 'comfycord could not start');
    console.error(`comfycord could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    bot.stop().then(
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

await main();
