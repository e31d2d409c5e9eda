/**
 * Where the app is installed and what that lets a member do, as Discord decides it: a guild install puts the bot in a
 * guild (and gives it a DM with each member), a user install lets that user run the app's commands anywhere — in
 * servers the bot is not in and in DMs and group DMs between users, where only the interaction webhook can answer.
 *
 * From this come each interaction's `context`, `authorizing_integration_owners` and `app_permissions`, and the refusal
 * of a command a member could not even see there (its `contexts` or `integration_types` rule it out).
 */
import { ApplicationIntegrationType, ChannelType, InteractionContextType, PermissionFlagsBits } from 'discord.js';
import type { RegisteredCommand } from './command-registry.js';
import type { FakeChannel } from './model.js';
import { permissionBits } from './permissions.js';
import type { FakeState } from './state.js';

/** `authorizing_integration_owners`: installation type ("0" guild, "1" user) → guild or user id ("0": the bot DM). */
export type AuthorizingOwners = Readonly<Record<string, string>>;

/** How an interaction reaches the app. */
export interface InteractionPlace {
  readonly context: InteractionContextType;
  readonly owners: AuthorizingOwners;
}

const GUILD = String(ApplicationIntegrationType.GuildInstall);
const USER = String(ApplicationIntegrationType.UserInstall);

/** Discord's defaults: a command without `integration_types` is for guild installs, without `contexts` usable anywhere. */
const DEFAULT_INTEGRATION_TYPES = [ApplicationIntegrationType.GuildInstall];
const ALL_CONTEXTS = [
  InteractionContextType.Guild,
  InteractionContextType.BotDM,
  InteractionContextType.PrivateChannel,
];

/** Whether the bot itself is in a channel: a member of its guild, or the other end of a bot DM. */
export function botIsIn(state: FakeState, channel: FakeChannel, botUserId: string): boolean {
  if (channel.guildId) return state.member(channel.guildId, botUserId) !== undefined;
  return isBotDm(channel);
}

/** A DM with the bot (the fake lists only the user as its recipient); DMs and group DMs between users are not. */
export function isBotDm(channel: FakeChannel): boolean {
  return channel.type === ChannelType.DM && channel.recipientIds.length === 1;
}

/** The interaction context of a channel. */
export function contextOf(channel: FakeChannel): InteractionContextType {
  if (channel.guildId) return InteractionContextType.Guild;
  return isBotDm(channel) ? InteractionContextType.BotDM : InteractionContextType.PrivateChannel;
}

/**
 * Where a command runs and on whose authority; throws (a test asking for what a member could not do) when the
 * member could not use `command` in `channel`. `command` undefined: a command the bot never registered, which the
 * fake still delivers as a guild-installed one, for tests that register nothing.
 */
export function placeOfCommand(
  state: FakeState,
  channel: FakeChannel,
  userId: string,
  botUserId: string,
  command: RegisteredCommand | undefined,
): InteractionPlace {
  const context = contextOf(channel);
  const types = command?.guild_id
    ? DEFAULT_INTEGRATION_TYPES
    : (command?.integration_types ?? DEFAULT_INTEGRATION_TYPES);
  const contexts = command?.guild_id ? [InteractionContextType.Guild] : (command?.contexts ?? ALL_CONTEXTS);
  const name = command ? `/${command.name}` : 'the command';
  if (!contexts.includes(context)) {
    throw new Error(`${name} is not registered for interaction context ${context} (its contexts: ${contexts})`);
  }
  const owners: Record<string, string> = {};
  if (types.includes(ApplicationIntegrationType.GuildInstall) && botIsIn(state, channel, botUserId)) {
    owners[GUILD] = channel.guildId ?? '0';
  }
  if (types.includes(ApplicationIntegrationType.UserInstall) && state.userInstalls.has(userId)) owners[USER] = userId;
  if (Object.keys(owners).length === 0) {
    throw new Error(
      `${name} cannot be used in channel ${channel.id}: the app is neither installed there (the bot is not in it) ` +
        `nor installed by the member for integration types ${types.join(', ')}`,
    );
  }
  return { context, owners };
}

/** Where a component or modal on a message runs: on the authority of the interaction that made the message. */
export function placeOfMessage(
  channel: FakeChannel,
  botUserId: string,
  state: FakeState,
  madeBy: AuthorizingOwners | null,
): InteractionPlace {
  const context = contextOf(channel);
  if (madeBy) return { context, owners: madeBy };
  // A message the bot posted itself: only possible where the bot is.
  if (!botIsIn(state, channel, botUserId)) throw new Error(`the bot cannot have posted in channel ${channel.id}`);
  return { context, owners: { [GUILD]: channel.guildId ?? '0' } };
}

/** What the interaction webhook may always do, in a channel without the bot (Discord, discord-api-docs#5316). */
const WEBHOOK_PERMISSIONS = PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks;

/** `app_permissions`: the bot's where it is; elsewhere what Discord grants the app's webhook. */
export function appPermissions(state: FakeState, channel: FakeChannel, botUserId: string, place: InteractionPlace) {
  if (place.context === InteractionContextType.PrivateChannel) {
    return WEBHOOK_PERMISSIONS | PermissionFlagsBits.MentionEveryone;
  }
  if (place.context === InteractionContextType.BotDM) {
    return WEBHOOK_PERMISSIONS | permissionBits(['MentionEveryone', 'UseExternalEmojis']);
  }
  if (botIsIn(state, channel, botUserId)) return state.permissionsIn(botUserId, channel);
  // Without a bot, the app acts with @everyone's permissions in the channel, plus its webhook's.
  return state.everyonePermissionsIn(channel) | WEBHOOK_PERMISSIONS;
}

/** Checks the installation fields of a command registration as Discord does; returns the problem, if any. */
export function installationProblem(command: {
  readonly contexts?: readonly number[] | null | undefined;
  readonly integration_types?: readonly number[] | undefined;
}): string | undefined {
  const types = command.integration_types;
  if (types !== undefined) {
    if (types.length === 0) return 'integration_types must not be empty';
    if (types.some((type) => type !== 0 && type !== 1)) return `unknown integration type in ${types.join(', ')}`;
  }
  const contexts = command.contexts;
  if (contexts) {
    if (contexts.length === 0) return 'contexts must not be empty';
    if (contexts.some((context) => context < 0 || context > 2)) return `unknown context in ${contexts.join(', ')}`;
    if (contexts.includes(InteractionContextType.PrivateChannel) && !(types ?? []).includes(1)) {
      return 'the PRIVATE_CHANNEL context needs the USER_INSTALL integration type';
    }
  }
  return undefined;
}
