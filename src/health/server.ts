/**
 * The operators' HTTP endpoint: `/healthz` (200 when the gateway is connected, the store answers and at least one
 * ComfyUI server is up; 503 with the reasons otherwise; the status is this process's, the body also describes the
 * fleet) and `/metrics` for Prometheus. Off unless HTTP_PORT is set;
 * binds to HTTP_HOST (127.0.0.1 by default), since metrics name members by id. Every other request goes to `handle`
 * (the web face's `/v1` API and page) when one is given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { runChecks, type HealthCheck } from './checks.js';
import type { Metrics } from './metrics.js';

export type { HealthCheck } from './checks.js';

/** Answers a request the endpoint does not serve itself; resolves false when it does not serve it either. */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly checks: Readonly<Record<string, HealthCheck>>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly handle?: HttpHandler;
  /** More of `/healthz`'s body (the fleet), beside `status` and `checks`. */
  readonly describe?: () => Promise<Record<string, unknown>>;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the endpoint; resolves once it listens. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const route = (request.url ?? '/').split('?')[0];
    if (options.handle && route !== '/healthz' && route !== '/metrics') return void serveOther(request, response);
    const answer =
      request.method !== 'GET'
        ? Promise.resolve({ status: 405, type: 'text/plain', body: 'Method Not Allowed\n' })
        : route === '/healthz'
          ? health(options.checks, options.describe)
          : route === '/metrics'
            ? options.metrics.registry
                .metrics()
                .then((body) => ({ status: 200, type: options.metrics.registry.contentType, body }))
            : Promise.resolve({ status: 404, type: 'text/plain', body: 'Not Found\n' });
    answer
      .then(({ status, type, body }) => {
        response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
      })
      .catch((error: unknown) => {
        options.logger.error({ err: error, route }, 'health endpoint failed');
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal Server Error\n');
      });
  });
  const serveOther = async (request: IncomingMessage, response: ServerResponse) => {
    try {
      if (await options.handle!(request, response)) return;
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
    } catch (error) {
      options.logger.error({ err: error, url: request.url }, 'http handler failed');
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end();
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.logger.info({ url: `http://${host}:${port}` }, 'health and metrics endpoint listening');
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function health(
  checks: Readonly<Record<string, HealthCheck>>,
  describe: (() => Promise<Record<string, unknown>>) | undefined,
) {
  const [results, more] = await Promise.all([runChecks(checks), describe?.()]);
  // The status is this process's own: an orchestrator restarting a process must not restart all for one shard.
  const healthy = Object.values(results).every((state) => state === 'ok');
  const body = JSON.stringify({ status: healthy ? 'ok' : 'unhealthy', checks: results, ...more }, null, 2);
  return { status: healthy ? 200 : 503, type: 'application/json', body: `${body}\n` };
}
