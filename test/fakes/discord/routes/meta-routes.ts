/**
 * Bot-token routes around the edges: Gateway discovery, the bot's own user and application, users, members,
 * channels, DM channels and application commands.
 */
import { ChannelType, PermissionFlagsBits } from 'discord.js';
import { z } from 'zod';
import { findChannel, requireBotPermissions, type FakeContext } from '../context.js';
import { errors, type RestRequest } from '../rest-types.js';
import type { Router } from '../router.js';
import { serializeChannel, serializeMember, serializeUser } from '../serialize.js';
import { param } from './message-routes.js';

/** Registers the routes. */
export function registerMetaRoutes(router: Router, ctx: FakeContext): void {
  router.add('GET', '/gateway', 'none', () => ({ status: 200, body: { url: ctx.gatewayUrl() } }));
  router.add('GET', '/gateway/bot', 'bot', () => ({
    status: 200,
    body: { url: ctx.gatewayUrl(), ...ctx.gatewayBot() },
  }));
  router.add('GET', '/users/@me', 'bot', () => ({ status: 200, body: serializeUser(ctx.botUser) }));
  router.add('GET', '/applications/@me', 'bot', () => ({ status: 200, body: applicationBody(ctx) }));
  router.add('GET', '/users/:userId', 'bot', (req) => {
    const user = ctx.state.users.get(param(req, 'userId'));
    if (!user) throw errors.unknownUser();
    return { status: 200, body: serializeUser(user) };
  });
  router.add('GET', '/guilds/:guildId/members/:userId', 'bot', (req) => {
    if (!ctx.state.guilds.has(param(req, 'guildId'))) throw errors.unknownGuild();
    const member = ctx.state.member(param(req, 'guildId'), param(req, 'userId'));
    if (!member) throw errors.unknownMember();
    return { status: 200, body: serializeMember(ctx.state, member) };
  });
  router.add('GET', '/channels/:channelId', 'bot', (req) => {
    const channel = findChannel(ctx, param(req, 'channelId'));
    requireBotPermissions(ctx, channel, 0n);
    return { status: 200, body: serializeChannel(ctx.state, channel) };
  });
  router.add('DELETE', '/channels/:channelId', 'bot', (req) => deleteChannel(ctx, req));
  router.add('POST', '/users/@me/channels', 'bot', (req) => openDm(ctx, req));
  registerCommandRoutes(router, ctx);
}

function applicationBody(ctx: FakeContext) {
  return {
    id: ctx.application.id,
    name: ctx.application.name,
    icon: null,
    description: '',
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: ctx.application.flags,
    bot: serializeUser(ctx.botUser),
    owner: serializeUser(ctx.botUser),
    team: null,
  };
}

function deleteChannel(ctx: FakeContext, req: RestRequest) {
  const channel = findChannel(ctx, param(req, 'channelId'));
  const needed = channel.thread ? PermissionFlagsBits.ManageThreads : PermissionFlagsBits.ManageChannels;
  requireBotPermissions(ctx, channel, needed);
  ctx.state.channels.delete(channel.id);
  ctx.announce.channelDelete(channel);
  return { status: 200, body: serializeChannel(ctx.state, channel) };
}

const openDmSchema = z.object({ recipient_id: z.string() });

function openDm(ctx: FakeContext, req: RestRequest) {
  const parsed = openDmSchema.safeParse(req.body);
  if (!parsed.success) {
    throw errors.invalidFormBody([{ path: ['recipient_id'], code: 'BASE_TYPE_REQUIRED', message: 'required' }]);
  }
  const user = ctx.state.users.get(parsed.data.recipient_id);
  if (!user) throw errors.unknownUser();
  const channel =
    ctx.state.dmWith(user.id) ??
    ctx.state.addChannel({
      id: ctx.state.ids.next(),
      type: ChannelType.DM,
      guildId: null,
      name: null,
      nsfw: false,
      topic: null,
      parentId: null,
      position: 0,
      overwrites: [],
      recipientIds: [user.id],
      ownerId: null,
      thread: null,
      lastMessageId: null,
      messageCount: 0,
      rateLimitPerUser: 0,
      createdAt: Date.now(),
    });
  return { status: 200, body: serializeChannel(ctx.state, channel) };
}

function registerCommandRoutes(router: Router, ctx: FakeContext): void {
  const global = '/applications/:applicationId/commands';
  const guild = '/applications/:applicationId/guilds/:guildId/commands';
  const scope = (req: RestRequest) => {
    if (param(req, 'applicationId') !== ctx.application.id) throw errors.missingAccess();
    const guildId = req.params.guildId ?? null;
    if (guildId !== null && !ctx.state.guilds.has(guildId)) throw errors.unknownGuild();
    return guildId;
  };
  router.add('PUT', global, 'bot', (req) => ({ status: 200, body: ctx.commands.overwrite(scope(req), req.body) }));
  router.add('PUT', guild, 'bot', (req) => ({ status: 200, body: ctx.commands.overwrite(scope(req), req.body) }));
  router.add('GET', global, 'bot', (req) => ({ status: 200, body: ctx.commands.list(scope(req)) }));
  router.add('GET', guild, 'bot', (req) => ({ status: 200, body: ctx.commands.list(scope(req)) }));
}
