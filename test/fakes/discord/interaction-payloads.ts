/**
 * The common envelope of every INTERACTION_CREATE payload, as Discord sends it for a guild-installed app: the
 * channel object with the member's permissions, `member` (guild) or `user` (DM), `app_permissions` computed from the
 * bot's roles and overwrites, `entitlements`, `authorizing_integration_owners`, `context` and the attachment limit.
 * discord.js drops interactions without `entitlements` and `authorizing_integration_owners`.
 */
import { ChannelType, InteractionContextType } from 'discord.js';
import type { FakeContext } from './context.js';
import type { InteractionRecord } from './interaction-registry.js';
import { serializeChannel, serializeMember, serializeUser } from './serialize.js';

/** The fields every interaction payload has, for this record. */
export function interactionEnvelope(ctx: FakeContext, record: InteractionRecord): Record<string, unknown> {
  const channel = ctx.state.channel(record.channelId);
  const user = ctx.state.user(record.userId);
  const memberPermissions = ctx.state.permissionsIn(user.id, channel).toString();
  const common = {
    id: record.id,
    application_id: ctx.application.id,
    type: record.type,
    token: record.token,
    version: 1,
    channel_id: channel.id,
    channel: { ...serializeChannel(ctx.state, channel), permissions: memberPermissions },
    app_permissions: ctx.state.permissionsIn(ctx.botUser.id, channel).toString(),
    locale: 'en-US',
    entitlements: [],
    attachment_size_limit: ctx.attachmentSizeLimit(channel),
  };
  if (!channel.guildId) {
    return {
      ...common,
      user: serializeUser(user),
      // "0" stands for the bot DM context of a guild-installed app.
      authorizing_integration_owners: { '0': '0' },
      context: channel.type === ChannelType.DM ? InteractionContextType.BotDM : InteractionContextType.PrivateChannel,
    };
  }
  const member = ctx.state.member(channel.guildId, user.id);
  if (!member) throw new Error(`${user.username} is not a member of guild ${channel.guildId}`);
  return {
    ...common,
    guild_id: channel.guildId,
    guild: { id: channel.guildId, locale: 'en-US', features: [] },
    guild_locale: 'en-US',
    member: { ...serializeMember(ctx.state, member), permissions: memberPermissions },
    authorizing_integration_owners: { '0': channel.guildId },
    context: InteractionContextType.Guild,
  };
}
