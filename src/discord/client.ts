/**
 * The discord.js client as comfycord uses it: guilds (slash commands, threads), guild messages and message content
 * (refining by replying to a result, or by writing in a thread a member opened on one). MessageContent is privileged:
 * asked for without being switched on in the Developer Portal, Discord refuses the connection (close code 4014). So the
 * bot reads the application's flags first and asks only when it may; without it, replies that mention the bot still
 * refine.
 */
import { ApplicationFlags, Client, GatewayIntentBits, Options, Partials, REST, Routes } from 'discord.js';
import { z } from 'zod';
import type { ShardAssignment } from '../config.js';
import type { MakeRequest } from './rest-transport.js';

export interface DiscordClientOptions {
  /** Discord's REST base without the version, e.g. `https://discord.com/api` (or a proxy, or the fake in tests). */
  readonly apiUrl: string;
  /** Ask for message content (needed to read plain replies to results and messages in session threads). */
  readonly messageContent?: boolean;
  /** How REST sends its requests (`createDiscordTransport`). */
  readonly makeRequest: MakeRequest;
  /** The shards this process connects; undefined: discord.js's default (one shard, or what a ShardingManager says). */
  readonly shards?: ShardAssignment | undefined;
}

/**
 * How often REST drops its idle request queues. There is one per interaction token and one per thread posted in, each
 * used for a moment; at discord.js's default of an hour, a busy bot holds an hour of them (~1 KB each). Queues that
 * are rate-limited or hold requests are never dropped, and bucket limits are kept apart from them.
 */
const HANDLER_SWEEP_MS = 60_000;

/** Creates (but does not log in) the client. */
export function createDiscordClient(options: DiscordClientOptions): Client {
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
  if (options.messageContent !== false) intents.push(GatewayIntentBits.MessageContent);
  return new Client({
    intents,
    // DMs arrive for channels discord.js has not cached; partials let those messages through.
    partials: [Partials.Channel],
    // No message is read back from the cache: events carry theirs, replies and threads go by id. Cached, each card
    // stayed for good (one per job; ~2 KB each in the memory benchmark).
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
    // Our transport, not discord.js's default: that sends files through its bundled undici 6 and the process-wide
    // dispatcher; once undici 7 (ours) is loaded first, that dispatcher is undici 7's, which cannot read undici 6's
    // FormData, and every upload fails ("action is not a function", discord.js#11525). See rest-transport.ts.
    // The global limit is the transport's (rest-transport.ts), shared by every process of a fleet.
    rest: {
      api: options.apiUrl,
      makeRequest: options.makeRequest,
      handlerSweepInterval: HANDLER_SWEEP_MS,
      globalRequestsPerSecond: Number.POSITIVE_INFINITY,
    },
    // Nobody is pinged by our messages except the member a late result is for (allowed explicitly there).
    allowedMentions: { parse: [] },
    // Each process of a fleet connects its own shards of the bot; Discord sends each guild's events (interactions,
    // messages, in threads too) to one shard only, (guild_id >> 22) % count, and direct messages to shard 0. Whichever
    // process gets an event handles it: nothing in a handler needs the gateway, only REST and the shared store.
    ...(options.shards ? { shards: [...options.shards.ids], shardCount: options.shards.count } : {}),
  });
}

/**
 * A REST manager for interaction webhooks (the edits of a deferred reply). Discord does not count those against the
 * bot's global limit of 50 requests per second, and neither does our transport; a manager of their own keeps their
 * queues apart from thread and channel-message calls. Each interaction's own bucket still applies. Calls through it
 * must pass `auth: false`.
 */
export function createInteractionRest(apiUrl: string, makeRequest: MakeRequest): REST {
  return new REST({
    api: apiUrl,
    makeRequest,
    globalRequestsPerSecond: Number.POSITIVE_INFINITY,
    handlerSweepInterval: HANDLER_SWEEP_MS,
  });
}

const applicationSchema = z.object({ flags: z.number().int() });

const MESSAGE_CONTENT_FLAGS = ApplicationFlags.GatewayMessageContent | ApplicationFlags.GatewayMessageContentLimited;

/**
 * Whether the application has the Message Content intent switched on (its flags say so), so the client may ask for it
 * without the Gateway refusing the connection. When the answer cannot be read, the client asks, and a refusal says why.
 */
export async function mayReadMessageContent(rest: REST): Promise<boolean> {
  const application = applicationSchema.safeParse(await rest.get(Routes.currentApplication()));
  return !application.success || (application.data.flags & MESSAGE_CONTENT_FLAGS) !== 0;
}
