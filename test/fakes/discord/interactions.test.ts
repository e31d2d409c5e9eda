import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  DiscordAPIError,
  Events,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Client,
  type Interaction,
} from 'discord.js';
import { describe, expect, it } from 'vitest';
import { useFakeDiscord } from './test-harness.js';

/** Resolves with the next interaction the client receives, after running `handle` on it. */
function nextInteraction<T>(client: Client, handle: (interaction: Interaction) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.once(Events.InteractionCreate, (interaction) => {
      handle(interaction).then(resolve, reject);
    });
  });
}

describe('slash commands against the real discord.js client', () => {
  const h = useFakeDiscord();

  it('delivers a command whose deferReply and editReply with files reach the fake with the bytes', async () => {
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      await interaction.deferReply();
      await interaction.editReply({ content: 'here it is', files: [{ attachment: image, name: 'fox.png' }] });
      return {
        prompt: interaction.options.getString('prompt'),
        count: interaction.options.getInteger('count'),
        channelId: interaction.channelId,
      };
    });
    const handle = await h.fake.sendSlashCommand({
      user: h.fake.member,
      channel: h.fake.channel,
      name: 'imagine',
      options: { prompt: 'a red fox', count: 2 },
    });
    await expect(handled).resolves.toEqual({ prompt: 'a red fox', count: 2, channelId: h.fake.channel.id });
    expect((await handle.waitForCallback()).type).toBe(5);
    const original = await handle.waitForOriginal((message) => message.attachments.length === 1);
    expect(original.content).toBe('here it is');
    expect(original.attachments[0]?.data.equals(image)).toBe(true);
    const edit = await handle.waitForEdit(1);
    expect(edit.params.messageId).toBe('@original');
    expect(edit.authorized).toBe(false);
    expect(edit.files).toEqual([expect.objectContaining({ fieldName: 'files[0]', filename: 'fox.png', data: image })]);
    h.fake.assertNoUnhandledCalls();
  });

  it('dispatches commands sent together in one go, each stamped when it leaves', async () => {
    const seen: string[] = [];
    const listener = (interaction: Interaction) => {
      if (!interaction.isChatInputCommand()) return;
      seen.push(interaction.options.getString('prompt') ?? '');
      void interaction.deferReply();
    };
    h.client.on(Events.InteractionCreate, listener);
    try {
      const before = Date.now();
      const handles = await h.fake.sendSlashCommands(
        ['one', 'two', 'three'].map((prompt) => ({
          user: h.fake.member,
          channel: h.fake.channel,
          name: 'imagine',
          options: { prompt },
        })),
      );
      await Promise.all(handles.map((handle) => handle.waitForCallback()));
      expect(seen).toEqual(['one', 'two', 'three']);
      for (const handle of handles) {
        expect(handle.record.createdAt).toBeGreaterThanOrEqual(before);
        expect(handle.record.deliveredTo).toBe(1);
      }
    } finally {
      h.client.off(Events.InteractionCreate, listener);
    }
  });

  it('types options from the registered command and resolves attachment options to downloadable URLs', async () => {
    const registered = await h.client.application.commands.set([
      {
        name: 'imagine',
        description: 'Make a picture',
        options: [
          { type: 3, name: 'prompt', description: 'What to draw', required: true },
          { type: 10, name: 'strength', description: 'How much to change' },
          { type: 11, name: 'image', description: 'Start from this image' },
        ],
      },
    ]);
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      await interaction.reply({ content: 'ok', flags: MessageFlags.Ephemeral });
      const attachment = interaction.options.getAttachment('image', true);
      const response = await fetch(attachment.url);
      return {
        strength: interaction.options.getNumber('strength'),
        bytes: Buffer.from(await response.arrayBuffer()).toString(),
        contentType: attachment.contentType,
        commandId: interaction.commandId,
      };
    });
    const handle = await h.fake.sendSlashCommand({
      user: h.fake.member,
      channel: h.fake.channel,
      name: 'imagine',
      options: { prompt: 'fox', strength: 1 },
      attachments: { image: { name: 'start.webp', data: 'not really webp' } },
    });
    const result = await handled;
    expect(result).toMatchObject({ strength: 1, bytes: 'not really webp', contentType: 'image/webp' });
    expect(result.commandId).toBe(registered.first()?.id);
    expect(handle.original?.flags).toBe(MessageFlags.Ephemeral);
    await expect(
      h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine', options: { nope: 1 } }),
    ).rejects.toThrow(/has no option "nope"/);
  });

  it('keeps editReply working after a thread was started on the response, and answers withResponse', async () => {
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      const response = await interaction.deferReply({ withResponse: true });
      const card = await interaction.editReply('card');
      const thread = await card.startThread({ name: 'session' });
      const edited = await interaction.editReply('card, edited');
      return { responseId: response.resource?.message?.id, cardId: card.id, thread, edited };
    });
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    const { responseId, cardId, thread, edited } = await handled;
    expect(responseId).toBe(cardId);
    expect(thread.id).toBe(cardId);
    expect(edited.hasThread).toBe(true);
    expect(edited.thread?.id).toBe(thread.id);
    expect(handle.original).toMatchObject({ content: 'card, edited', threadId: thread.id });
  });

  it('records followups and lets the bot fetch and delete its reply', async () => {
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      await interaction.reply('first');
      const followup = await interaction.followUp({ content: 'second' });
      const fetched = await interaction.fetchReply();
      await interaction.deleteReply();
      return { followupId: followup.id, fetchedContent: fetched.content };
    });
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'queue' });
    const { followupId, fetchedContent } = await handled;
    expect(fetchedContent).toBe('first');
    expect(handle.followups.map((m) => [m.id, m.content])).toEqual([[followupId, 'second']]);
    expect(handle.record.originalMessageId && h.fake.message(handle.record.originalMessageId).deleted).toBe(true);
  });
});

