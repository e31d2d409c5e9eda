/**
 * The HTTP endpoint of a running engine: `/healthz` with the store and ComfyUI checks (and whatever the faces add,
 * such as the Discord gateway) and the fleet's roll call, `/metrics`, and every other route handed to the web face
 * when it is attached.
 */
import { RESTEvents, type REST } from 'discord.js';
import type { Engine } from '../engine.js';
import type { RunnerSnapshot } from '../jobs/snapshot.js';
import { engineChecks } from './checks.js';
import type { FleetPresence } from './fleet-presence.js';
import { reportFleet } from './fleet-view.js';
import { createMetrics } from './metrics.js';
import { startHealthServer, type HealthCheck, type HealthServer, type HttpHandler } from './server.js';

export interface EndpointOptions {
  /** Checks of the faces, listed before the engine's own (e.g. `gateway`). */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
  /** Discord REST managers whose error answers are counted. */
  readonly rests?: readonly REST[];
  /** The web face's routes. */
  readonly handle?: HttpHandler;
  /** The port when HTTP_PORT is unset (`npm run web` has one by default); 0, a free port, otherwise. */
  readonly defaultPort?: number;
  /** This process's place in the fleet: `/healthz` and `/metrics` describe every process on its roll call. */
  readonly fleet?: FleetPresence;
}

/**
 * Counts each process's running jobs in a snapshot of the shared queue, by the name of the process carrying them; a
 * job no process has claimed yet is this one's (the embedded engine carries every job itself).
 */
function carriedBy(snapshot: RunnerSnapshot, self: string): (processName: string) => number {
  return (processName) => snapshot.active.filter((job) => (job.process ?? self) === processName).length;
}

/** Starts the endpoint on HTTP_HOST:HTTP_PORT. */
export async function startEndpoint(engine: Engine, options: EndpointOptions = {}): Promise<HealthServer> {
  const { config, runner, store, logger } = engine;
  const { fleet } = options;
  const metrics = createMetrics(() => runner.snapshot(), fleet);
  runner.onEvent(metrics.onJobEvent);
  // Both managers: card edits go through the interaction-webhook one, and their errors count too.
  for (const rest of options.rests ?? []) {
    rest.on(RESTEvents.Response, (request, response) => metrics.onDiscordResponse(request.method, response.status));
  }
  return startHealthServer({
    host: config.http.host,
    port: config.http.port ?? options.defaultPort ?? 0,
    metrics,
    logger: logger.child({ module: 'health' }),
    handle: options.handle,
    checks: { ...options.checks, ...engineChecks(store, runner) },
    describe: fleet
      ? async () => ({
          process: fleet.name,
          // The store check says why when the roll call cannot be read; the rest of the answer still comes.
          fleet: await fleet.roster().then(
            (roster) => reportFleet(roster, Date.now(), carriedBy(runner.snapshot(), fleet.name)),
            () => ({ status: 'unknown', problems: ['the fleet roll call could not be read from the store'] }),
          ),
        })
      : undefined,
  });
}
