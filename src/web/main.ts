/**
 * `npm run web`: the web API and page without Discord. Reads the same configuration as `npm start` (no Discord
 * variables needed) and stops cleanly on SIGINT/SIGTERM.
 */
import { runEntryPoint } from '../entry-point.js';
import { startWeb } from './start.js';

await runEntryPoint({
  name: 'comfycord web',
  requireDiscord: false,
  start: (config, logger) => startWeb({ config, logger }),
  ready: (app, logger) => {
    logger.info({ url: app.url }, 'comfycord web is ready');
    console.log(`comfycord web: open ${app.url}/`);
  },
});
