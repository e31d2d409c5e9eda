import {
  ApplicationIntegrationType,
  DiscordAPIError,
  Events,
  InteractionContextType,
  PermissionFlagsBits,
  Routes,
  type Interaction,
} from 'discord.js';
import { describe, expect, it } from 'vitest';
import { useFakeDiscord } from './test-harness.js';

const ANYWHERE = {
  name: 'imagine',
  description: 'Draw',
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel],
};

describe('user installs and interaction contexts', () => {
  const h = useFakeDiscord();

  async function registerGlobally(commands: unknown[]) {
    return h.client.rest.put(Routes.applicationCommands(h.fake.applicationId), { body: commands });
  }

  /** A member with a user install, in a server without the bot. */
  function travellerAbroad() {
    const traveller = h.fake.createUser({ username: 'traveller' });
    h.fake.installForUser(traveller);
    const { guild, channel } = h.fake.createGuildWithoutBot('Elsewhere', h.fake.owner);
    h.fake.addMember(guild, traveller);
    return { traveller, guild, channel };
  }

  it('refuses a registration whose contexts or integration types Discord would refuse', async () => {
    const refused = [
      { ...ANYWHERE, integration_types: [ApplicationIntegrationType.GuildInstall] },
      { ...ANYWHERE, integration_types: [] },
      { ...ANYWHERE, contexts: [3] },
      { ...ANYWHERE, integration_types: [2] },
    ];
    for (const command of refused) {
      const error = await registerGlobally([command]).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(command)).toBeInstanceOf(DiscordAPIError);
      expect((error as DiscordAPIError).code).toBe(50035);
    }
    await expect(registerGlobally([ANYWHERE])).resolves.toHaveLength(1);
  });

  it('delivers a user-installed command from a server without the bot, with the webhook’s permissions only', async () => {
    await registerGlobally([ANYWHERE]);
    const { traveller, guild, channel } = travellerAbroad();
    h.fake.setOverwrite(channel, h.fake.everyoneRole(guild), { deny: ['SendMessages'] });
    const received = new Promise<Interaction>((resolve) => h.client.once(Events.InteractionCreate, resolve));
    const handle = await h.fake.sendSlashCommand({ user: traveller, channel, name: 'imagine' });
    const interaction = await received;
    expect(interaction.context).toBe(InteractionContextType.Guild);
    expect(interaction.authorizingIntegrationOwners.userId).toBe(traveller.id);
    expect(interaction.authorizingIntegrationOwners.guildId).toBeNull();
    expect(interaction.guild).toBeNull();
    expect(interaction.appPermissions.has(PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks)).toBe(true);
    expect(interaction.appPermissions.has(PermissionFlagsBits.SendMessages)).toBe(false);
    expect(handle.payload['member']).toBeDefined();
  });

  it('refuses the bot’s channel calls where it is not, with 50001 Missing Access, and tells it nothing from there', async () => {
    const { traveller, channel } = travellerAbroad();
    const group = h.fake.createPrivateChannel(traveller, h.fake.member, h.fake.owner);
    for (const place of [channel, group]) {
      const error = await h.client.rest
        .post(Routes.channelMessages(place.id), { body: { content: 'hello' } })
        .catch((caught: unknown) => caught);
      expect((error as DiscordAPIError).code).toBe(50001);
    }
    const seen: string[] = [];
    h.client.on(Events.MessageCreate, (message) => seen.push(message.content));
    await h.fake.postMessage({ user: traveller, channel, content: 'abroad' });
    await h.fake.postMessage({ user: traveller, channel: group, content: 'in the group' });
    await h.fake.postMessage({ user: traveller, channel: h.fake.openDm(traveller), content: 'to the bot' });
    // Events reach the bot in order: once the DM's is there, any from the server or the group would be too.
    for (let waited = 0; !seen.includes('to the bot') && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen).toEqual(['to the bot']);
  });

  it('lets no one use a command where the app is not installed or its contexts leave out', async () => {
    await registerGlobally([{ ...ANYWHERE, contexts: [InteractionContextType.Guild, InteractionContextType.BotDM] }]);
    const { traveller, guild, channel } = travellerAbroad();
    const stranger = h.fake.createUser({ username: 'stranger' });
    h.fake.addMember(guild, stranger);
    await expect(h.fake.sendSlashCommand({ user: stranger, channel, name: 'imagine' })).rejects.toThrow(
      /neither installed there/,
    );
    const group = h.fake.createPrivateChannel(traveller, stranger);
    await expect(h.fake.sendSlashCommand({ user: traveller, channel: group, name: 'imagine' })).rejects.toThrow(
      /interaction context 2/,
    );
  });

  it('marks a group DM as a private channel and the bot’s DM as a bot DM, each with Discord’s app permissions', async () => {
    await registerGlobally([ANYWHERE]);
    const { traveller } = travellerAbroad();
    const group = h.fake.createPrivateChannel(traveller, h.fake.member, h.fake.owner);
    const inGroup = await h.fake.sendSlashCommand({ user: traveller, channel: group, name: 'imagine' });
    expect(inGroup.payload['context']).toBe(InteractionContextType.PrivateChannel);
    expect(inGroup.payload['authorizing_integration_owners']).toEqual({ '1': traveller.id });
    const groupPermissions = BigInt(String(inGroup.payload['app_permissions']));
    expect(groupPermissions).toBe(
      PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks | PermissionFlagsBits.MentionEveryone,
    );
    const inDm = await h.fake.sendSlashCommand({ user: traveller, channel: h.fake.openDm(traveller), name: 'imagine' });
    expect(inDm.payload['context']).toBe(InteractionContextType.BotDM);
    expect(inDm.payload['authorizing_integration_owners']).toEqual({ '0': '0', '1': traveller.id });
  });
});
