/**
 * Whether a member could see, in Discord itself, what was posted in a channel: decided from what the interaction
 * carries (the member with their roles, the channel it comes from) and the guild's cached channels, roles and
 * permission overwrites, so showing another member's work to someone costs no request and shows nothing more than
 * Discord would.
 */
import {
  ChannelType,
  GuildMember,
  PermissionFlagsBits,
  type BaseInteraction,
  type Guild,
  type GuildBasedChannel,
} from 'discord.js';
import { isAgeRestricted } from './access.js';

/** Who is looking, and from where. */
export interface ChannelViewer {
  readonly id: string;
  /** The guild the question is asked in (cached), or null in a DM or when the bot does not know the guild. */
  readonly guild: Guild | null;
  /** The viewer as a guild member, with the roles the interaction carries; null when it cannot be known. */
  readonly member: GuildMember | null;
  /** Age-restricted content is shown only to someone asking from an age-restricted channel, as Discord does. */
  readonly inAgeRestrictedChannel: boolean;
}

/** The viewer an interaction describes. */
export function viewerOf(interaction: BaseInteraction): ChannelViewer {
  const guild = interaction.guild;
  const member =
    interaction.member instanceof GuildMember
      ? interaction.member
      : (guild?.members.resolve(interaction.user.id) ?? null);
  return {
    id: interaction.user.id,
    guild,
    member,
    inAgeRestrictedChannel: isAgeRestricted(interaction.channel),
  };
}

/** Reading what was posted before needs both: Discord hides a channel's past from members without the second. */
const TO_READ = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;

/**
 * Whether the viewer could read a message posted in `channel`: they may view the channel (for a thread, its parent;
 * a private thread also needs Manage Threads there, since its members are not known from the cache), and an
 * age-restricted channel only from an age-restricted one. A channel the bot does not know is not shown.
 */
export function canRead(viewer: ChannelViewer, channel: GuildBasedChannel | undefined): boolean {
  if (!channel || !viewer.member || channel.guildId !== viewer.guild?.id) return false;
  const place = channel.isThread() ? channel.parent : channel;
  if (!place) return false;
  const permissions = place.permissionsFor(viewer.member);
  if (!permissions.has(TO_READ)) return false;
  if (channel.type === ChannelType.PrivateThread && !permissions.has(PermissionFlagsBits.ManageThreads)) {
    if (!channel.members.cache.has(viewer.id)) return false;
  }
  return !isAgeRestricted(channel) || viewer.inAgeRestrictedChannel;
}
