/**
 * The fake Discord: REST and Gateway on 127.0.0.1 for the real discord.js client, a world of guilds, channels,
 * members and messages, member actions for tests, a record of every REST call, and injected faults.
 *
 * Start it with `startFakeDiscord()`, point a client at `fake.apiUrl` (`new Client({ rest: { api: fake.apiUrl } })`)
 * and log in with `fake.token`; `close()` ends every socket and frees the port.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../../../src/logger.js';
import { Announcer } from './announcer.js';
import { CallLog, type CallPredicate, type RecordedCall } from './call-log.js';
import { ChangeSignal } from './change-signal.js';
import { CommandRegistry } from './command-registry.js';
import type { FakeApplication, FakeContext } from './context.js';
import { FaultInjector, type FaultHandle, type FaultSpec } from './faults.js';
import { FakeGateway, type GatewayWorld } from './gateway.js';
import { ShardingRules, type ShardingSettings } from './gateway-sharding.js';
import { GlobalRateLimiter, type GlobalRateLimitSettings } from './global-rate-limit.js';
import {
  allowedPrivilegedBits,
  privilegedApplicationFlags,
  shardOf,
  type PrivilegedIntentSettings,
} from './gateway-protocol.js';
import { createHttpServer, type DownloadRecord } from './http-server.js';
import type { InteractionHandle } from './interaction-handle.js';
import { InteractionRegistry, type InteractionRecord } from './interaction-registry.js';
import { MemberActions } from './member-actions.js';
import type { FakeChannel, FakeGuild, FakeMessage, FakeRole, FakeUser } from './model.js';
import type { PermissionName } from './permissions.js';
import { RateLimiter, type RateLimitSettings } from './rate-limiter.js';
import { Router } from './router.js';
import { registerInteractionRoutes } from './routes/interaction-routes.js';
import { registerMessageRoutes } from './routes/message-routes.js';
import { registerMetaRoutes } from './routes/meta-routes.js';
import { registerThreadRoutes } from './routes/thread-routes.js';
import { serializeMessage, serializeUser } from './serialize.js';
import { FakeState } from './state.js';
import { createUser, guildCreatePayload, seedDefaultWorld } from './world.js';
import { WorldBuilder } from './world-builder.js';

/** Settings of a fake Discord; every one has a default. */
export interface FakeDiscordOptions {
  /** The bot token the fake accepts (default: a random, realistic-looking one). */
  readonly token?: string;
  readonly botUsername?: string;
  /** Privileged intents enabled for the application (default: all). A disabled one requested → close 4014. */
  readonly privilegedIntents?: PrivilegedIntentSettings;
  /** How long the bot has to acknowledge an interaction (Discord: 3000 ms). */
  readonly ackDeadlineMs?: number;
  /** How long an interaction token works for webhook calls (Discord: 15 minutes). */
  readonly interactionTokenLifetimeMs?: number;
  /** Largest attachment in the default guild, in bytes (Discord: 10 MiB). */
  readonly attachmentSizeLimit?: number;
  /** HELLO's heartbeat interval (Discord: 41250 ms). */
  readonly heartbeatIntervalMs?: number;
  /**
   * Per-route rate limits (e.g. `{ limit: 5, windowMs: 5000 }`), with X-RateLimit-* headers on every answer and
   * 429 over the limit. Off by default.
   */
  readonly rateLimit?: RateLimitSettings;
  /**
   * The bot's global limit over every connection (Discord: 50 requests per second per bot token; interaction
   * callbacks and webhooks are exempt); `false` switches it off. On by default, at Discord's 50.
   */
  readonly globalRateLimit?: GlobalRateLimitSettings | false;
  /** Shard recommendation, the guilds-per-shard limit (4011), max_concurrency and session starts (Discord's). */
  readonly sharding?: ShardingSettings;
  /** Permissions of the bot's managed role in the default guild. */
  readonly botPermissions?: readonly PermissionName[];
  readonly logger?: Logger;
}

const DEFAULTS = {
  ackDeadlineMs: 3000,
  interactionTokenLifetimeMs: 15 * 60 * 1000,
  heartbeatIntervalMs: 41_250,
  globalRateLimit: { requestsPerSecond: 50 },
};

/** Starts a fake Discord on 127.0.0.1 (a free port) with one guild, a #general channel and a member. */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const fake = new FakeDiscord(options);
  await fake.listen();
  return fake;
}

/** A running fake Discord. See `startFakeDiscord`. */
export class FakeDiscord extends WorldBuilder {
  readonly token: string;
  readonly application: FakeApplication;
  readonly botUser: FakeUser;
  /** The default guild, its owner, a member to act as, the bot's role and the #general channel. */
  readonly guild: FakeGuild;
  readonly owner: FakeUser;
  readonly member: FakeUser;
  readonly botRole: FakeRole;
  readonly channel: FakeChannel;
  readonly gateway: FakeGateway;
  /** Downloads of stored attachments. */
  readonly downloads: DownloadRecord[] = [];
  private readonly callLog: CallLog;
  private readonly faults = new FaultInjector();
  private readonly members: MemberActions;
  private readonly registry: InteractionRegistry;
  private readonly server: Server;
  private readonly sharding: ShardingRules;
  private readonly globalLimiter: GlobalRateLimiter | null;
  private privileged: number;
  private port = 0;

