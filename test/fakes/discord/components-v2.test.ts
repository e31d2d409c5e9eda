import { ComponentType, DiscordAPIError, MessageFlags, Routes } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { useFakeDiscord } from './test-harness.js';

const V2 = MessageFlags.IsComponentsV2;
const text = (content: string) => ({ type: ComponentType.TextDisplay, content });
const gallery = (count: number) => ({
  type: ComponentType.MediaGallery,
  items: Array.from({ length: count }, (_, index) => ({ media: { url: `attachment://image-${index}.png` } })),
});
const button = (id: string) => ({ type: ComponentType.Button, style: 2, custom_id: id, label: id });
const card = {
  type: ComponentType.Container,
  accent_color: 0x57f287,
  components: [
    text('**a red fox** in the snow'),
    gallery(2),
    { type: ComponentType.Separator, divider: true, spacing: 1 },
    { type: ComponentType.Section, components: [text('Image 1')], accessory: button('upscale:job:0') },
    { type: ComponentType.ActionRow, components: [button('reroll:job'), button('edit:job')] },
  ],
};

describe('Components V2 messages', () => {
  const h = useFakeDiscord();

  /** Two small files, uploaded as `image-0.png` and `image-1.png` (what `gallery(2)` points at). */
  const images = (count = 2) =>
    Array.from({ length: count }, (_, index) => ({ name: `image-${index}.png`, data: Buffer.from([index]) }));

  async function post(body: Record<string, unknown>, files: { name: string; data: Buffer }[] = []) {
    const route = Routes.channelMessages(h.fake.channel.id);
    return (await h.client.rest.post(route, { body, files })) as { id: string };
  }

  async function refusal(send: Promise<unknown>): Promise<number | undefined> {
    const error = await send.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return error instanceof DiscordAPIError ? Number(error.code) : undefined;
  }

  it('takes a card of a container, text, a gallery, a separator, a section and buttons', async () => {
    const posted = await post({ flags: V2, components: [card] }, images());
    expect(h.fake.message(posted.id).flags & V2).toBe(V2);
  });

  it('takes 40 components and 4,000 characters of text, nested ones counted', async () => {
    const texts = Array.from({ length: 39 }, (_, index) => text(index === 0 ? 'x'.repeat(3962) : 'y'));
    const posted = await post({ flags: V2, components: [{ type: ComponentType.Container, components: texts }] });
    expect(h.fake.message(posted.id).components).toHaveLength(1);
    const tooMany = [...texts, text('z')];
    expect(
      await refusal(post({ flags: V2, components: [{ type: ComponentType.Container, components: tooMany }] })),
    ).toBe(50035);
    const tooLong = texts.map((component, index) => (index === 1 ? text('yy') : component));
    expect(
      await refusal(post({ flags: V2, components: [{ type: ComponentType.Container, components: tooLong }] })),
    ).toBe(50035);
  });

  it('refuses an attachment:// reference to a file the message does not have', async () => {
    expect(await refusal(post({ flags: V2, components: [gallery(2)] }, images(1)))).toBe(50035);
    const thumbnail = { type: ComponentType.Thumbnail, media: { url: 'attachment://missing.png' } };
    const section = { type: ComponentType.Section, components: [text('a')], accessory: thumbnail };
    expect(await refusal(post({ flags: V2, components: [section] }, images(1)))).toBe(50035);
    const file = { type: ComponentType.File, file: { url: 'attachment://notes.txt' } };
    expect(await refusal(post({ flags: V2, components: [file] }))).toBe(50035);
  });

  it('checks an edit’s references against the files the message has after it: kept, replaced or gone', async () => {
    const posted = await post({ flags: V2, components: [gallery(2)] }, images());
    const route = Routes.channelMessage(h.fake.channel.id, posted.id);
    const kept = h.fake.message(posted.id).attachments.map((attachment) => ({ id: attachment.id }));
    // Keeping both attachments by id, the gallery still finds them.
    await h.client.rest.patch(route, { body: { components: [text('still here'), gallery(2)], attachments: kept } });
    // Keeping only the first, a reference to the second misses.
    const onlyFirst = { components: [gallery(2)], attachments: kept.slice(0, 1) };
    expect(await refusal(h.client.rest.patch(route, { body: onlyFirst }))).toBe(50035);
    // A new upload in place of both is found by its name.
    const replaced = { components: [gallery(1)], attachments: [{ id: 0, filename: 'image-0.png' }] };
    await h.client.rest.patch(route, { body: replaced, files: images(1) });
    expect(h.fake.message(posted.id).attachments.map((attachment) => attachment.filename)).toEqual(['image-0.png']);
  });

  it('turns a message into a V2 one only when the same edit clears its content and embeds', async () => {
    const posted = await post({ content: 'plain', embeds: [{ description: 'old' }] });
    const route = Routes.channelMessage(h.fake.channel.id, posted.id);
    expect(await refusal(h.client.rest.patch(route, { body: { flags: V2, components: [text('new')] } }))).toBe(50035);
    // Embeds are cleared with [] on that edit; null leaves them (discord-api-docs issue 7787).
    const withNull = { flags: V2, content: null, embeds: null, components: [text('new')] };
    expect(await refusal(h.client.rest.patch(route, { body: withNull }))).toBe(50035);
    await h.client.rest.patch(route, { body: { flags: V2, content: null, embeds: [], components: [text('new')] } });
    const message = h.fake.message(posted.id);
    expect([message.flags & V2, message.content, message.embeds]).toEqual([V2, '', []]);
  });

  it('mentions whom its Text Displays mention, as allowed_mentions allows', async () => {
    const member = h.fake.member;
    const other = h.fake.createUser({ username: 'other' }, h.fake.guild);
    const posted = await post({
      flags: V2,
      components: [text(`<@${member.id}> your picture`), text(`<@${other.id}> someone else`)],
      allowed_mentions: { users: [member.id] },
    });
    expect(h.fake.message(posted.id).mentionUserIds).toEqual([member.id]);
  });

  it.each([
    ['content beside the flag', { flags: V2, content: 'hello', components: [text('hi')] }],
    ['embeds beside the flag', { flags: V2, embeds: [{ description: 'x' }], components: [text('hi')] }],
    ['more than 40 components', { flags: V2, components: Array.from({ length: 41 }, (_, i) => text(`line ${i}`)) }],
    ['more than 4,000 characters of text', { flags: V2, components: [text('x'.repeat(2001)), text('y'.repeat(2000))] }],
    ['an empty gallery', { flags: V2, components: [gallery(0)] }],
    ['a gallery of eleven', { flags: V2, components: [gallery(11)] }],
    [
      'a section without accessory',
      { flags: V2, components: [{ type: ComponentType.Section, components: [text('a')] }] },
    ],
    ['a container in a container', { flags: V2, components: [{ ...card, components: [card] }] }],
    ['a duplicate custom id', { flags: V2, components: [{ type: 1, components: [button('a'), button('a')] }] }],
  ])('refuses %s with 50035', async (_what, body) => {
    expect(await refusal(post(body))).toBe(50035);
  });

  it('keeps a message V2 for good: an edit cannot drop the flag or bring content back', async () => {
    const posted = await post({ flags: V2, components: [card] }, images());
    const route = Routes.channelMessage(h.fake.channel.id, posted.id);
    expect(await refusal(h.client.rest.patch(route, { body: { flags: 0, content: 'plain again' } }))).toBe(50035);
    expect(await refusal(h.client.rest.patch(route, { body: { content: 'sneaked in' } }))).toBe(50035);
    await h.client.rest.patch(route, { body: { components: [text('edited')] } });
    expect(h.fake.message(posted.id).components).toEqual([text('edited')]);
    expect(h.fake.message(posted.id).flags & V2).toBe(V2);
  });
});
