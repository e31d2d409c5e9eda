/**
 * The server side of the Gateway uses the `ws` package (already installed as a dependency of discord.js's
 * `@discordjs/ws`). It ships no types and `@types/ws` is not installed, so it is loaded through `createRequire` and
 * typed here with only the members the fake uses; this keeps working unchanged once `@types/ws` is added.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** One Gateway connection, as the fake sees it. */
export interface ServerSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/** The subset of `ws.WebSocketServer` used in `noServer` mode. */
export interface UpgradeServer {
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (socket: ServerSocket, request: IncomingMessage) => void,
  ): void;
  close(callback?: () => void): void;
}

interface WsModule {
  WebSocketServer: new (options: { noServer: true; perMessageDeflate: boolean; maxPayload: number }) => UpgradeServer;
  OPEN: number;
}

const loaded = createRequire(import.meta.url)('ws') as Partial<WsModule>;
if (typeof loaded.WebSocketServer !== 'function') {
  throw new Error('the fake Discord needs the `ws` package (a dependency of discord.js) and could not load it');
}
const ws = loaded as WsModule;

/** A WebSocket server that takes upgrades handed to it by our HTTP server. */
export function createUpgradeServer(): UpgradeServer {
  // Discord's Gateway accepts at most 4096 bytes per client payload; no compression extension is negotiated.
  return new ws.WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
}

/** `readyState` of an open socket. */
export const SOCKET_OPEN = 1;
