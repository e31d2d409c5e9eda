/**
 * Who may use the bot where, and whether the bot can do its job in a channel. Checked from the interaction alone
 * (Discord sends the member's roles and the bot's permissions with it), so a refusal costs no request.
 */
import {
  InteractionContextType,
  PermissionFlagsBits,
  type BaseInteraction,
  type Channel,
  type Message,
} from 'discord.js';
import type { Config } from '../config.js';
import { UserFacingError } from '../errors.js';

/** The permissions without which a result cannot be shown at all. */
const REQUIRED_PERMISSIONS: ReadonlyArray<readonly [bigint, string]> = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.EmbedLinks, 'Embed Links'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
];

const THREAD_PERMISSIONS: ReadonlyArray<readonly [bigint, string]> = REQUIRED_PERMISSIONS.map(([flag, name]) =>
  flag === PermissionFlagsBits.SendMessages
    ? [PermissionFlagsBits.SendMessagesInThreads, 'Send Messages in Threads']
    : [flag, name],
);

/** Throws a UserFacingError when the member may not use the bot here, or the bot lacks what it needs. */
export function checkAccess(interaction: BaseInteraction, limits: Config['limits']): void {
  const channel = interaction.channel;
  // Outside a guild too: a DM is no allowed channel and carries no roles, so restrictions are not bypassed there.
  checkPlaceAndRoles(
    [interaction.channelId, channel?.isThread() ? channel.parentId : null],
    () => memberRoles(interaction),
    limits,
  );
  // Without the bot there, the answer goes through the interaction's webhook, which needs no channel permission.
  if (!interaction.inGuild() || !botIsPresent(interaction)) return;
  // In a thread Discord checks Send Messages in Threads instead of Send Messages.
  const required = channel?.isThread() ? THREAD_PERMISSIONS : REQUIRED_PERMISSIONS;
  const missing = required.filter(([flag]) => !interaction.appPermissions.has(flag)).map(([, name]) => name);
  if (missing.length > 0) {
    throw new UserFacingError(
      'missing-permission',
      `I cannot post results in this channel: I lack the ${missing.join(', ')} permission${missing.length > 1 ? 's' : ''} here. Ask a moderator to grant ${missing.length > 1 ? 'them' : 'it'}.`,
      {
        detail: `missing permissions in channel ${interaction.channelId}: ${missing.join(', ')}`,
        params: { permissions: missing.join(', ') },
      },
    );
  }
}

/** Throws a UserFacingError when the author of a message (a reply that refines) may not use the bot there. */
export function checkMessageAccess(message: Message, limits: Config['limits']): void {
  const channel = message.channel;
  const roles = () => (message.member ? [...message.member.roles.cache.keys()] : []);
  checkPlaceAndRoles([message.channelId, channel.isThread() ? channel.parentId : null], roles, limits);
}

/** `roles` is called only when roles are restricted: discord.js builds a collection of the member's roles for it. */
function checkPlaceAndRoles(
  channelIds: ReadonlyArray<string | null>,
  roles: () => readonly string[],
  limits: Config['limits'],
): void {
  const allowedChannels = limits.allowedChannelIds;
  if (allowedChannels.length > 0 && !channelIds.some((id) => id !== null && allowedChannels.includes(id))) {
    throw new UserFacingError(
      'channel-not-allowed',
      'I am not allowed to make images in this channel; try one of the bot channels.',
    );
  }
  if (limits.allowedRoleIds.length > 0 && !roles().some((role) => limits.allowedRoleIds.includes(role))) {
    throw new UserFacingError('role-not-allowed', 'Making images here needs a role you do not have; ask a moderator.');
  }
}

/**
 * Whether a channel is age-restricted (Discord's NSFW flag), where adult workflows may run. A thread is as its parent
 * is; a DM, or a channel the bot does not know, is not.
 */
export function isAgeRestricted(channel: Channel | null | undefined): boolean {
  if (!channel) return false;
  const place = channel.isThread() ? channel.parent : channel;
  return place !== null && 'nsfw' in place && place.nsfw === true;
}

/**
 * Whether the bot itself is where the interaction happened: a member of the server (the server installed the app) or
 * in its own DM. A member's user install also reaches servers without the bot and DMs and group DMs between users;
 * there Discord delivers no messages to the bot and refuses its channel calls (50001), and only the interaction's
 * webhook answers.
 */
export function botIsPresent(interaction: BaseInteraction): boolean {
  switch (interaction.context) {
    case InteractionContextType.BotDM:
      return true;
    case InteractionContextType.PrivateChannel:
      return false;
    case InteractionContextType.Guild:
      return interaction.authorizingIntegrationOwners.guildId !== null;
    default:
      // No context: a payload from before user installs existed, so from a guild install.
      return true;
  }
}

const THREAD_START_PERMISSIONS =
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory;

/**
 * Whether the bot may start a thread on its result here, so the card offers one (sessions work by replies anyway). Not
 * in DMs, not inside a thread, not where the bot is absent (a member's user install), and not without the permissions
 * Discord checks to start a thread on a message and to post in it.
 */
export function canStartThreads(interaction: BaseInteraction): boolean {
  if (!interaction.inGuild() || !botIsPresent(interaction)) return false;
  if (interaction.channel?.isThread()) return false;
  return interaction.appPermissions.has(THREAD_START_PERMISSIONS);
}

/** `canStartThreads` for a refine's result: the bot's permissions from the guild as discord.js holds it. */
export function canStartThreadsIn(message: Message): boolean {
  if (!message.inGuild() || message.channel.isThread()) return false;
  return message.channel.permissionsFor(message.client.user)?.has(THREAD_START_PERMISSIONS) ?? false;
}

function memberRoles(interaction: BaseInteraction): string[] {
  const roles = interaction.member?.roles;
  if (!roles) return [];
  return Array.isArray(roles) ? roles : [...roles.cache.keys()];
}