  constructor(options: FakeDiscordOptions = {}) {
    const state = new FakeState();
    const signal = new ChangeSignal();
    super(state, signal);
    const logger = options.logger ?? silentLogger();
    this.botUser = createUser(state, { username: options.botUsername ?? 'comfycord', bot: true });
    const flags = () => privilegedApplicationFlags(this.privileged);
    this.application = {
      id: this.botUser.id,
      name: this.botUser.username,
      get flags() {
        return flags();
      },
    };
    this.token = options.token ?? makeToken(this.botUser.id);
    this.privileged = allowedPrivilegedBits(options.privilegedIntents);
    this.callLog = new CallLog(signal);
    const globalLimit = options.globalRateLimit ?? DEFAULTS.globalRateLimit;
    this.globalLimiter = globalLimit === false ? null : new GlobalRateLimiter(globalLimit);
    this.registry = new InteractionRegistry({
      ackDeadlineMs: options.ackDeadlineMs ?? DEFAULTS.ackDeadlineMs,
      tokenLifetimeMs: options.interactionTokenLifetimeMs ?? DEFAULTS.interactionTokenLifetimeMs,
    });
    this.sharding = new ShardingRules(options.sharding);
    this.gateway = new FakeGateway(this.gatewayWorld(state), {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      logger,
      signal,
      sharding: this.sharding,
    });
    const ctx = this.buildContext(state, signal);
    this.attach(ctx);
    this.members = new MemberActions(ctx, this.callLog, signal);
    const world = seedDefaultWorld(state, this.botUser, options);
    this.owner = world.owner;
    this.guild = world.guild;
    this.botRole = world.botRole;
    this.channel = world.channel;
    this.member = world.member;
    this.server = createHttpServer({
      router: this.buildRouter(ctx),
      calls: this.callLog,
      faults: this.faults,
      gateway: this.gateway,
      logger,
      downloads: this.downloads,
      rateLimiter: options.rateLimit ? new RateLimiter(options.rateLimit) : null,
      globalRateLimiter: this.globalLimiter,
      isValidToken: (token) => token === this.token,
      attachment: (id) => state.attachments.get(id),
    });
  }

  /** Base URL for discord.js's `rest.api` option: `http://127.0.0.1:PORT/api`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }

  /** `http://127.0.0.1:PORT`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `ws://127.0.0.1:PORT/gateway`. */
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  /** The application (and bot user) id. */
  get applicationId(): string {
    return this.application.id;
  }

  /** @internal Binds the port; use `startFakeDiscord`. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.gateway.url = this.gatewayUrl;
  }

  /** Ends every Gateway socket and HTTP connection and frees the port. */
  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- REST record ----

  /** Requests refused by the bot's global limit (429 with `global: true`) so far. */
  get globalRateLimited(): number {
    return this.globalLimiter?.refused ?? 0;
  }

  /** Every answered REST call, in arrival order. */
  get calls(): readonly RecordedCall[] {
    return this.callLog.all;
  }

  /** Calls no route handled (answered 404 `{ message: '404: Not Found', code: 0 }`). */
  get unhandledCalls(): readonly RecordedCall[] {
    return this.callLog.unhandled;
  }

  /** Throws, listing them, if the bot made any call the fake does not handle. */
  assertNoUnhandledCalls(): void {
    const unhandled = this.callLog.unhandled;
    if (unhandled.length === 0) return;
    throw new Error(`unhandled Discord calls:\n${unhandled.map((c) => `  ${c.method} ${c.path}`).join('\n')}`);
  }

  /** The first call (already made or still to come) matching `predicate`. */
  waitFor(predicate: CallPredicate, timeoutMs = 5000): Promise<RecordedCall> {
    return this.callLog.waitFor(predicate, timeoutMs);
  }

  /** Fails matching calls: 429 with Retry-After and X-RateLimit-* headers, or a 5xx. */
  inject(spec: FaultSpec): FaultHandle {
    return this.faults.add(spec);
  }

  // ---- Member actions ----

  /** A member runs a slash command; the handle awaits the bot's callback, edits and followups. */
  sendSlashCommand(...args: Parameters<MemberActions['sendSlashCommand']>): Promise<InteractionHandle> {
    return this.members.sendSlashCommand(...args);
  }

  /** Members run slash commands at the same moment: built first, then dispatched in one write. */
  sendSlashCommands(...args: Parameters<MemberActions['sendSlashCommands']>): Promise<InteractionHandle[]> {
    return this.members.sendSlashCommands(...args);
  }

  /** A member types into an autocompleted option. */
  autocomplete(...args: Parameters<MemberActions['autocomplete']>): Promise<InteractionHandle> {
    return this.members.autocomplete(...args);
  }

