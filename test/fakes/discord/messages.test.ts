import {
  ActionRowBuilder,
  ChannelType,
  DiscordAPIError,
  StringSelectMenuBuilder,
  Events,
  GatewayIntentBits,
  type Client,
  type Message,
  type ThreadChannel,
} from 'discord.js';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createTestClient } from './test-client.js';
import { useFakeDiscord } from './test-harness.js';

function nextMessage(client: Client, predicate: (m: Message) => boolean): Promise<Message> {
  return new Promise((resolve) => {
    const listener = (message: Message) => {
      if (!predicate(message)) return;
      client.off(Events.MessageCreate, listener);
      resolve(message);
    };
    client.on(Events.MessageCreate, listener);
  });
}

describe('messages and threads against the real discord.js client', () => {
  const h = useFakeDiscord();

  it('delivers a member reply in a thread the bot started, with the reference and the bot mention', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable() || !('threads' in channel)) throw new Error('expected #general to be a text channel');
    const card = await channel.send('your picture');
    const thread = await card.startThread({ name: 'a red fox' });
    expect(thread.id).toBe(card.id);
    expect(h.fake.threads(h.fake.channel)).toEqual([expect.objectContaining({ id: card.id, name: 'a red fox' })]);
    const starter = await thread.send('reply here to refine');
    const received = nextMessage(h.client, (m) => m.author.id === h.fake.member.id);
    await h.fake.postMessage({
      user: h.fake.member,
      channel: thread.id,
      content: `<@${h.fake.botUser.id}> make it blue`,
      replyTo: starter.id,
    });
    const message = await received;
    expect(message.channelId).toBe(thread.id);
    expect(message.content).toBe(`<@${h.fake.botUser.id}> make it blue`);
    expect(message.reference?.messageId).toBe(starter.id);
    expect(message.mentions.users.has(h.client.user.id)).toBe(true);
    h.fake.assertNoUnhandledCalls();
  });

  it('serves the files members post so the bot can download them', async () => {
    const received = nextMessage(h.client, (m) => m.author.id === h.fake.member.id);
    await h.fake.postMessage({
      user: h.fake.member,
      channel: h.fake.channel,
      content: 'use this',
      attachments: [{ name: 'start.png', data: Buffer.from('png bytes') }],
    });
    const attachment = (await received).attachments.first();
    expect(attachment).toMatchObject({ name: 'start.png', contentType: 'image/png', size: 9 });
    const response = await fetch(attachment?.url ?? '');
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('png bytes');
    expect(h.fake.downloads).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it('gives image attachments their width and height, as Discord does', async () => {
    const pixels = { width: 3, height: 2, channels: 3 as const };
    const png = await sharp({ create: { ...pixels, background: '#f00' } })
      .png()
      .toBuffer();
    const jpeg = await sharp({ create: { ...pixels, width: 5, height: 4, background: '#0f0' } })
      .jpeg()
      .toBuffer();
    const received = nextMessage(h.client, (m) => m.author.id === h.fake.member.id && m.attachments.size === 3);
    await h.fake.postMessage({
      user: h.fake.member,
      channel: h.fake.channel,
      attachments: [
        { name: 'a.png', data: png },
        { name: 'b.jpg', data: jpeg },
        { name: 'notes.txt', data: 'not an image' },
      ],
    });
    const sizes = [...(await received).attachments.values()].map(({ width, height }) => [width, height]);
    expect(sizes).toEqual([
      [3, 2],
      [5, 4],
      [null, null],
    ]);
  });

  it('answers a send without a needed permission with DiscordAPIError 50013 and reflects it in app_permissions', async () => {
    h.fake.denyBotPermissions(h.fake.channel, ['AttachFiles']);
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    const failure = await channel.send({ files: [{ attachment: Buffer.from('x'), name: 'x.png' }] }).catch((e) => e);
    expect(failure).toBeInstanceOf(DiscordAPIError);
    expect(failure).toMatchObject({ code: 50013, status: 403 });
    await expect(channel.send('text still works')).resolves.toMatchObject({ content: 'text still works' });
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    const appPermissions = BigInt(String(handle.payload.app_permissions));
    expect(appPermissions & (1n << 15n)).toBe(0n);
    expect(appPermissions & (1n << 11n)).toBe(1n << 11n);
  });

  it('caches threads announced by THREAD_CREATE so their messages arrive', async () => {
    const opener = await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content: 'look' });
    const thread = h.fake.createThread(h.fake.channel, 'member thread', h.fake.member, opener);
    const received = nextMessage(h.client, (m) => m.channelId === thread.id);
    await h.fake.postMessage({ user: h.fake.member, channel: thread, content: 'in the thread' });
    expect((await received).content).toBe('in the thread');
  });

  it('carries direct messages both ways', async () => {
    const dm = h.fake.openDm(h.fake.member);
    const received = nextMessage(h.client, (m) => m.channelId === dm.id);
    await h.fake.postMessage({ user: h.fake.member, channel: dm, content: 'hi bot' });
    const message = await received;
    expect(message.channel.type).toBe(ChannelType.DM);
    expect(message.content).toBe('hi bot');
    await message.author.send('hello member');
    expect(h.fake.messagesIn(dm).map((m) => m.content)).toEqual(['hi bot', 'hello member']);
  });

  it('refuses bodies that break Discord limits with 50035 and empty messages with 50006', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    const tooLong = await channel.send('x'.repeat(2001)).catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ code: 50035, status: 400 });
    expect((tooLong as DiscordAPIError).rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
    await expect(channel.send({ content: '' })).rejects.toMatchObject({ code: 50006 });
  });

  it('delivers a select menu choice and checks it against the offered options', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    const menu = new StringSelectMenuBuilder()
      .setCustomId('aspect')
      .addOptions({ label: 'Square', value: '1:1' }, { label: 'Wide', value: '16:9' });
    const sent = await channel.send({
      content: 'pick',
      components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu)],
    });
    const picked = new Promise<string[]>((resolve) =>
      h.client.once(Events.InteractionCreate, (interaction) => {
        if (!interaction.isStringSelectMenu()) return;
        void interaction.deferUpdate().then(() => resolve(interaction.values));
      }),
    );
    const handle = await h.fake.selectMenu(sent.id, 'aspect', ['16:9'], h.fake.member);
    expect(await picked).toEqual(['16:9']);
    expect((await handle.waitForCallback()).type).toBe(6);
    expect(() => h.fake.selectMenu(sent.id, 'aspect', ['4:3'], h.fake.member)).toThrow(/does not offer 4:3/);
  });

  it('blanks message content for a client without the MessageContent intent unless it is mentioned', async () => {
    const reader = await createTestClient(h.fake, {
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    });
    try {
      const plain = nextMessage(reader, (m) => m.author.id === h.fake.member.id && !m.content.includes('<@'));
      await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content: 'secret' });
      expect((await plain).content).toBe('');
      const mention = nextMessage(reader, (m) => m.content.length > 0);
      await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content: `<@${h.fake.botUser.id}> hi` });
      expect((await mention).content).toBe(`<@${h.fake.botUser.id}> hi`);
    } finally {
      await reader.destroy();
    }
  });
});

