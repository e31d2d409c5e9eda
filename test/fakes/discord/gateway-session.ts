/**
 * One Gateway connection (a socket with its heartbeat deadline) and one session (what survives a reconnect: the
 * sequence number and the events sent, so RESUME can replay those a client missed).
 */
import type { Duplex } from 'node:stream';
import { SOCKET_OPEN, type ServerSocket } from './ws-library.js';

/** Events kept per session for RESUME; an older sequence number gets INVALID_SESSION. */
const REPLAY_BUFFER_SIZE = 2000;

/** A socket after the WebSocket handshake. */
export class GatewayConnection {
  session: GatewaySession | null = null;
  private heartbeatDeadline: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: ServerSocket,
    /** The TCP stream under `socket`, corked while several frames are written as one. */
    private readonly stream: Duplex,
    private readonly heartbeatIntervalMs: number,
    private readonly onTimeout: (code: number, reason: string) => void,
  ) {
    this.armHeartbeatDeadline();
  }

  /** Sends one frame if the socket is still open. */
  send(frame: unknown): void {
    this.sendText(JSON.stringify(frame));
  }

  sendText(text: string): void {
    if (this.socket.readyState === SOCKET_OPEN) this.socket.send(text);
  }

  /** Holds written frames until `uncork`, so frames sent together leave in one write. */
  cork(): void {
    this.stream.cork();
  }

  uncork(): void {
    this.stream.uncork();
  }

  heartbeatReceived(): void {
    this.armHeartbeatDeadline();
  }

  close(code: number, reason: string): void {
    this.stop();
    if (this.socket.readyState === SOCKET_OPEN) this.socket.close(code, reason);
  }

  terminate(): void {
    this.stop();
    this.socket.terminate();
  }

  /** Clears the heartbeat deadline. */
  stop(): void {
    if (this.heartbeatDeadline) clearTimeout(this.heartbeatDeadline);
    this.heartbeatDeadline = null;
  }

  private armHeartbeatDeadline(): void {
    this.stop();
    // Clients wait up to one interval (with jitter) before their first heartbeat; allow two before giving up.
    this.heartbeatDeadline = setTimeout(
      () => this.onTimeout(4009, 'Session timed out.'),
      this.heartbeatIntervalMs * 2,
    ).unref();
  }
}

/** A session started by IDENTIFY. */
export class GatewaySession {
  connection: GatewayConnection | null = null;
  private seq = 0;
  private readonly sent: { seq: number; text: string }[] = [];

  constructor(
    readonly id: string,
    readonly intents: number,
    readonly shard: readonly [number, number],
  ) {}

  /** The last sequence number sent. */
  get sequence(): number {
    return this.seq;
  }

  /** True when the session has this intent bit. */
  has(intent: number): boolean {
    return (this.intents & intent) === intent;
  }

  attach(connection: GatewayConnection): void {
    if (this.connection && this.connection !== connection) this.connection.close(4000, 'Session resumed elsewhere.');
    this.connection = connection;
    connection.session = this;
  }

  detach(connection: GatewayConnection): void {
    if (this.connection === connection) this.connection = null;
  }

  /** Sends (or keeps for replay, when disconnected) one dispatch. */
  dispatch(event: string, data: unknown): void {
    this.seq += 1;
    const text = JSON.stringify({ op: 0, t: event, s: this.seq, d: data });
    this.sent.push({ seq: this.seq, text });
    if (this.sent.length > REPLAY_BUFFER_SIZE) this.sent.shift();
    this.connection?.sendText(text);
  }

  /** True when every event after `seq` is still in the buffer. */
  canReplayFrom(seq: number): boolean {
    if (seq > this.seq) return false;
    const oldest = this.sent[0]?.seq ?? this.seq + 1;
    return seq + 1 >= oldest;
  }

  replayAfter(seq: number): void {
    for (const frame of this.sent) if (frame.seq > seq) this.connection?.sendText(frame.text);
  }
}
