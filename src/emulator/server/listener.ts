/**
 * The node:http server and WebSocket upgrade handling, with the ability to stop listening and listen again on the
 * same port (the "refuse connections" fault) and to drop every connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocketHub } from '../ws/hub.js';
import { BodyTooLargeError, sendEmpty, sendInternalError, sendText, wrapRequest, type Router } from './http-kit.js';
import { isForeignOrigin } from './origin-guard.js';

/** How many requests `requests` keeps. */
const MAX_LOGGED_REQUESTS = 1000;

/** The listening socket of the emulator. */
export class Listener {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private port = 0;
  private transition: Promise<void> = Promise.resolve();
  private listening = false;
  /** Every raw connection, upgraded ones included (server.close() waits for those too). */
  private readonly connections = new Set<Socket>();

  /** The last HTTP requests answered, as `METHOD /path`, oldest first (tests check which routes a client used). */
  readonly requests: string[] = [];

  constructor(
    private readonly router: Router,
    private readonly hub: WebSocketHub,
    private readonly host: string,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('clientError', (_error, socket) => socket.destroy());
    this.server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  /** Starts listening; resolves with the bound port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    this.listening = true;
    return this.port;
  }

  /** Stops accepting (new connections are refused) and cuts existing ones, or listens again on the same port. */
  refuse(on: boolean): Promise<void> {
    this.transition = this.transition.then(async () => {
      if (on && this.listening) await this.stop();
      else if (!on && !this.listening) await this.listen(this.port);
    });
    return this.transition;
  }

  /** Cuts every connection, HTTP and WebSocket alike. */
  dropConnections(): void {
    for (const socket of this.connections) socket.destroy();
  }

  /** Stops listening for good; resolves when the port is free. */
  async close(): Promise<void> {
    await this.transition.catch(() => undefined);
    if (this.listening) await this.stop();
    this.wss.close();
  }

  private async stop(): Promise<void> {
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.hub.dropAll();
    this.dropConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (isForeignOrigin(req.headers)) return sendEmpty(res, 403);
    if (req.method === 'OPTIONS') return sendEmpty(res, 200);
    const pathname = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
    if (this.requests.push(`${req.method ?? 'GET'} ${pathname}`) > MAX_LOGGED_REQUESTS) this.requests.shift();
    const match = this.router.match(req.method ?? 'GET', pathname);
    if (match === 404) return sendText(res, 404, '404: Not Found');
    if (match === 405) return sendText(res, 405, '405: Method Not Allowed');
    try {
      await match.handler(wrapRequest(req, match.params), res);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return sendText(res, 413, error.message);
      this.logger.warn({ err: error, url: req.url }, 'emulator route failed');
      sendInternalError(res);
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const status = url.pathname !== '/ws' && url.pathname !== '/api/ws' ? 404 : isForeignOrigin(req.headers) ? 403 : 0;
    if (status !== 0) {
      socket.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Not Found'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.hub.attach(ws, url.searchParams.get('clientId')));
  }
}
