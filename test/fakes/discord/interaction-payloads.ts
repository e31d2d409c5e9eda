/**
 * The common envelope of every INTERACTION_CREATE payload, as Discord sends it: the channel object with the member's
 * permissions, `member` (guild) or `user` (DM, group DM), `app_permissions` (the bot's where it is, the app webhook's
 * elsewhere: installation.ts), `entitlements`, `authorizing_integration_owners`, `context`, the member's `locale` and
 * the attachment limit. discord.js drops interactions without `entitlements` and `authorizing_integration_owners`.
 */
import type { FakeContext } from './context.js';
import { appPermissions } from './installation.js';
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
    app_permissions: appPermissions(ctx.state, channel, ctx.botUser.id, record.place).toString(),
    locale: user.locale,
    entitlements: [],
    attachment_size_limit: ctx.attachmentSizeLimit(channel),
    authorizing_integration_owners: record.place.owners,
    context: record.place.context,
  };
  if (!channel.guildId) return { ...common, user: serializeUser(user) };
  const member = ctx.state.member(channel.guildId, user.id);
  if (!member) throw new Error(`${user.username} is not a member of guild ${channel.guildId}`);
  return {
    ...common,
    guild_id: channel.guildId,
    guild: { id: channel.guildId, locale: 'en-US', features: [] },
    guild_locale: 'en-US',
    member: { ...serializeMember(ctx.state, member), permissions: memberPermissions },
  };
}
