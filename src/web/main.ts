/**
 * `npm run web`: the web API and page without Discord. Reads the same configuration as `npm start` (no Discord
 * variables needed) and stops cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig, readEnvironment } from '../config.js';
import { createLogger } from '../logger.js';
import { startWeb } from './start.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  const secrets = [config.web.webhookSecret ?? '', ...config.web.apiKeys.map((key) => key.key)];
  const logger = createLogger({ ...config.log, secrets: secrets.filter(Boolean) });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  let app;
  try {
    app = await startWeb({ config, logger });
  } catch (error) {
    logger.fatal({ err: error }, 'comfycord web could not start');
    console.error(`comfycord web could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  logger.info({ url: app.url }, 'comfycord web is ready');
  console.log(`comfycord web: open ${app.url}/`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
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
