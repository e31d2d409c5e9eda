/**
 * `npm start`: reads the configuration, starts comfycord, and stops it cleanly on SIGINT/SIGTERM (jobs in flight are
 * persisted and picked up by the next start).
 */
import { startComfycord } from './app.js';
import { runEntryPoint } from './entry-point.js';

await runEntryPoint({
  name: 'comfycord',
  requireDiscord: true,
  start: (config, logger) => startComfycord({ config, logger }),
});
