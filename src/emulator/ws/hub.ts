/**
 * The WebSocket side of the emulator (`/ws?clientId=`): connection bookkeeping, the feature_flags handshake and
 * sending events to one client or to all, with ComfyUI's routing rules.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { pyJson } from '../server/py-json.js';

/** ComfyUI's binary event numbers. */
export const BinaryEvent = { PREVIEW_IMAGE: 1, TEXT: 3, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;

/** What the hub needs to know about the server when a client (re)connects. */
export interface HubServerState {
  queueRemaining(): number;
  /** The client id of the running prompt and the node it is executing (ComfyUI's client_id / last_node_id). */
  readonly runningClientId: string | null;
  readonly lastNodeId: string | null;
}

const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 } as const;

/** Connected clients by sid. */
export class WebSocketHub {
  private readonly sockets = new Map<string, WebSocket>();
  private readonly featureFlags = new Map<string, Record<string, unknown>>();
  private readonly all = new Set<WebSocket>();

  constructor(
    private readonly state: HubServerState,
    private readonly logger: Logger,
  ) {}

  /** Takes over a freshly upgraded socket. */
  attach(socket: WebSocket, clientId: string | null): void {
    const sid = clientId || randomUUID().replaceAll('-', '');
    this.sockets.set(sid, socket);
    this.featureFlags.set(sid, {});
    this.all.add(socket);
    this.send('status', { status: { exec_info: { queue_remaining: this.state.queueRemaining() } }, sid }, sid);
    if (this.state.runningClientId === sid && this.state.lastNodeId !== null) {
      this.send('executing', { node: this.state.lastNodeId }, sid);
    }
    let first = true;
    socket.on('message', (data, isBinary) => {
      if (first && !isBinary) this.handleFirstMessage(sid, data.toString());
      first = false;
    });
    socket.on('error', (error) => this.logger.debug({ err: error, sid }, 'websocket error'));
    socket.on('close', () => {
      this.all.delete(socket);
      // ComfyUI pops the sid when *any* socket of that sid closes, even one already replaced by a reconnect.
      this.sockets.delete(sid);
      this.featureFlags.delete(sid);
    });
  }

  private handleFirstMessage(sid: string, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { type, data } = message as { type?: unknown; data?: unknown };
    if (type !== 'feature_flags') return;
    this.featureFlags.set(sid, typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {});
    this.send('feature_flags', SERVER_FEATURES, sid);
  }

  /** Sends `{type, data}` to one sid, or to everyone when `sid` is null. */
  send(type: string, data: unknown, sid: string | null): void {
    const text = pyJson({ type, data });
    for (const socket of this.targets(sid)) socket.send(text);
  }

  /** Sends a binary frame `[u32 event][payload]`. */
  sendBinary(event: number, payload: Buffer, sid: string | null): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(event, 0);
    const frame = Buffer.concat([header, payload]);
    for (const socket of this.targets(sid)) socket.send(frame);
  }

  /** True when a message for `sid` would reach anyone (lets callers skip encoding previews for nobody). */
  hasRecipient(sid: string | null): boolean {
    return this.targets(sid).length > 0;
  }

  /** Whether this client negotiated type-4 previews. */
  supportsPreviewMetadata(sid: string | null): boolean {
    if (sid === null) return false;
    return Boolean(this.featureFlags.get(sid)?.['supports_preview_metadata']);
  }

  /** Closes every socket without a close handshake (the "drop" fault and restarts). */
  dropAll(): void {
    for (const socket of this.all) socket.terminate();
  }

  private targets(sid: string | null): WebSocket[] {
    if (sid === null) return [...this.sockets.values()].filter(isOpen);
    const socket = this.sockets.get(sid);
    return socket && isOpen(socket) ? [socket] : [];
  }
}

function isOpen(socket: WebSocket): boolean {
  return socket.readyState === socket.OPEN;
}
