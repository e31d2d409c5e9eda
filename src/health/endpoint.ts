/**
 * The HTTP endpoint of a running engine: `/healthz` with the store and ComfyUI checks (and whatever the faces add,
 * such as the Discord gateway), `/metrics`, and every other route handed to the web face when it is attached.
 */
import { RESTEvents, type REST } from 'discord.js';
import { z } from 'zod';
import type { Engine } from '../engine.js';
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
}

/** Starts the endpoint on HTTP_HOST:HTTP_PORT. */
export async function startEndpoint(engine: Engine, options: EndpointOptions = {}): Promise<HealthServer> {
  const { config, runner, store, logger } = engine;
  const metrics = createMetrics(() => runner.snapshot());
  runner.onEvent(metrics.onJobEvent);
  // Both managers: card edits go through the interaction-webhook one, and their errors count too.
  for (const rest of options.rests ?? []) {
    rest.on(RESTEvents.Response, (request, response) => metrics.onDiscordResponse(request.method, response.status));
  }
  const probe = store.collection('health', z.object({ at: z.number() }), { version: 1 });
  return startHealthServer({
    host: config.http.host,
    port: config.http.port ?? options.defaultPort ?? 0,
    metrics,
    logger: logger.child({ module: 'health' }),
    handle: options.handle,
    checks: {
      ...options.checks,
      store: async () => {
        await probe.set('probe', { at: Date.now() }, 60_000);
        return (await probe.get('probe'))
          ? { ok: true }
          : { ok: false, reason: 'the store did not return what was written' };
      },
      comfyui: async () => {
        const servers = runner.snapshot().servers;
        const down = servers.filter((server) => server.health !== 'up').map((server) => server.name);
        return down.length < servers.length
          ? { ok: true }
          : { ok: false, reason: `no ComfyUI server is up (${down.join(', ')})` };
      },
    },
  });
}
