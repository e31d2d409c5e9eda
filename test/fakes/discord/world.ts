/**
 * Building the fake's world: users, guilds (with @everyone and the bot's managed role), members, channels,
 * threads and DMs, each with Discord's defaults, plus the GUILD_CREATE payload the Gateway sends for a guild.
 */
import { ChannelType } from 'discord.js';
import type { FakeChannel, FakeGuild, FakeMember, FakeOverwrite, FakeRole, FakeUser } from './model.js';
import {
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  permissionBits,
  type PermissionName,
} from './permissions.js';
import { isoTime, serializeChannel, serializeMember, serializeRole } from './serialize.js';
import type { FakeState } from './state.js';

/** Discord's attachment limit for guilds without boosts (10 MiB). */
export const DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;

/** Options for a new user. */
export interface UserOptions {
  readonly username?: string;
  readonly globalName?: string | null;
  /** Discord's locale code (default `en-US`). */
  readonly locale?: string;
  readonly bot?: boolean;
}

/** Creates a user. */
export function createUser(state: FakeState, options: UserOptions = {}): FakeUser {
  const id = state.ids.next();
  const username = options.username ?? `member${id.slice(-4)}`;
  return state.addUser({
    id,
    username,
    globalName: options.globalName ?? username,
    bot: options.bot ?? false,
    locale: options.locale ?? 'en-US',
  });
}

/** Options for a new guild. */
export interface GuildOptions {
  readonly name?: string;
  readonly owner: FakeUser;
  readonly bot: FakeUser;
  readonly everyonePermissions?: bigint;
  readonly botPermissions?: bigint;
  readonly attachmentSizeLimit?: number;
  /** False for a server the bot was never added to (members may still use the app there through a user install). */
  readonly withBot?: boolean;
  /** `[id, count]`: an id whose events Discord sends to this shard (by default any id). */
  readonly shard?: readonly [number, number];
}

/** A new guild with its @everyone role, the bot's managed role, and the owner and bot as members. */
export function createGuild(state: FakeState, options: GuildOptions): { guild: FakeGuild; botRole: FakeRole } {
  const id = options.shard ? state.ids.nextOnShard(options.shard[0], options.shard[1]) : state.ids.next();
  const guild = state.addGuild({
    id,
    name: options.name ?? 'Test Guild',
    ownerId: options.owner.id,
    attachmentSizeLimit: options.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_SIZE_LIMIT,
    createdAt: Date.now(),
  });
  const everyone = options.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS;
  state.addRole({ id, guildId: id, name: '@everyone', permissions: everyone, position: 0, managed: false });
  const botRole = createRole(state, guild, {
    name: options.bot.username,
    permissions: options.botPermissions ?? DEFAULT_BOT_PERMISSIONS,
    managed: true,
  });
  addMember(state, guild, options.owner, []);
  if (options.withBot !== false) addMember(state, guild, options.bot, [botRole.id]);
  return { guild, botRole };
}

/** Options for a new role. */
export interface RoleOptions {
  readonly name?: string;
  readonly permissions?: bigint;
  readonly managed?: boolean;
}

/** Creates a role at the top of the guild's list. */
export function createRole(state: FakeState, guild: FakeGuild, options: RoleOptions = {}): FakeRole {
  const position = state.rolesOf(guild.id).length;
  return state.addRole({
    id: state.ids.next(),
    guildId: guild.id,
    name: options.name ?? `role ${position}`,
    permissions: options.permissions ?? 0n,
    position,
    managed: options.managed ?? false,
  });
}

/** Makes a user a member of a guild. */
export function addMember(state: FakeState, guild: FakeGuild, user: FakeUser, roleIds: string[] = []): FakeMember {
  return state.addMember({ guildId: guild.id, userId: user.id, roleIds, nick: null, joinedAt: Date.now() });
}

/** Options for a new text channel. */
export interface TextChannelOptions {
  readonly name?: string;
  readonly nsfw?: boolean;
  readonly topic?: string | null;
  readonly overwrites?: FakeOverwrite[];
}

type ChannelDefaults = Omit<FakeChannel, 'id' | 'type' | 'guildId' | 'name' | 'createdAt'>;

/** Fresh defaults for a channel (new arrays each time: channels must not share them). */
function channelDefaults(): ChannelDefaults {
  return {
    nsfw: false,
    topic: null,
    parentId: null,
    position: 0,
    overwrites: [],
    recipientIds: [],
    ownerId: null,
    thread: null,
    lastMessageId: null,
    messageCount: 0,
    rateLimitPerUser: 0,
  };
}

