/**
 * The one WebSocket a client keeps to its server (`/ws?clientId=`), reconnecting with backoff and jitter. Text frames
 * are parsed with zod and binary frames decoded; unknown or malformed frames are logged at debug and dropped.
 */
import type { Logger } from 'pino';
import { WebSocket, type Agent } from 'undici';
import { Backoff, type BackoffOptions } from './backoff.js';
import { parseBinaryFrame, type BinaryFrame } from './binary-frames.js';
import { parseComfyMessage, type ComfyMessage } from './ws-messages.js';

/** What the socket reports to its owner. */
export interface SocketHandlers {
  readonly onOpen: () => void;
  /** Called when an open connection closes, or an attempt to connect fails. */
  readonly onClose: (wasOpen: boolean) => void;
  readonly onMessage: (message: ComfyMessage) => void;
  readonly onFrame: (frame: BinaryFrame) => void;
}

/** How the socket connects. */
export interface SocketOptions {
  /** `ws://host:port/ws?clientId=…` */
  readonly url: string;
  readonly agent: Agent;
  readonly logger: Logger;
  /** Send `feature_flags` on open to receive previews with metadata (type 4); false behaves as a legacy client. */
  readonly featureFlags: boolean;
  readonly reconnect: BackoffOptions;
}

/** The message that asks for previews with metadata (type-4 frames) instead of bare ones. */
const FEATURE_FLAGS = JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } });
/** How long `close` waits for the server to see the socket go before giving up on waiting. */
const CLOSE_WAIT_MS = 2_000;

/** A reconnecting WebSocket to one ComfyUI server. */
export class ComfySocket {
  private ws: WebSocket | undefined;
  private open = false;
  private started = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private waiters: ((open: boolean) => void)[] = [];

  constructor(
    private readonly options: SocketOptions,
    private readonly handlers: SocketHandlers,
  ) {
    this.backoff = new Backoff(options.reconnect);
  }

  /** True while the connection is open. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Connects, unless already started; later drops reconnect by themselves until `close`. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  /** Resolves true once open, false when an attempt fails first or `timeoutMs` passes. */
  waitOpen(timeoutMs: number): Promise<boolean> {
    if (this.open) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    this.start();
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMs);
      const settle = (open: boolean) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== settle);
        resolve(open);
      };
      this.waiters.push(settle);
    });
  }

  /**
   * Closes the connection for good, resolving once the socket has closed (or after `CLOSE_WAIT_MS`). Waiting matters:
   * ComfyUI forgets a client id when *any* socket of that id closes, so a bot restarting with the same id must not
   * connect again before the server has seen the old socket go, or the new socket silently gets no events.
   */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.notifyWaiters(false);
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      ws.addEventListener('close', done, { once: true });
      ws.close();
    });
  }

  private connect(): void {
    const ws = new WebSocket(this.options.url, { dispatcher: this.options.agent });
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let wasOpen = false;
    ws.addEventListener('open', () => {
      wasOpen = true;
      this.open = true;
      this.backoff.reset();
      if (this.options.featureFlags) ws.send(FEATURE_FLAGS);
      this.options.logger.debug('comfy websocket open');
      this.handlers.onOpen();
      this.notifyWaiters(true);
    });
    ws.addEventListener('message', (event) => this.receive(event.data));
    ws.addEventListener('error', (event) => {
      this.options.logger.debug({ err: event.error }, 'comfy websocket error');
    });
    ws.addEventListener('close', (event) => {
      if (this.ws === ws) this.ws = undefined;
      this.open = false;
      this.options.logger.debug({ code: event.code, wasOpen }, 'comfy websocket closed');
      this.notifyWaiters(false);
      if (!this.closed) this.scheduleReconnect();
      this.handlers.onClose(wasOpen);
    });
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      if (!this.closed) this.connect();
    }, delay);
  }

  private receive(data: unknown): void {
    try {
      this.dispatch(data);
    } catch (error) {
      // A bug in a handler must not surface as an uncaught exception from the socket's event loop.
      this.options.logger.error({ err: error }, 'comfy websocket handler threw');
    }
  }

  private dispatch(data: unknown): void {
    if (typeof data === 'string') {
      const parsed = parseComfyMessage(data);
      if (parsed.ok) this.handlers.onMessage(parsed.message);
      else this.options.logger.debug({ reason: parsed.reason, type: parsed.type }, 'comfy message ignored');
      return;
    }
    if (data instanceof ArrayBuffer) {
      const parsed = parseBinaryFrame(new Uint8Array(data));
      if (parsed.ok) this.handlers.onFrame(parsed.frame);
      else this.options.logger.debug({ reason: parsed.reason }, 'comfy binary frame ignored');
    }
  }

  private notifyWaiters(open: boolean): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(open);
  }
}
