/**
 * Threads with the bot token: start one from a message (the thread takes the message's id, as on Discord) or
 * without one, change or delete it, and join it.
 */
import { ChannelType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { z } from 'zod';
import { findChannel, findChannelMessage, requireBotPermissions, type FakeContext } from '../context.js';
import type { FakeChannel, FakeThreadState } from '../model.js';
import { DiscordHttpError, errors, type RestRequest, type RestResponse } from '../rest-types.js';
import type { Router } from '../router.js';
import { serializeChannel } from '../serialize.js';
import { param } from './message-routes.js';

const archiveDuration = z.union([z.literal(60), z.literal(1440), z.literal(4320), z.literal(10080)]);

const startThreadSchema = z.looseObject({
  name: z.string().min(1).max(100),
  auto_archive_duration: archiveDuration.optional(),
  rate_limit_per_user: z.number().int().min(0).max(21600).nullish(),
  type: z.number().int().optional(),
});

const editThreadSchema = z.looseObject({
  name: z.string().min(1).max(100).optional(),
  archived: z.boolean().optional(),
  locked: z.boolean().optional(),
  auto_archive_duration: archiveDuration.optional(),
  rate_limit_per_user: z.number().int().min(0).max(21600).nullish(),
});

/** Registers the thread routes. */
export function registerThreadRoutes(router: Router, ctx: FakeContext): void {
  router.add('POST', '/channels/:channelId/messages/:messageId/threads', 'bot', (req) => startFromMessage(ctx, req));
  router.add('POST', '/channels/:channelId/threads', 'bot', (req) => startWithoutMessage(ctx, req));
  router.add('PATCH', '/channels/:channelId', 'bot', (req) => {
    const channel = findChannel(ctx, param(req, 'channelId'));
    return channel.thread ? editThread(ctx, channel, req) : editTextChannel(ctx, channel, req);
  });
  router.add('PUT', '/channels/:channelId/thread-members/@me', 'bot', (req) => {
    const thread = findChannel(ctx, param(req, 'channelId'));
    if (!thread.thread) throw wrongChannelType();
    requireBotPermissions(ctx, thread, 0n);
    if (thread.thread.archived) throw errors.threadArchived();
    return { status: 204 };
  });
}

function wrongChannelType(): DiscordHttpError {
  return new DiscordHttpError(400, 50024, 'Cannot execute action on this channel type');
}

function parseBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  throw errors.invalidFormBody(
    parsed.error.issues.map((issue) => ({
      path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
      code: 'BASE_TYPE_INVALID',
      message: issue.message,
    })),
  );
}

function startFromMessage(ctx: FakeContext, req: RestRequest): RestResponse {
  const parent = findChannel(ctx, param(req, 'channelId'));
  if (parent.type !== ChannelType.GuildText && parent.type !== ChannelType.GuildAnnouncement) {
    throw wrongChannelType();
  }
  requireBotPermissions(ctx, parent, PermissionFlagsBits.CreatePublicThreads | PermissionFlagsBits.ReadMessageHistory);
  const message = findChannelMessage(ctx, parent, param(req, 'messageId'));
  if (message.threadId) throw errors.threadAlreadyCreated();
  const body = parseBody(startThreadSchema, req.body);
  const type =
    parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread;
  const thread = addThread(ctx, parent, message.id, type, body);
  message.threadId = thread.id;
  message.flags |= MessageFlags.HasThread;
  ctx.announce.channelCreate(thread);
  ctx.announce.messageUpdate(message);
  return { status: 201, body: serializeChannel(ctx.state, thread) };
}

function startWithoutMessage(ctx: FakeContext, req: RestRequest): RestResponse {
  const parent = findChannel(ctx, param(req, 'channelId'));
  if (parent.type !== ChannelType.GuildText) throw wrongChannelType();
  const body = parseBody(startThreadSchema, req.body);
  const type = body.type === ChannelType.PublicThread ? ChannelType.PublicThread : ChannelType.PrivateThread;
  const needed =
    type === ChannelType.PublicThread
      ? PermissionFlagsBits.CreatePublicThreads
      : PermissionFlagsBits.CreatePrivateThreads;
  requireBotPermissions(ctx, parent, needed);
  const thread = addThread(ctx, parent, ctx.state.ids.next(), type, body);
  ctx.announce.channelCreate(thread);
  return { status: 201, body: serializeChannel(ctx.state, thread) };
}

function addThread(
  ctx: FakeContext,
  parent: FakeChannel,
  id: string,
  type: ChannelType,
  body: z.infer<typeof startThreadSchema>,
): FakeChannel {
  const now = Date.now();
  const thread: FakeThreadState = {
    archived: false,
    locked: false,
    autoArchiveDuration: body.auto_archive_duration ?? 4320,
    archivedAt: now,
    createdAt: now,
  };
  return ctx.state.addChannel({
    id,
    type,
    guildId: parent.guildId,
    name: body.name,
    nsfw: parent.nsfw,
    topic: null,
    parentId: parent.id,
    position: 0,
    overwrites: [],
    recipientIds: [],
    ownerId: ctx.botUser.id,
    thread,
    lastMessageId: null,
    messageCount: 0,
    rateLimitPerUser: body.rate_limit_per_user ?? 0,
    createdAt: now,
  });
}

const editChannelSchema = z.looseObject({
  name: z.string().min(1).max(100).optional(),
  topic: z.string().max(1024).nullish(),
  nsfw: z.boolean().optional(),
});

function editTextChannel(ctx: FakeContext, channel: FakeChannel, req: RestRequest): RestResponse {
  if (channel.guildId === null) throw wrongChannelType();
  requireBotPermissions(ctx, channel, PermissionFlagsBits.ManageChannels);
  const body = parseBody(editChannelSchema, req.body);
  if (body.name !== undefined) channel.name = body.name;
  if (body.topic !== undefined) channel.topic = body.topic ?? null;
  if (body.nsfw !== undefined) channel.nsfw = body.nsfw;
  ctx.announce.channelUpdate(channel);
  return { status: 200, body: serializeChannel(ctx.state, channel) };
}

function editThread(ctx: FakeContext, channel: FakeChannel, req: RestRequest): RestResponse {
  if (!channel.thread) throw wrongChannelType();
  const body = parseBody(editThreadSchema, req.body);
  // A thread's owner may rename and archive it; locking or changing someone else's thread needs ManageThreads.
  const ownOnly = channel.ownerId === ctx.botUser.id && body.locked === undefined;
  requireBotPermissions(ctx, channel, ownOnly ? 0n : PermissionFlagsBits.ManageThreads);
  if (body.name !== undefined) channel.name = body.name;
  if (body.rate_limit_per_user !== undefined) channel.rateLimitPerUser = body.rate_limit_per_user ?? 0;
  if (body.auto_archive_duration !== undefined) channel.thread.autoArchiveDuration = body.auto_archive_duration;
  if (body.locked !== undefined) channel.thread.locked = body.locked;
  if (body.archived !== undefined && body.archived !== channel.thread.archived) {
    channel.thread.archived = body.archived;
    channel.thread.archivedAt = Date.now();
  }
  ctx.announce.channelUpdate(channel);
  return { status: 200, body: serializeChannel(ctx.state, channel) };
}
