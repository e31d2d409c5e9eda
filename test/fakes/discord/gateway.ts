/**
 * The fake Gateway: HELLO, IDENTIFY (with Discord's close codes for a bad token, bad shard or disallowed intents),
 * heartbeats, READY followed by one GUILD_CREATE per guild, dispatches filtered by intents and shard, and RESUME
 * with replay of the events a disconnected session missed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../src/logger.js';
import type { ChangeSignal } from './change-signal.js';
import {
  KNOWN_INTENTS,
  Op,
  PRIVILEGED_INTENTS,
  clientFrameSchema,
  identifySchema,
  resumeSchema,
  shardOf,
  type IdentifyRecord,
} from './gateway-protocol.js';
import { GatewayConnection, GatewaySession } from './gateway-session.js';
import type { ShardingRules } from './gateway-sharding.js';
import { createUpgradeServer, type UpgradeServer } from './ws-library.js';

/** What the Gateway needs to know about the world. */
export interface GatewayWorld {
  isValidToken(token: string): boolean;
  allowedPrivilegedIntents(): number;
  /** READY's `user` and `application`, and the guilds on the shard. */
  readyData(shard: readonly [number, number]): { user: unknown; application: unknown; guildIds: string[] };
  guildCreate(guildId: string): unknown;
}

/** A close the fake sent, for tests and for people reading a failed test. */
export interface GatewayCloseRecord {
  readonly code: number;
  readonly reason: string;
  readonly at: number;
}

/** Gateway settings. */
export interface GatewayOptions {
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
  readonly signal: ChangeSignal;
  /** The 2,500-guild rule and the count of session starts. */
  readonly sharding: ShardingRules;
}

/** The WebSocket side of the fake Discord. */
export class FakeGateway {
  /** The URL READY advertises as `resume_gateway_url`; set once the HTTP server listens. */
  url = '';
  readonly identifies: IdentifyRecord[] = [];
  readonly closes: GatewayCloseRecord[] = [];
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly connections = new Set<GatewayConnection>();
  private readonly server: UpgradeServer = createUpgradeServer();

  constructor(
    private readonly world: GatewayWorld,
    private readonly options: GatewayOptions,
  ) {}

  /** Sessions that completed IDENTIFY and are connected now. */
  get connectedSessions(): GatewaySession[] {
    return [...this.sessions.values()].filter((session) => session.connection !== null);
  }

  /** Takes over an HTTP upgrade request for `/gateway`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const problem = unsupportedQuery(new URL(request.url ?? '/', 'http://127.0.0.1'));
    this.server.handleUpgrade(request, socket, head, (ws) => {
      const connection = new GatewayConnection(ws, socket, this.options.heartbeatIntervalMs, (code, reason) =>
        this.closeConnection(connection, code, reason),
      );
      this.connections.add(connection);
      ws.on('message', (data) => this.onFrame(connection, rawText(data)));
      ws.on('close', (code) => this.onClosed(connection, code));
      ws.on('error', (error) => this.options.logger.debug({ err: error }, 'fake gateway socket error'));
      if (problem) {
        this.options.logger.error({ problem }, 'fake gateway refused a connection');
        this.closeConnection(connection, 4012, problem);
        return;
      }
      connection.send({ op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs }, s: null, t: null });
    });
  }

  /**
   * Sends an event to every session whose intents and shard cover it; `build` returns the data for one session
   * (or null to skip it). Disconnected but resumable sessions keep the event for replay. Returns how many
   * connected sessions it was sent to.
   */
  dispatch(event: string, guildId: string | null, build: (session: GatewaySession) => unknown): number {
    let sent = 0;
    for (const session of this.sessions.values()) {
      if (shardOf(guildId, session.shard[1]) !== session.shard[0]) continue;
      const data = build(session);
      if (data === null) continue;
      session.dispatch(event, data);
      if (session.connection) sent += 1;
    }
    this.options.signal.notify();
    return sent;
  }

  /**
   * Runs `send`, whose dispatches leave together: each connection's socket is corked meanwhile, so the frames go out
   * in one write, the way a burst of events reaches a bot from Discord.
   */
  together(send: () => void): void {
    const corked = [...this.connections];
    for (const connection of corked) connection.cork();
    try {
      send();
    } finally {
      for (const connection of corked) connection.uncork();
    }
  }

  /** Closes every connection with `code` (default 4000, which a client answers by resuming). */
  disconnectAll(code = 4000, reason = 'Disconnected by the test'): void {
    for (const connection of this.connections) this.closeConnection(connection, code, reason);
  }

  /** Asks every connected client to reconnect and resume (op 7). */
  requestReconnect(): void {
    for (const connection of this.connections) connection.send({ op: Op.Reconnect, d: null, s: null, t: null });
  }

  /** Sends INVALID_SESSION (op 9) to every connected client; not resumable sessions are forgotten. */
  invalidateSessions(resumable: boolean): void {
    for (const session of this.connectedSessions) {
      session.connection?.send({ op: Op.InvalidSession, d: resumable, s: null, t: null });
      if (!resumable) this.sessions.delete(session.id);
    }
  }

