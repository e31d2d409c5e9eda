/**
 * Everything the fake Discord knows: users, guilds, roles, members, channels, messages. Pure data and lookups; the
 * routes and `FakeDiscord` decide what to tell the bot about each change.
 */
import { ChannelType } from 'discord.js';
import { computePermissions, permissionBits } from './permissions.js';
import { SnowflakeGenerator } from './snowflake.js';
import type { FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole, FakeUser } from './model.js';

/** Where a test or route names something: the record itself or its id. */
export type Ref<T extends { readonly id: string }> = T | string;

/** The id of a record or of a raw id. */
export function idOf<T extends { readonly id: string }>(ref: Ref<T>): string {
  return typeof ref === 'string' ? ref : ref.id;
}

/** Thrown by lookups of ids the fake does not know, so a test mistake is loud. */
export class UnknownEntityError extends Error {
  override readonly name = 'UnknownEntityError';
}

/** The fake's whole world. */
export class FakeState {
  readonly ids = new SnowflakeGenerator();
  readonly users = new Map<string, FakeUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly roles = new Map<string, FakeRole>();
  /** Keyed by `${guildId}:${userId}`. */
  readonly members = new Map<string, FakeMember>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage>();
  /** Every uploaded file by attachment id, served at its URL even after its message changes. */
  readonly attachments = new Map<string, FakeAttachment>();
  /** Users who installed the app to their account (a user install): its commands follow them everywhere. */
  readonly userInstalls = new Set<string>();

  user(ref: Ref<FakeUser>): FakeUser {
    return this.lookup(this.users, idOf(ref), 'user');
  }

  guild(ref: Ref<FakeGuild>): FakeGuild {
    return this.lookup(this.guilds, idOf(ref), 'guild');
  }

  channel(ref: Ref<FakeChannel>): FakeChannel {
    return this.lookup(this.channels, idOf(ref), 'channel');
  }

  message(ref: Ref<FakeMessage>): FakeMessage {
    return this.lookup(this.messages, idOf(ref), 'message');
  }

  member(guildId: string, userId: string): FakeMember | undefined {
    return this.members.get(`${guildId}:${userId}`);
  }

  addUser(user: FakeUser): FakeUser {
    this.users.set(user.id, user);
    return user;
  }

  addGuild(guild: FakeGuild): FakeGuild {
    this.guilds.set(guild.id, guild);
    return guild;
  }

  addRole(role: FakeRole): FakeRole {
    this.roles.set(role.id, role);
    return role;
  }

  addMember(member: FakeMember): FakeMember {
    this.members.set(`${member.guildId}:${member.userId}`, member);
    return member;
  }

  addChannel(channel: FakeChannel): FakeChannel {
    this.channels.set(channel.id, channel);
    return channel;
  }

  addMessage(message: FakeMessage): FakeMessage {
    this.messages.set(message.id, message);
    return message;
  }

  rolesOf(guildId: string): FakeRole[] {
    return [...this.roles.values()].filter((role) => role.guildId === guildId).sort((a, b) => a.position - b.position);
  }

  membersOf(guildId: string): FakeMember[] {
    return [...this.members.values()].filter((member) => member.guildId === guildId);
  }

  channelsOf(guildId: string): FakeChannel[] {
    return [...this.channels.values()].filter((channel) => channel.guildId === guildId);
  }

  /** Threads, optionally only those of one parent channel, oldest first. */
  threads(parentId?: string): FakeChannel[] {
    return [...this.channels.values()].filter(
      (channel) => channel.thread !== null && (parentId === undefined || channel.parentId === parentId),
    );
  }

  /** Messages of a channel that are not deleted, oldest first. */
  messagesIn(channelId: string): FakeMessage[] {
    return [...this.messages.values()].filter((message) => message.channelId === channelId && !message.deleted);
  }

  /** The DM channel between the bot and a user, if one exists (the fake lists only the user as its recipient). */
  dmWith(userId: string): FakeChannel | undefined {
    return [...this.channels.values()].find(
      (c) => c.type === ChannelType.DM && c.recipientIds.length === 1 && c.recipientIds[0] === userId,
    );
  }

  /** The channel whose permission overwrites apply (a thread's parent). */
  permissionChannel(channel: FakeChannel): FakeChannel {
    return channel.parentId ? this.channel(channel.parentId) : channel;
  }

  /**
   * A user's permissions in a channel; DMs allow everything a DM allows, non-members get nothing. The bot is in a DM
   * only when it is the DM with the bot (listed with one recipient); DMs and group DMs between users shut it out.
   */
  permissionsIn(userId: string, channel: FakeChannel): bigint {
    if (!channel.guildId) {
      const inside = channel.recipientIds.includes(userId) || channel.recipientIds.length === 1;
      return inside ? DM_PERMISSIONS : 0n;
    }
    const member = this.member(channel.guildId, userId);
    if (!member) return 0n;
    const guild = this.guild(channel.guildId);
    return computePermissions({ guild, roles: this.roles, member, channel: this.permissionChannel(channel) });
  }

  /** What @everyone may do in a guild channel (its overwrite applied): the base of an app without a bot there. */
  everyonePermissionsIn(channel: FakeChannel): bigint {
    if (!channel.guildId) return 0n;
    // A member with no role and no overwrite of their own: @everyone alone (guild id as user id: never the owner).
    const nobody = { guildId: channel.guildId, userId: channel.guildId, roleIds: [], nick: null, joinedAt: 0 };
    const guild = this.guild(channel.guildId);
    return computePermissions({ guild, roles: this.roles, member: nobody, channel: this.permissionChannel(channel) });
  }

  /** A user's guild-wide permissions. */
  guildPermissions(userId: string, guildId: string): bigint {
    const member = this.member(guildId, userId);
    if (!member) return 0n;
    return computePermissions({ guild: this.guild(guildId), roles: this.roles, member, channel: null });
  }

  private lookup<T>(map: Map<string, T>, id: string, kind: string): T {
    const found = map.get(id);
    if (!found) throw new UnknownEntityError(`the fake Discord has no ${kind} with id ${id}`);
    return found;
  }
}

/** What Discord reports as a bot's permissions in a DM (`app_permissions` of a DM interaction). */
const DM_PERMISSIONS = permissionBits([
  'ViewChannel',
  'SendMessages',
  'EmbedLinks',
  'AttachFiles',
  'ReadMessageHistory',
  'AddReactions',
  'UseExternalEmojis',
  'UseApplicationCommands',
]);