  /** A member presses a button on a message. */
  pressButton(...args: Parameters<MemberActions['pressButton']>): Promise<InteractionHandle> {
    return this.members.pressButton(...args);
  }

  /** A member picks values in a select menu on a message. */
  selectMenu(...args: Parameters<MemberActions['selectMenu']>): Promise<InteractionHandle> {
    return this.members.selectMenu(...args);
  }

  /** The member fills in and submits the modal the bot showed in answer to `from`. */
  submitModal(...args: Parameters<MemberActions['submitModal']>): Promise<InteractionHandle> {
    return this.members.submitModal(...args);
  }

  /** A member posts a message (MESSAGE_CREATE), optionally with files or as a reply. */
  postMessage(...args: Parameters<MemberActions['postMessage']>): Promise<FakeMessage> {
    return this.members.postMessage(...args);
  }

  // ---- Interactions and Gateway ----

  /** Every interaction sent so far. */
  get interactions(): readonly InteractionRecord[] {
    return this.registry.all;
  }

  /** Ends an interaction's token now: later callbacks get 10062, webhook calls 401 50027. */
  expireInteraction(handle: InteractionHandle | InteractionRecord): void {
    const record = 'record' in handle ? handle.record : handle;
    record.expired = true;
  }

  /** Enables or disables privileged intents for later IDENTIFYs. */
  setPrivilegedIntents(settings: PrivilegedIntentSettings): void {
    this.privileged = allowedPrivilegedBits(settings);
  }

  /** Resolves once a bot session has identified and is connected (READY and the guilds were sent). */
  waitForBotConnected(timeoutMs = 10_000): Promise<void> {
    return this.signal
      .until(
        () => (this.gateway.connectedSessions.length > 0 ? true : undefined),
        timeoutMs,
        () => 'a bot to connect to the Gateway',
      )
      .then(() => undefined);
  }

  /** Every guild the bot is in (not those it was never added to). */
  guildIds(): string[] {
    return [...this.state.guilds.keys()].filter((id) => this.state.member(id, this.botUser.id) !== undefined);
  }

  /** The guilds whose events go to shard `id` of `count`, as Discord routes them. */
  guildsOnShard(id: number, count: number): string[] {
    return this.guildIds().filter((guildId) => shardOf(guildId, count) === id);
  }

  /** The API JSON of a message in its current state (what GET would return). */
  apiMessage(ref: FakeMessage | string) {
    return serializeMessage(this.state, this.state.message(ref));
  }

  private gatewayWorld(state: FakeState): GatewayWorld {
    return {
      isValidToken: (token) => token === this.token,
      allowedPrivilegedIntents: () => this.privileged,
      readyData: (shard) => ({
        user: serializeUser(this.botUser),
        application: { id: this.application.id, flags: this.application.flags },
        guildIds: this.guildsOnShard(shard[0], shard[1]),
      }),
      guildCreate: (guildId) => guildCreatePayload(state, state.guild(guildId), this.botUser.id),
    };
  }

  private buildContext(state: FakeState, signal: ChangeSignal): FakeContext {
    const announce = new Announcer(state, this.gateway, this.botUser.id, (guild) =>
      guildCreatePayload(state, guild, this.botUser.id),
    );
    return {
      state,
      announce,
      signal,
      interactions: this.registry,
      commands: new CommandRegistry(this.application.id, state.ids),
      botUser: this.botUser,
      application: this.application,
      gatewayUrl: () => this.gatewayUrl,
      gatewayBot: () => this.sharding.gatewayBot(this.guildIds().length),
      attachmentUrl: (channelId, id, filename) => attachmentUrl(this.baseUrl, channelId, id, filename),
      attachmentSizeLimit: (channel) =>
        channel.guildId ? state.guild(channel.guildId).attachmentSizeLimit : this.guild.attachmentSizeLimit,
    };
  }

  private buildRouter(ctx: FakeContext): Router {
    const router = new Router();
    registerMetaRoutes(router, ctx);
    registerMessageRoutes(router, ctx);
    registerThreadRoutes(router, ctx);
    registerInteractionRoutes(router, ctx);
    return router;
  }
}

/** A CDN-style URL with the signature parameters real attachment URLs carry (the fake does not check them). */
function attachmentUrl(base: string, channelId: string, id: string, filename: string): string {
  const expires = Math.floor(Date.now() / 1000 + 86_400).toString(16);
  const issued = Math.floor(Date.now() / 1000).toString(16);
  const signature = randomBytes(32).toString('hex');
  return `${base}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}?ex=${expires}&is=${issued}&hm=${signature}&`;
}

/** A token shaped like Discord's: base64 of the bot id, a timestamp part and an HMAC part. */
function makeToken(botId: string): string {
  const id = Buffer.from(botId).toString('base64url');
  return `${id}.${randomBytes(4).toString('base64url')}.${randomBytes(27).toString('base64url')}`;
}