  /** Terminates every socket and stops the server. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.terminate();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onFrame(connection: GatewayConnection, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.closeConnection(connection, 4002, 'Error while decoding payload.');
      return;
    }
    const frame = clientFrameSchema.safeParse(json);
    if (!frame.success) {
      this.closeConnection(connection, 4002, 'Error while decoding payload.');
      return;
    }
    this.handleOp(connection, frame.data.op, frame.data.d);
  }

  private handleOp(connection: GatewayConnection, op: number, data: unknown): void {
    if (op === Op.Heartbeat) {
      connection.heartbeatReceived();
      connection.send({ op: Op.HeartbeatAck, d: null, s: null, t: null });
    } else if (op === Op.Identify) {
      this.identify(connection, data);
    } else if (op === Op.Resume) {
      this.resume(connection, data);
    } else if (!connection.session) {
      this.closeConnection(connection, 4003, 'Not authenticated.');
    } else if (op === Op.PresenceUpdate || op === Op.VoiceStateUpdate || op === Op.RequestGuildMembers) {
      // Accepted and ignored: nothing in the fake depends on presence, voice or member chunks.
    } else {
      this.closeConnection(connection, 4001, 'Unknown opcode.');
    }
  }

  private identify(connection: GatewayConnection, data: unknown): void {
    const parsed = identifySchema.safeParse(data);
    if (!parsed.success) return this.closeConnection(connection, 4002, 'Error while decoding payload.');
    const { token, ...record } = parsed.data;
    if (connection.session) return this.closeConnection(connection, 4005, 'Already authenticated.');
    if (!this.world.isValidToken(token)) return this.closeConnection(connection, 4004, 'Authentication failed.');
    if ((record.intents & ~KNOWN_INTENTS) !== 0) return this.closeConnection(connection, 4013, 'Invalid intent(s).');
    const privileged = record.intents & PRIVILEGED_INTENTS;
    if ((privileged & ~this.world.allowedPrivilegedIntents()) !== 0) {
      return this.closeConnection(connection, 4014, 'Disallowed intent(s).');
    }
    const shard = record.shard ?? [0, 1];
    if (shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1]) {
      return this.closeConnection(connection, 4010, 'Invalid shard.');
    }
    this.options.sharding.countSessionStart();
    const ready = this.world.readyData([shard[0], shard[1]]);
    if (ready.guildIds.length > this.options.sharding.maxGuildsPerShard) {
      return this.closeConnection(connection, 4011, 'Sharding required.');
    }
    this.identifies.push({ ...record, at: Date.now() });
    this.startSession(connection, record.intents, [shard[0], shard[1]], ready);
  }

  private startSession(
    connection: GatewayConnection,
    intents: number,
    shard: [number, number],
    ready: ReturnType<GatewayWorld['readyData']>,
  ): void {
    const { user, application, guildIds } = ready;
    const session = new GatewaySession(randomBytes(16).toString('hex'), intents, shard);
    this.sessions.set(session.id, session);
    session.attach(connection);
    session.dispatch('READY', {
      v: 10,
      user,
      guilds: guildIds.map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.url,
      shard,
      application,
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      user_settings: {},
      auth: {},
    });
    for (const guildId of guildIds) session.dispatch('GUILD_CREATE', this.world.guildCreate(guildId));
    this.options.signal.notify();
  }

  private resume(connection: GatewayConnection, data: unknown): void {
    const parsed = resumeSchema.safeParse(data);
    if (!parsed.success) return this.closeConnection(connection, 4002, 'Error while decoding payload.');
    if (!this.world.isValidToken(parsed.data.token)) {
      return this.closeConnection(connection, 4004, 'Authentication failed.');
    }
    const session = this.sessions.get(parsed.data.session_id);
    if (!session || !session.canReplayFrom(parsed.data.seq ?? 0)) {
      connection.send({ op: Op.InvalidSession, d: false, s: null, t: null });
      return;
    }
    session.attach(connection);
    session.replayAfter(parsed.data.seq ?? 0);
    session.dispatch('RESUMED', null);
    this.options.signal.notify();
  }

  private onClosed(connection: GatewayConnection, code: number): void {
    connection.stop();
    this.connections.delete(connection);
    const session = connection.session;
    if (!session) return;
    session.detach(connection);
    // A client closing with 1000/1001 ends its session, as on Discord; other codes leave it resumable.
    if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    this.options.signal.notify();
  }

  private closeConnection(connection: GatewayConnection, code: number, reason: string): void {
    this.closes.push({ code, reason, at: Date.now() });
    if (code >= 4004 && code !== 4007 && code !== 4008 && code !== 4009 && connection.session) {
      this.sessions.delete(connection.session.id);
    }
    connection.close(code, reason);
    this.options.signal.notify();
  }
}

/** Why a connection URL asks for something the fake does not speak, or null. */
function unsupportedQuery(url: URL): string | null {
  const version = url.searchParams.get('v');
  if (version !== null && version !== '10') return `The fake Discord speaks only Gateway v10, not v${version}.`;
  const encoding = url.searchParams.get('encoding') ?? 'json';
  if (encoding !== 'json') return `The fake Discord speaks only encoding=json, not ${encoding}.`;
  // discord.js asks for zlib-stream only when the optional zlib-sync package is installed; nothing here compresses.
  if (url.searchParams.has('compress')) return 'The fake Discord does not compress (uninstall zlib-sync).';
  return null;
}

function rawText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
