/**
 * Discord's permission arithmetic: guild-level permissions from @everyone and the member's roles, then the channel's
 * overwrites (@everyone, roles, member) in that order; threads use their parent channel's overwrites.
 */
import { PermissionFlagsBits } from 'discord.js';
import type { FakeChannel, FakeGuild, FakeMember, FakeRole } from './model.js';

/** A permission by the name discord.js uses (`'SendMessages'`, `'AttachFiles'`...). */
export type PermissionName = keyof typeof PermissionFlagsBits;

const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** The bitfield for a list of permission names. */
export function permissionBits(names: readonly PermissionName[]): bigint {
  return names.reduce((bits, name) => bits | PermissionFlagsBits[name], 0n);
}

/** The names of the bits set in a bitfield (for error messages and tests). */
export function permissionNames(bits: bigint): PermissionName[] {
  return (Object.keys(PermissionFlagsBits) as PermissionName[]).filter(
    (name) => (bits & PermissionFlagsBits[name]) === PermissionFlagsBits[name],
  );
}

/** What @everyone may do in a new guild (Discord's defaults, trimmed to text). */
export const DEFAULT_EVERYONE_PERMISSIONS = permissionBits([
  'ViewChannel',
  'SendMessages',
  'SendMessagesInThreads',
  'CreatePublicThreads',
  'EmbedLinks',
  'AttachFiles',
  'AddReactions',
  'UseExternalEmojis',
  'ReadMessageHistory',
  'UseApplicationCommands',
  'ChangeNickname',
]);

/** What the bot's managed role grants: what an invite link for an image bot asks for. */
export const DEFAULT_BOT_PERMISSIONS = permissionBits([
  'ViewChannel',
  'SendMessages',
  'SendMessagesInThreads',
  'CreatePublicThreads',
  'ManageThreads',
  'EmbedLinks',
  'AttachFiles',
  'ReadMessageHistory',
  'AddReactions',
  'UseExternalEmojis',
]);

/** The inputs of a permission computation. */
export interface PermissionContext {
  readonly guild: FakeGuild;
  readonly roles: ReadonlyMap<string, FakeRole>;
  readonly member: FakeMember;
  /** The channel whose overwrites apply (for a thread: its parent). */
  readonly channel: FakeChannel | null;
}

/** The member's permissions in the channel (or guild-wide when `channel` is null). */
export function computePermissions({ guild, roles, member, channel }: PermissionContext): bigint {
  if (guild.ownerId === member.userId) return ALL_PERMISSIONS;
  const everyone = roles.get(guild.id)?.permissions ?? 0n;
  const base = member.roleIds.reduce((bits, id) => bits | (roles.get(id)?.permissions ?? 0n), everyone);
  if ((base & PermissionFlagsBits.Administrator) !== 0n) return ALL_PERMISSIONS;
  if (!channel) return base;
  return applyOverwrites(base, channel, member);
}

function applyOverwrites(base: bigint, channel: FakeChannel, member: FakeMember): bigint {
  let bits = base;
  const everyone = channel.overwrites.find((o) => o.type === 0 && o.id === channel.guildId);
  if (everyone) bits = (bits & ~everyone.deny) | everyone.allow;
  let roleAllow = 0n;
  let roleDeny = 0n;
  for (const overwrite of channel.overwrites) {
    if (overwrite.type === 0 && member.roleIds.includes(overwrite.id)) {
      roleAllow |= overwrite.allow;
      roleDeny |= overwrite.deny;
    }
  }
  bits = (bits & ~roleDeny) | roleAllow;
  const own = channel.overwrites.find((o) => o.type === 1 && o.id === member.userId);
  if (own) bits = (bits & ~own.deny) | own.allow;
  // Without ViewChannel nothing else in the channel applies.
  return (bits & PermissionFlagsBits.ViewChannel) === 0n ? 0n : bits;
}
