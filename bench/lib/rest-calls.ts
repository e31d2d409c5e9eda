/**
 * The REST calls a bot made, split the way Discord's limits see them: interaction callbacks and interaction-webhook
 * calls (`/webhooks/{application}/{interaction token}/…`) are not bound to the global limit of 50 requests per second;
 * every other call made with the bot token is.
 */
import type { RecordedCall } from '../../test/fakes/discord/index.js';

/** Calls per kind. */
export interface RestCallCounts {
  readonly callbacks: number;
  readonly interactionWebhooks: number;
  /** Calls that count against the global limit (threads, channel messages...). */
  readonly global: number;
  /** Global calls by route, e.g. `POST /channels/:channelId/messages`. */
  readonly globalByRoute: Record<string, number>;
}

/** Counts `calls` by kind. */
export function countRestCalls(calls: readonly RecordedCall[]): RestCallCounts {
  let callbacks = 0;
  let interactionWebhooks = 0;
  const globalByRoute: Record<string, number> = {};
  for (const call of calls) {
    const route = call.route ?? call.path;
    if (route.startsWith('/interactions/')) callbacks += 1;
    else if (route.startsWith('/webhooks/')) interactionWebhooks += 1;
    else globalByRoute[`${call.method} ${route}`] = (globalByRoute[`${call.method} ${route}`] ?? 0) + 1;
  }
  const global = Object.values(globalByRoute).reduce((total, count) => total + count, 0);
  return { callbacks, interactionWebhooks, global, globalByRoute };
}

/** Each count divided by `jobs`. */
export function perJob(counts: RestCallCounts, jobs: number): RestCallCounts {
  const globalByRoute = Object.fromEntries(
    Object.entries(counts.globalByRoute).map(([route, count]) => [route, count / jobs]),
  );
  return {
    callbacks: counts.callbacks / jobs,
    interactionWebhooks: counts.interactionWebhooks / jobs,
    global: counts.global / jobs,
    globalByRoute,
  };
}