describe('attachment size limit', () => {
  const h = useFakeDiscord({ attachmentSizeLimit: 1024 });

  it('tells interactions the limit and refuses a larger upload with 413 40005', async () => {
    const outcome = new Promise<unknown>((resolve) => {
      h.client.once(Events.InteractionCreate, (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        void (async () => {
          await interaction.deferReply();
          const big = { attachment: Buffer.alloc(2048), name: 'big.png' };
          const error = await interaction.editReply({ files: [big] }).catch((e: unknown) => e);
          resolve({ limit: interaction.attachmentSizeLimit, error });
        })();
      });
    });
    await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    const { limit, error } = (await outcome) as { limit: number; error: unknown };
    expect(limit).toBe(1024);
    expect(error).toMatchObject({ status: 413, code: 40005 });
  });
});

describe('thread lifecycle and message history', () => {
  const h = useFakeDiscord();

  it('reopens an archived thread when the bot posts, and refuses a locked one with 50083', async () => {
    const opener = await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content: 'start' });
    const created = new Promise<ThreadChannel>((resolve) => h.client.once(Events.ThreadCreate, resolve));
    const thread = h.fake.createThread(h.fake.channel, 'session', h.fake.member, opener);
    const cached = await created;
    const archived = new Promise<void>((resolve) => h.client.once(Events.ThreadUpdate, () => resolve()));
    h.fake.archiveThread(thread);
    await archived;
    expect(cached.archived).toBe(true);
    await expect(cached.send('back again')).resolves.toMatchObject({ content: 'back again' });
    expect(thread.thread?.archived).toBe(false);
    h.fake.archiveThread(thread, true);
    await expect(cached.send('not allowed')).rejects.toMatchObject({ code: 50083 });
  });

  it('lists channel messages newest first and records the bot reactions', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isTextBased() || !channel.isSendable()) throw new Error('expected a text channel');
    for (const content of ['one', 'two', 'three']) {
      await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content });
    }
    const fetched = await channel.messages.fetch({ limit: 2 });
    expect([...fetched.values()].map((m) => m.content)).toEqual(['three', 'two']);
    await fetched.first()?.react('✅');
    expect(h.fake.messagesIn(h.fake.channel).at(-1)?.reactions).toEqual(['✅']);
    h.fake.assertNoUnhandledCalls();
  });
  it('returns the first message for a repeated nonce with enforce_nonce, as Discord does, and posts without it', async () => {
    const post = (body: Record<string, unknown>) =>
      h.client.rest.post(`/channels/${h.fake.channel.id}/messages`, { body }) as Promise<{ id: string }>;
    const first = await post({ content: 'once', nonce: 'delivery-1', enforce_nonce: true });
    const again = await post({ content: 'once', nonce: 'delivery-1', enforce_nonce: true });
    expect(again.id).toBe(first.id);
    const unenforced = await post({ content: 'once', nonce: 'delivery-1' });
    expect(unenforced.id).not.toBe(first.id);
    const other = await post({ content: 'once', nonce: 'delivery-2', enforce_nonce: true });
    expect(other.id).not.toBe(first.id);
  });
});
