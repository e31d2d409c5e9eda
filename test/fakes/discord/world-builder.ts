/**
 * The part of `FakeDiscord` that shapes and reads the world: create guilds, members, roles, channels, threads and
 * DMs, change permissions, and look at messages and threads. Changes are announced to the connected bot as Discord
 * would (GUILD_CREATE, CHANNEL_CREATE, THREAD_CREATE, CHANNEL_UPDATE, GUILD_ROLE_*).
 */
import { GatewayIntentBits, MessageFlags } from 'discord.js';
import type { ChangeSignal } from './change-signal.js';
import type { FakeContext } from './context.js';
import type { FakeChannel, FakeGuild, FakeMessage, FakeRole, FakeUser } from './model.js';
import { permissionBits, type PermissionName } from './permissions.js';
import { serializeRole } from './serialize.js';
import { idOf, type FakeState, type Ref } from './state.js';
import {
  addMember,
  createGuild,
  createRole,
  createTextChannel,
  createThread,
  createUser,
  dmChannel,
  privateChannel,
  type TextChannelOptions,
  type UserOptions,
} from './world.js';

/** Who a permission overwrite is for. */
export type OverwriteTarget = FakeRole | FakeUser;

/** Allowed and denied permissions of an overwrite. */
export interface OverwriteChange {
  readonly allow?: readonly PermissionName[];
  readonly deny?: readonly PermissionName[];
}

/** World setup and inspection; `FakeDiscord` extends it. */
export class WorldBuilder {
  private context: FakeContext | null = null;

  constructor(
    /** Every record of the fake (for inspection beyond the helpers). */
    readonly state: FakeState,
    protected readonly signal: ChangeSignal,
  ) {}

  /** @internal Connects the builder to the routes' context. */
  protected attach(ctx: FakeContext): void {
    this.context = ctx;
  }

  private get ctx(): FakeContext {
    if (!this.context) throw new Error('the fake Discord is not set up yet');
    return this.context;
  }

  /** A new user, member of the given guilds. */
  createUser(options: UserOptions = {}, ...guilds: FakeGuild[]): FakeUser {
    const user = createUser(this.state, options);
    for (const guild of guilds) addMember(this.state, guild, user);
    return user;
  }

  /** Makes a user a member of a guild (with roles). */
  addMember(guild: FakeGuild, user: FakeUser, roles: readonly FakeRole[] = []): void {
    addMember(
      this.state,
      guild,
      user,
      roles.map((role) => role.id),
    );
    this.signal.notify();
  }

  /**
   * A new guild the bot is in (announced with GUILD_CREATE), with a #general channel; `shard` (`[id, count]`) picks
   * an id whose events go to that shard.
   */
  createGuild(
    name: string,
    owner: FakeUser,
    options: { shard?: readonly [number, number] } = {},
  ): { guild: FakeGuild; channel: FakeChannel; botRole: FakeRole } {
    const { guild, botRole } = createGuild(this.state, { name, owner, bot: this.ctx.botUser, shard: options.shard });
    const channel = createTextChannel(this.state, guild, { name: 'general' });
    this.ctx.announce.guildCreate(guild);
    return { guild, channel, botRole };
  }

  /**
   * A guild the bot was never added to (no GUILD_CREATE, no events from it), with a #general channel. Its members
   * reach the app only through a user install (`installForUser`).
   */
  createGuildWithoutBot(name: string, owner: FakeUser): { guild: FakeGuild; channel: FakeChannel } {
    const { guild } = createGuild(this.state, { name, owner, bot: this.ctx.botUser, withBot: false });
    const channel = createTextChannel(this.state, guild, { name: 'general' });
    this.signal.notify();
    return { guild, channel };
  }

  /** The user installs the app to their account: its commands work for them wherever Discord allows. */
  installForUser(user: FakeUser): void {
    this.state.userInstalls.add(user.id);
    this.signal.notify();
  }

  /** A DM between two users, or a group DM of three or more: a private channel, without the bot. */
  createPrivateChannel(...users: FakeUser[]): FakeChannel {
    const channel = privateChannel(this.state, users);
    this.signal.notify();
    return channel;
  }

  /** A new role in a guild. */
  createRole(guild: FakeGuild, name: string, permissions: readonly PermissionName[] = []): FakeRole {
    const role = createRole(this.state, guild, { name, permissions: permissionBits(permissions) });
    this.announceRole('GUILD_ROLE_CREATE', role);
    return role;
  }

  /** The @everyone role of a guild (its id is the guild's), the target of a channel's default overwrite. */
  everyoneRole(guild: FakeGuild = this.defaultGuild()): FakeRole {
    const role = this.state.rolesOf(guild.id).find((candidate) => candidate.id === guild.id);
    if (!role) throw new Error(`guild ${guild.id} has no @everyone role`);
    return role;
  }