describe('interaction rules', () => {
  const h = useFakeDiscord({ ackDeadlineMs: 150, interactionTokenLifetimeMs: 60_000 });

  it('answers a callback after the deadline with 10062 Unknown interaction', async () => {
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      await new Promise((resolve) => setTimeout(resolve, 400));
      return interaction.deferReply().then(
        () => null,
        (error: unknown) => error,
      );
    });
    await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'slow' });
    const error = await handled;
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 10062, status: 404 });
  });

  it('answers a second callback with 40060 already acknowledged', async () => {
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'twice' });
    const url = `${h.fake.apiUrl}/v10/interactions/${handle.id}/${handle.token}/callback`;
    const post = () =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":5}' });
    expect((await post()).status).toBe(204);
    const second = await post();
    expect(second.status).toBe(400);
    expect(await second.json()).toEqual({ code: 40060, message: 'Interaction has already been acknowledged.' });
  });

  it('refuses webhook calls before the acknowledgement and callbacks for unknown interactions', async () => {
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'early' });
    const hook = `${h.fake.apiUrl}/v10/webhooks/${h.fake.applicationId}/${handle.token}`;
    const json = { 'content-type': 'application/json' };
    const followup = await fetch(`${hook}?wait=true`, { method: 'POST', headers: json, body: '{"content":"x"}' });
    expect(await followup.json()).toEqual({ message: 'Unknown Webhook', code: 10015 });
    const edit = await fetch(`${hook}/messages/%40original`, {
      method: 'PATCH',
      headers: json,
      body: '{"content":"x"}',
    });
    expect(await edit.json()).toEqual({ message: 'Unknown Message', code: 10008 });
    const unknown = await fetch(`${h.fake.apiUrl}/v10/interactions/123456789012345678/nope/callback`, {
      method: 'POST',
      headers: json,
      body: '{"type":5}',
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'Unknown interaction', code: 10062 });
  });

  it('rejects webhook calls with an expired token as 401 50027 Invalid Webhook Token', async () => {
    const handled = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      await interaction.deferReply();
      h.fake.expireInteraction(h.fake.interactions[0]!);
      return interaction.editReply('too late').then(
        () => null,
        (error: unknown) => error,
      );
    });
    await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    expect(await handled).toMatchObject({ code: 50027, status: 401 });
  });
});

describe('components, modals and autocomplete', () => {
  const h = useFakeDiscord();

  it('delivers a button press with its message, and an update edits that message', async () => {
    const replied = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId('reroll').setLabel('Reroll').setStyle(ButtonStyle.Primary),
      );
      await interaction.reply({ content: 'card', components: [row] });
    });
    const command = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    await replied;
    const card = await command.waitForOriginal();
    const pressed = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isButton()) throw new Error('expected a button');
      await interaction.update({ content: 'rerolling', components: [] });
      return { customId: interaction.customId, messageId: interaction.message.id };
    });
    const press = await h.fake.pressButton(card, 'reroll', h.fake.member);
    expect(await pressed).toEqual({ customId: 'reroll', messageId: card.id });
    expect((await press.waitForCallback()).type).toBe(7);
    expect(h.fake.message(card.id)).toMatchObject({ content: 'rerolling', components: [] });
    expect(() => h.fake.pressButton(card, 'reroll', h.fake.member)).toThrow(/no component/);
  });

  it('submits the modal the bot showed, mirroring its layout', async () => {
    const shown = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      const input = new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph);
      const modal = new ModalBuilder()
        .setCustomId('edit')
        .setTitle('Edit')
        .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input));
      await interaction.showModal(modal);
    });
    const command = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'edit' });
    await shown;
    expect(await command.waitForModal()).toMatchObject({ custom_id: 'edit', title: 'Edit' });
    const submitted = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isModalSubmit()) throw new Error('expected a modal submission');
      await interaction.reply('saved');
      return interaction.fields.getTextInputValue('prompt');
    });
    const submission = await h.fake.submitModal(command, { prompt: 'a blue fox' });
    expect(await submitted).toBe('a blue fox');
    expect((await submission.waitForOriginal()).content).toBe('saved');
  });

  it('delivers autocomplete with the focused option and records the choices', async () => {
    const answered = nextInteraction(h.client, async (interaction) => {
      if (!interaction.isAutocomplete()) throw new Error('expected autocomplete');
      const focused = interaction.options.getFocused(true);
      await interaction.respond([{ name: `${focused.value}-portrait`, value: 'portrait' }]);
      return focused.name;
    });
    const handle = await h.fake.autocomplete({
      user: h.fake.member,
      channel: h.fake.channel,
      name: 'imagine',
      options: { prompt: 'fox', workflow: 'por' },
      focused: 'workflow',
    });
    expect(await answered).toBe('workflow');
    expect(await handle.waitForChoices()).toEqual([{ name: 'por-portrait', value: 'portrait' }]);
  });
});