/** Creates a guild text channel. */
export function createTextChannel(state: FakeState, guild: FakeGuild, options: TextChannelOptions = {}): FakeChannel {
  return state.addChannel({
    ...channelDefaults(),
    id: state.ids.next(),
    type: ChannelType.GuildText,
    guildId: guild.id,
    name: options.name ?? 'general',
    nsfw: options.nsfw ?? false,
    topic: options.topic ?? null,
    position: state.channelsOf(guild.id).length,
    overwrites: options.overwrites ?? [],
    createdAt: Date.now(),
  });
}

/** Creates a thread under a text channel, started by `owner` (from a message when `id` is that message's id). */
export function createThread(
  state: FakeState,
  parent: FakeChannel,
  options: { name: string; owner: FakeUser; id?: string; type?: ChannelType.PublicThread | ChannelType.PrivateThread },
): FakeChannel {
  if (parent.guildId === null || parent.thread) throw new Error('threads live under guild text channels');
  const now = Date.now();
  return state.addChannel({
    ...channelDefaults(),
    id: options.id ?? state.ids.next(),
    type: options.type ?? ChannelType.PublicThread,
    guildId: parent.guildId,
    name: options.name,
    nsfw: parent.nsfw,
    parentId: parent.id,
    ownerId: options.owner.id,
    thread: { archived: false, locked: false, autoArchiveDuration: 4320, archivedAt: now, createdAt: now },
    createdAt: now,
  });
}

/** The DM channel between the bot and a user (created once). */
export function dmChannel(state: FakeState, user: FakeUser): FakeChannel {
  const existing = state.dmWith(user.id);
  if (existing) return existing;
  return state.addChannel({
    ...channelDefaults(),
    id: state.ids.next(),
    type: ChannelType.DM,
    guildId: null,
    name: null,
    recipientIds: [user.id],
    createdAt: Date.now(),
  });
}

/** A DM between users (two recipients) or a group DM (more): a private channel the bot is not in. */
export function privateChannel(state: FakeState, users: readonly FakeUser[]): FakeChannel {
  if (users.length < 2) throw new Error('a private channel has at least two users');
  return state.addChannel({
    ...channelDefaults(),
    id: state.ids.next(),
    type: users.length === 2 ? ChannelType.DM : ChannelType.GroupDM,
    guildId: null,
    name: users.length === 2 ? null : users.map((user) => user.username).join(', '),
    recipientIds: users.map((user) => user.id),
    createdAt: Date.now(),
  });
}

/** The world every fake starts with. */
export interface DefaultWorld {
  readonly owner: FakeUser;
  readonly guild: FakeGuild;
  readonly botRole: FakeRole;
  readonly channel: FakeChannel;
  readonly member: FakeUser;
}

/** One guild owned by `owner`, with the bot, a #general channel and a member called alice. */
export function seedDefaultWorld(
  state: FakeState,
  bot: FakeUser,
  options: { botPermissions?: readonly PermissionName[]; attachmentSizeLimit?: number },
): DefaultWorld {
  const owner = createUser(state, { username: 'owner' });
  const { guild, botRole } = createGuild(state, {
    owner,
    bot,
    ...(options.botPermissions ? { botPermissions: permissionBits(options.botPermissions) } : {}),
    ...(options.attachmentSizeLimit ? { attachmentSizeLimit: options.attachmentSizeLimit } : {}),
  });
  const channel = createTextChannel(state, guild, { name: 'general' });
  const member = createUser(state, { username: 'alice' });
  addMember(state, guild, member);
  return { owner, guild, botRole, channel, member };
}

/** The GUILD_CREATE payload: the full guild with roles, members, channels and active threads. */
export function guildCreatePayload(state: FakeState, guild: FakeGuild, botUserId: string) {
  const channels = state.channelsOf(guild.id);
  const botMember = state.member(guild.id, botUserId);
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    premium_progress_bar_enabled: false,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    application_id: null,
    preferred_locale: 'en-US',
    features: [],
    emojis: [],
    stickers: [],
    roles: state.rolesOf(guild.id).map(serializeRole),
    max_members: 500000,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    hub_type: null,
    incidents_data: null,
    joined_at: isoTime(botMember?.joinedAt ?? guild.createdAt),
    large: false,
    unavailable: false,
    lazy: true,
    member_count: state.membersOf(guild.id).length,
    // Like Discord without the GuildMembers intent, only the bot's own member comes with the guild.
    members: botMember ? [serializeMember(state, botMember)] : [],
    channels: channels.filter((c) => !c.thread).map((c) => serializeChannel(state, c)),
    threads: channels.filter((c) => c.thread && !c.thread.archived).map((c) => serializeChannel(state, c)),
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