  /** Replaces a role's permissions (e.g. `fake.botRole` to take a permission from the bot everywhere). */
  setRolePermissions(role: FakeRole, permissions: readonly PermissionName[]): void {
    role.permissions = permissionBits(permissions);
    this.announceRole('GUILD_ROLE_UPDATE', role);
  }

  /** Gives a member a role. */
  assignRole(user: FakeUser, role: FakeRole): void {
    const member = this.state.member(role.guildId, user.id);
    if (!member) throw new Error(`${user.username} is not in guild ${role.guildId}`);
    member.roleIds = [...new Set([...member.roleIds, role.id])];
    this.signal.notify();
  }

  /** A new text channel (announced with CHANNEL_CREATE). */
  createTextChannel(options: TextChannelOptions & { guild?: FakeGuild } = {}): FakeChannel {
    const channel = createTextChannel(this.state, options.guild ?? this.defaultGuild(), options);
    this.ctx.announce.channelCreate(channel);
    return channel;
  }

  /** A thread a member started (announced with THREAD_CREATE); from a message when `fromMessage` is given. */
  createThread(parent: Ref<FakeChannel>, name: string, owner: FakeUser, fromMessage?: FakeMessage): FakeChannel {
    const thread = createThread(this.state, this.state.channel(parent), {
      name,
      owner,
      ...(fromMessage ? { id: fromMessage.id } : {}),
    });
    if (fromMessage) {
      fromMessage.threadId = thread.id;
      fromMessage.flags |= MessageFlags.HasThread;
    }
    this.ctx.announce.channelCreate(thread);
    return thread;
  }

  /** The DM channel between the bot and a user. */
  openDm(user: FakeUser): FakeChannel {
    return dmChannel(this.state, user);
  }

  /** Sets (replaces) a channel's permission overwrite for a role or member. */
  setOverwrite(channel: Ref<FakeChannel>, target: OverwriteTarget, change: OverwriteChange): void {
    const record = this.state.channel(channel);
    const type = 'permissions' in target ? 0 : 1;
    const overwrite = {
      id: target.id,
      type,
      allow: permissionBits(change.allow ?? []),
      deny: permissionBits(change.deny ?? []),
    } as const;
    record.overwrites = [...record.overwrites.filter((o) => o.id !== target.id), overwrite];
    this.ctx.announce.channelUpdate(record);
  }

  /** Denies the bot permissions in one channel (a member overwrite, as a server admin would). */
  denyBotPermissions(channel: Ref<FakeChannel>, permissions: readonly PermissionName[]): void {
    this.setOverwrite(channel, this.ctx.botUser, { deny: permissions });
  }

  /** Marks a channel age-restricted or not. */
  setNsfw(channel: Ref<FakeChannel>, nsfw: boolean): void {
    const record = this.state.channel(channel);
    record.nsfw = nsfw;
    this.ctx.announce.channelUpdate(record);
  }

  /** Archives (and optionally locks) a thread, as Discord does after inactivity. */
  archiveThread(thread: Ref<FakeChannel>, locked = false): void {
    const record = this.state.channel(thread);
    if (!record.thread) throw new Error(`${record.id} is not a thread`);
    record.thread.archived = true;
    record.thread.locked = locked;
    record.thread.archivedAt = Date.now();
    this.ctx.announce.channelUpdate(record);
  }

  /** A message in its current state. */
  message(ref: Ref<FakeMessage>): FakeMessage {
    return this.state.message(ref);
  }

  /** The messages of a channel or thread that are not deleted, oldest first. */
  messagesIn(channel: Ref<FakeChannel>): FakeMessage[] {
    return this.state.messagesIn(idOf(channel));
  }

  /** Threads, optionally of one parent channel. */
  threads(parent?: Ref<FakeChannel>): FakeChannel[] {
    return this.state.threads(parent === undefined ? undefined : idOf(parent));
  }

  /** The first message (anywhere, current state, not deleted) matching `predicate`. */
  waitForMessage(predicate: (message: FakeMessage) => boolean, timeoutMs = 5000): Promise<FakeMessage> {
    return this.signal.until(
      () => [...this.state.messages.values()].find((m) => !m.deleted && predicate(m)),
      timeoutMs,
      () => `a matching message among ${this.state.messages.size}`,
    );
  }

  /** The first thread matching `predicate`. */
  waitForThread(predicate: (thread: FakeChannel) => boolean = () => true, timeoutMs = 5000): Promise<FakeChannel> {
    return this.signal.until(
      () => this.state.threads().find(predicate),
      timeoutMs,
      () => `a matching thread among ${this.state.threads().length}`,
    );
  }

  private defaultGuild(): FakeGuild {
    const first = this.state.guilds.values().next();
    if (first.done) throw new Error('the fake Discord has no guild');
    return first.value;
  }

  private announceRole(event: 'GUILD_ROLE_CREATE' | 'GUILD_ROLE_UPDATE', role: FakeRole): void {
    const data = { guild_id: role.guildId, role: serializeRole(role) };
    this.ctx.announce.raw(event, role.guildId, GatewayIntentBits.Guilds, data);
  }
}
