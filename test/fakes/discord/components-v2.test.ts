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

  async function post(body: Record<string, unknown>) {
    return (await h.client.rest.post(Routes.channelMessages(h.fake.channel.id), { body })) as { id: string };
  }

  async function refusal(send: Promise<unknown>): Promise<number | undefined> {
    const error = await send.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return error instanceof DiscordAPIError ? Number(error.code) : undefined;
  }

  it('takes a card of a container, text, a gallery, a separator, a section and buttons', async () => {
    const posted = await post({ flags: V2, components: [card] });
    expect(h.fake.message(posted.id).flags & V2).toBe(V2);
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
    const posted = await post({ flags: V2, components: [card] });
    const route = Routes.channelMessage(h.fake.channel.id, posted.id);
    expect(await refusal(h.client.rest.patch(route, { body: { flags: 0, content: 'plain again' } }))).toBe(50035);
    expect(await refusal(h.client.rest.patch(route, { body: { content: 'sneaked in' } }))).toBe(50035);
    await h.client.rest.patch(route, { body: { components: [text('edited')] } });
    expect(h.fake.message(posted.id).components).toEqual([text('edited')]);
    expect(h.fake.message(posted.id).flags & V2).toBe(V2);
  });
});
