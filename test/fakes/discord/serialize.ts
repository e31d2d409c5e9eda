/**
 * Turns the fake's records into the JSON shapes Discord sends (discord-api-types v10), for REST responses, Gateway
 * dispatches and interaction payloads.
 */
import { ChannelType } from 'discord.js';
import type { APIAttachment, APIMessage, APIRole, APIUser, RoleFlags, UserFlags } from 'discord.js';
import type { FakeAttachment, FakeChannel, FakeMember, FakeMessage, FakeRole, FakeUser } from './model.js';
import type { FakeState } from './state.js';

/** ISO-8601 timestamp as Discord writes them. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** A user object. */
export function serializeUser(user: FakeUser): APIUser {
  return {
    id: user.id,
    username: user.username,
    global_name: user.globalName,
    discriminator: '0',
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
  };
}

/** A role object. */
export function serializeRole(role: FakeRole): APIRole {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions.toString(),
    managed: role.managed,
    mentionable: false,
    flags: 0 as RoleFlags,
  };
}

/** A guild member without its user (as in MESSAGE_CREATE's `member`). */
export function serializeMemberFields(member: FakeMember) {
  return {
    roles: [...member.roleIds],
    nick: member.nick,
    avatar: null,
    banner: null,
    joined_at: isoTime(member.joinedAt),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

/** A guild member with its user. */
export function serializeMember(state: FakeState, member: FakeMember) {
  return { ...serializeMemberFields(member), user: serializeUser(state.user(member.userId)) };
}

/** A channel, thread or DM object. */
export function serializeChannel(state: FakeState, channel: FakeChannel): Record<string, unknown> {
  if (channel.type === ChannelType.DM) {
    return {
      id: channel.id,
      type: channel.type,
      last_message_id: channel.lastMessageId,
      recipients: channel.recipientIds.map((id) => serializeUser(state.user(id))),
      flags: 0,
    };
  }
  const common = {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guildId,
    name: channel.name,
    nsfw: channel.nsfw,
    last_message_id: channel.lastMessageId,
    rate_limit_per_user: channel.rateLimitPerUser,
    flags: 0,
  };
  if (channel.thread) {
    const thread = channel.thread;
    return {
      ...common,
      parent_id: channel.parentId,
      owner_id: channel.ownerId,
      message_count: channel.messageCount,
      total_message_sent: channel.messageCount,
      member_count: 1,
      applied_tags: [],
      thread_metadata: {
        archived: thread.archived,
        auto_archive_duration: thread.autoArchiveDuration,
        archive_timestamp: isoTime(thread.archivedAt),
        locked: thread.locked,
        create_timestamp: isoTime(thread.createdAt),
      },
    };
  }
  return {
    ...common,
    parent_id: channel.parentId,
    position: channel.position,
    topic: channel.topic,
    last_pin_timestamp: null,
    permission_overwrites: channel.overwrites.map((o) => ({
      id: o.id,
      type: o.type,
      allow: o.allow.toString(),
      deny: o.deny.toString(),
    })),
  };
}

/** An attachment object; its `url` points at the fake's own attachment route. */
export function serializeAttachment(attachment: FakeAttachment): APIAttachment {
  return {
    id: attachment.id,
    filename: attachment.filename,
    size: attachment.data.length,
    url: attachment.url,
    proxy_url: attachment.url,
    ...(attachment.contentType ? { content_type: attachment.contentType } : {}),
    ...(attachment.description ? { description: attachment.description } : {}),
    ...(attachment.title ? { title: attachment.title } : {}),
    ...(attachment.width !== null ? { width: attachment.width, height: attachment.height } : {}),
    ...(attachment.ephemeral ? { ephemeral: true } : {}),
  };
}

/** How much of a message to include: Gateway dispatches add guild and member fields. */
export interface MessageShape {
  readonly forGateway: boolean;
  /** False when the receiver lacks the MessageContent intent for this message. */
  readonly withContent: boolean;
}

const REST_SHAPE: MessageShape = { forGateway: false, withContent: true };

/** A message object in its current state. */
export function serializeMessage(state: FakeState, message: FakeMessage, shape: MessageShape = REST_SHAPE): APIMessage {
  const body = {
    id: message.id,
    channel_id: message.channelId,
    author: serializeUser(state.user(message.authorId)),
    content: shape.withContent ? message.content : '',
    timestamp: isoTime(message.createdAt),
    edited_timestamp: message.editedAt === null ? null : isoTime(message.editedAt),
    tts: message.tts,
    mention_everyone: message.mentionEveryone,
    mentions: message.mentionUserIds.map((id) => mentionedUser(state, message, id, shape.forGateway)),
    mention_roles: [...message.mentionRoleIds],
    attachments: shape.withContent ? message.attachments.map(serializeAttachment) : [],
    embeds: shape.withContent ? structuredClone(message.embeds) : [],
    components: shape.withContent ? structuredClone(message.components) : [],
    pinned: message.pinned,
    type: message.type,
    flags: message.flags,
    ...(message.reactions.length > 0 ? { reactions: message.reactions.map(serializeReaction) } : {}),
    ...(message.nonce !== null ? { nonce: message.nonce } : {}),
    ...(message.position !== null ? { position: message.position } : {}),
    ...(message.webhookId ? { webhook_id: message.webhookId, application_id: message.webhookId } : {}),
    ...referenceFields(state, message),
    ...interactionFields(state, message),
    ...threadFields(state, message),
    ...(shape.forGateway ? gatewayFields(state, message) : {}),
  };
  return body as APIMessage;
}

function mentionedUser(state: FakeState, message: FakeMessage, userId: string, withMember: boolean) {
  const user = serializeUser(state.user(userId));
  const member = message.guildId && withMember ? state.member(message.guildId, userId) : undefined;
  return member ? { ...user, member: serializeMemberFields(member) } : user;
}

function serializeReaction(name: string) {
  return {
    count: 1,
    count_details: { burst: 0, normal: 1 },
    me: true,
    me_burst: false,
    burst_colors: [],
    emoji: { id: null, name },
  };
}

function referenceFields(state: FakeState, message: FakeMessage) {
  if (!message.reference) return {};
  const referenced = state.messages.get(message.reference.messageId);
  return {
    message_reference: {
      type: 0,
      message_id: message.reference.messageId,
      channel_id: message.reference.channelId,
      ...(message.reference.guildId ? { guild_id: message.reference.guildId } : {}),
    },
    // Discord includes the replied-to message one level deep, and null once it is deleted.
    referenced_message:
      referenced && !referenced.deleted
        ? { ...serializeMessage(state, referenced), referenced_message: undefined }
        : null,
  };
}

function interactionFields(state: FakeState, message: FakeMessage) {
  const origin = message.interaction;
  if (!origin) return {};
  const user = serializeUser(state.user(origin.userId));
  return {
    interaction_metadata: {
      id: origin.interactionId,
      type: origin.interactionType,
      user,
      authorizing_integration_owners: origin.authorizingOwners,
      ...(origin.commandName ? { name: origin.commandName, command_type: 1 } : {}),
      ...(origin.interactedMessageId ? { interacted_message_id: origin.interactedMessageId } : {}),
    },
    // The deprecated `interaction` field is still sent for command responses, and discord.js reads it.
    ...(origin.commandName
      ? { interaction: { id: origin.interactionId, type: origin.interactionType, name: origin.commandName, user } }
      : {}),
  };
}

function threadFields(state: FakeState, message: FakeMessage) {
  const thread = message.threadId ? state.channels.get(message.threadId) : undefined;
  return thread ? { thread: serializeChannel(state, thread) } : {};
}

function gatewayFields(state: FakeState, message: FakeMessage) {
  const channel = state.channels.get(message.channelId);
  const member = message.guildId && !message.webhookId ? state.member(message.guildId, message.authorId) : undefined;
  return {
    ...(message.guildId ? { guild_id: message.guildId } : {}),
    ...(channel ? { channel_type: channel.type } : {}),
    ...(member ? { member: serializeMemberFields(member) } : {}),
  };
}
