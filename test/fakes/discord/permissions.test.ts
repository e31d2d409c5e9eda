import { ChannelType, PermissionFlagsBits as P } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { FakeChannel, FakeGuild, FakeMember, FakeRole } from './model.js';
import { computePermissions, permissionBits, permissionNames } from './permissions.js';

const guild: FakeGuild = { id: '100', name: 'g', ownerId: '1', attachmentSizeLimit: 1, createdAt: 0 };
const everyone: FakeRole = {
  id: '100',
  guildId: '100',
  name: '@everyone',
  permissions: 0n,
  position: 0,
  managed: false,
};
const artists: FakeRole = { id: '200', guildId: '100', name: 'artists', permissions: 0n, position: 1, managed: false };

function setup(everyoneBits: bigint, artistBits: bigint) {
  const roles = new Map([
    [everyone.id, { ...everyone, permissions: everyoneBits }],
    [artists.id, { ...artists, permissions: artistBits }],
  ]);
  const member: FakeMember = { guildId: '100', userId: '7', roleIds: ['200'], nick: null, joinedAt: 0 };
  return { roles, member };
}

function channel(overwrites: FakeChannel['overwrites']): FakeChannel {
  return {
    id: '300',
    type: ChannelType.GuildText,
    guildId: '100',
    name: 'c',
    nsfw: false,
    topic: null,
    parentId: null,
    position: 0,
    overwrites,
    recipientIds: [],
    ownerId: null,
    thread: null,
    lastMessageId: null,
    messageCount: 0,
    rateLimitPerUser: 0,
    createdAt: 0,
  };
}

describe('computePermissions', () => {
  it('adds the member roles to @everyone', () => {
    const { roles, member } = setup(P.ViewChannel, P.AttachFiles);
    expect(computePermissions({ guild, roles, member, channel: null })).toBe(P.ViewChannel | P.AttachFiles);
  });

  it('applies @everyone, then role, then member overwrites', () => {
    const { roles, member } = setup(P.ViewChannel | P.SendMessages, 0n);
    const overwrites = [
      { id: '100', type: 0 as const, allow: 0n, deny: P.SendMessages },
      { id: '200', type: 0 as const, allow: P.SendMessages | P.AttachFiles, deny: 0n },
      { id: '7', type: 1 as const, allow: 0n, deny: P.AttachFiles },
    ];
    expect(computePermissions({ guild, roles, member, channel: channel(overwrites) })).toBe(
      P.ViewChannel | P.SendMessages,
    );
  });

  it('grants nothing in a channel the member cannot view', () => {
    const { roles, member } = setup(P.ViewChannel | P.SendMessages, 0n);
    const hidden = channel([{ id: '100', type: 0, allow: 0n, deny: P.ViewChannel }]);
    expect(computePermissions({ guild, roles, member, channel: hidden })).toBe(0n);
  });

  it('grants everything to administrators and the owner', () => {
    const { roles, member } = setup(0n, P.Administrator);
    const all = computePermissions({ guild, roles, member, channel: channel([]) });
    expect(all & P.ManageThreads).toBe(P.ManageThreads);
    const owner = { ...member, userId: '1', roleIds: [] };
    expect(computePermissions({ guild, roles, member: owner, channel: null })).toBe(all);
  });

  it('converts between names and bits', () => {
    expect(permissionNames(permissionBits(['SendMessages', 'AttachFiles']))).toEqual(['SendMessages', 'AttachFiles']);
  });
});
